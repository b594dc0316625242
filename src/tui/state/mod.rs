//! The Model (plain data) and the pure `update(Msg) -> Vec<Cmd>`. No I/O, no terminal, no
//! clock: time arrives in `Msg::Tick`.

pub mod background;
pub mod cmd;
pub mod copied;
pub mod demo;
pub mod derived;
pub mod field;
pub mod follow;
pub mod ids;
pub mod keymap;
pub mod log;
pub mod msg;
pub mod review;
pub mod rotate;
pub mod settings;
pub mod wizard;

use crate::model::Server;
use crate::model::health::Health;
use crate::services::browser::Situation;
use cmd::Cmd;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use keymap::{Action, Ctx};
use msg::{Msg, RunId, Snapshot};
use std::collections::BTreeMap;
use std::time::Duration;
use wizard::guide::Page;
use wizard::{Effect, Step, StepCtx, StepEvent, Wizard};

/// Facts about where the app runs, fixed at start.
#[derive(Debug, Clone, PartialEq)]
pub struct Env {
    pub situation: Situation,
    /// Where the log file is (shown in help).
    pub log_path: String,
    /// False under NO_COLOR.
    pub color: bool,
    /// Emit OSC 8 hyperlinks (off in snapshots).
    pub hyperlinks: bool,
    /// Running as `inbound demo` (DEMO in the header, prefilled wizard, sign-in key).
    pub demo: Option<demo::Demo>,
}

impl Default for Env {
    fn default() -> Self {
        Self {
            situation: Situation {
                ssh: false,
                display: false,
                ssh_target: None,
            },
            log_path: String::new(),
            color: true,
            hyperlinks: false,
            demo: None,
        }
    }
}

/// In a narrow terminal only one pane shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    List,
    Main,
}

#[derive(Debug, Clone)]
pub enum Screen {
    Review,
    Wizard(Box<Wizard>),
}

/// Lines PgUp/PgDn move the help popup.
const HELP_PAGE: u16 = 10;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Popup {
    Help,
    ConfirmDelete(String),
    ConfirmQuit,
    /// The new-client-secret form.
    Rotate(Box<rotate::Rotation>),
    /// Microsoft could not check a new secret: save it unchecked? The new-secret form that
    /// asked (with why), or `None` when the wizard's renewal asked (its form holds why).
    ConfirmUnchecked(Option<Box<rotate::Rotation>>),
    /// The settings form.
    Settings(Box<settings::SettingsForm>),
    /// A test or refresh of many servers (its data is `Model::bulk`).
    Bulk,
    /// Every status line of the session (its data is `Model::log`).
    Log,
    /// Import servers from a file: the path and how far the import is.
    Import(Box<review::import::ImportForm>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Info,
    Ok,
    Warn,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub text: String,
    pub tone: Tone,
    /// The screen it belongs to (stamped after the update that said it, so a message said just
    /// before a step change belongs to the new step); on another screen it is stale and goes,
    /// unless it is a result (`Tone::Ok`).
    pub screen: Option<ScreenKey>,
    /// Goes as soon as the form has no errors left ("fields need attention").
    pub until_fixed: bool,
    /// A result already carried onto the screen after the one it was said on.
    pub carried: bool,
}

/// Which screen a status line was said on: the review, or a wizard step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScreenKey(Option<Step>);

#[derive(Debug, Clone)]
pub struct Model {
    pub now: Timestamp,
    pub tz: TimeZone,
    pub env: Env,
    pub data: Snapshot,
    pub selected: usize,
    pub pane: Pane,
    pub screen: Screen,
    /// A new-server wizard left at step 1 (resumed by `n`).
    pub draft: Option<Box<Wizard>>,
    pub popup: Option<Popup>,
    pub help_scroll: u16,
    /// The dialog (settings, new secret) that help or the quit question was opened over:
    /// shown again, as it was, when that closes.
    pub covered: Option<Popup>,
    pub status: Option<Status>,
    /// The selected server's secret is shown in clear.
    pub reveal: bool,
    /// Lines the details pane is scrolled down.
    pub details_scroll: u16,
    /// The refreshes started by a saved secret rotation.
    pub rotation_report: Option<rotate::RotationReport>,
    pub next_run: RunId,
    /// Token refreshes in flight, by server.
    pub refreshing: BTreeMap<String, RunId>,
    /// The refresh the user asked for with `r`.
    pub manual_refresh: Option<RunId>,
    pub deleting: Option<RunId>,
    /// Spinner frame, advanced by ticks.
    pub frame: u64,
    pub quit: bool,
    /// Quit because of a signal or the end of input.
    pub interrupted: bool,
    /// The signal that ended the app, if one did (the exit code is 128 + its number).
    pub signal: Option<&'static str>,
    /// What was copied this session (name, text): printed to the scrollback at exit, the copy
    /// that cannot fail.
    pub copied: Vec<(String, String)>,
    /// Summaries over all servers, kept current by `update`.
    pub derived: derived::Derived,
    /// The list's order, find and toggle.
    pub view: review::view::ListView,
    /// Servers marked for work on many, by name.
    pub marks: std::collections::BTreeSet<String>,
    /// The last (or running) test or refresh of many servers.
    pub bulk: Option<Box<review::bulk::Bulk>>,
    /// Servers still to sign in, one after another (from a batch's summary).
    pub sign_in_queue: Vec<String>,
    /// Reads of the store for changes made by other processes.
    pub follow: follow::Follow,
    /// Every status line of the session, oldest first.
    pub log: Vec<log::LogLine>,
    /// How many lines the log popup is scrolled up from its newest line.
    pub log_scroll: u16,
    /// When each refresh in `refreshing` started.
    pub refresh_since: BTreeMap<String, Timestamp>,
}

impl Model {
    pub fn new(data: Snapshot, now: Timestamp, tz: TimeZone, env: Env) -> Self {
        let mut model = Self {
            now,
            tz,
            env,
            data,
            selected: 0,
            pane: Pane::List,
            screen: Screen::Review,
            draft: None,
            popup: None,
            help_scroll: 0,
            covered: None,
            status: None,
            reveal: false,
            details_scroll: 0,
            rotation_report: None,
            next_run: 1,
            refreshing: BTreeMap::new(),
            manual_refresh: None,
            deleting: None,
            frame: 0,
            quit: false,
            interrupted: false,
            signal: None,
            copied: Vec::new(),
            derived: derived::Derived::default(),
            view: review::view::ListView::default(),
            marks: std::collections::BTreeSet::new(),
            bulk: None,
            sign_in_queue: Vec::new(),
            follow: follow::Follow::default(),
            log: Vec::new(),
            log_scroll: 0,
            refresh_since: BTreeMap::new(),
        };
        model.reindex();
        model.rederive();
        model
    }

    pub fn servers(&self) -> &[Server] {
        &self.data.config.servers
    }

    /// True when the selected server's details show a time so near now that it is written in
    /// seconds (countdowns, "just refreshed").
    fn shows_seconds(&self) -> bool {
        let Some(server) = self.selected_server() else {
            return false;
        };
        let near = |t: Timestamp| t.duration_since(self.now).abs() < jiff::SignedDuration::from_secs(120);
        let tokens = self.data.tokens.get(&server.name).and_then(|f| f.tokens.as_ref());
        tokens.is_some_and(|t| near(t.expires_at) || near(t.refreshed_at) || near(t.issued_at))
            || server.last_test.as_ref().is_some_and(|t| near(t.at))
    }

    /// The selected server; `None` when a find matches nothing.
    pub fn selected_server(&self) -> Option<&Server> {
        if self.view.shown.is_empty() {
            return None;
        }
        self.servers().get(self.selected)
    }

    pub fn health(&self, server: &Server) -> Health {
        self.data.health(server, self.now)
    }

    pub fn wizard(&self) -> Option<&Wizard> {
        match &self.screen {
            Screen::Wizard(w) => Some(w),
            Screen::Review => None,
        }
    }

    pub(crate) fn run_id(&mut self) -> RunId {
        let r = self.next_run;
        self.next_run += 1;
        r
    }

    pub(crate) fn say(&mut self, tone: Tone, text: impl Into<String>) {
        let text = text.into();
        self.log_status(tone, &text);
        self.status = Some(Status {
            text,
            tone,
            screen: None,
            until_fixed: false,
            carried: false,
        });
    }

    /// "Some fields need attention", which goes away once no field is marked.
    pub(crate) fn say_fields_need_attention(&mut self) {
        self.say(Tone::Warn, "Some fields need attention (marked ✖).");
        if let Some(s) = self.status.as_mut() {
            s.until_fixed = true;
        }
    }

    /// Drops a status line that no longer tells the truth: said on another screen, or about
    /// form errors that are all fixed.
    fn settle_status(&mut self) {
        let here = ScreenKey(self.wizard().map(|w| w.step));
        let fixed = self.wizard().is_none_or(|w| w.form.fields.errors.is_empty());
        let Some(s) = self.status.as_mut() else { return };
        match s.screen {
            None => s.screen = Some(here),
            // A result ("… is Confirmed") stays true on the next screen, not on every later
            // one; instructions and warnings ("press n", "details above") belong to the screen
            // they were said on.
            Some(k) if k != here && (s.tone != Tone::Ok || s.carried) => self.status = None,
            Some(k) if k != here => {
                s.carried = true;
                s.screen = Some(here);
            }
            Some(_) => {}
        }
        if self.status.as_ref().is_some_and(|s| s.until_fixed) && fixed {
            self.status = None;
        }
    }

    /// The context of the screen under any popup.
    pub fn screen_ctx(&self) -> Ctx {
        match self.wizard().map(|w| w.step) {
            None if self.view.typing => Ctx::Filter,
            None => Ctx::Review,
            Some(Step::Register) => match self.wizard().map(|w| (w.guide.page, w.script.focused)) {
                Some((Page::Choose, _)) => Ctx::GuideChoose,
                Some((Page::Apps, _)) => Ctx::GuideApps,
                Some((Page::Script, true)) => Ctx::ScriptCode,
                Some((Page::Script, false)) => Ctx::Script,
                _ => Ctx::GuideRegister,
            },
            Some(Step::Permissions) => Ctx::Guide,
            Some(Step::Secret) => Ctx::GuideText,
            Some(Step::Form) => Ctx::Form,
            Some(Step::Connect) => match self.wizard() {
                Some(w) if w.paste.focused => Ctx::ConnectPaste,
                Some(w)
                    if w.admin
                        .as_ref()
                        .is_some_and(|a| matches!(a.route, wizard::admin::AdminRoute::Waiting { .. })) =>
                {
                    Ctx::AdminWaiting
                }
                Some(w) if w.admin.is_some() => Ctx::AdminConsent,
                Some(w) if w.device.shown() => Ctx::Device,
                Some(w) => Ctx::Connect {
                    waiting: matches!(w.connect, wizard::connect::Connect::Waiting { .. }),
                },
                None => Ctx::Connect { waiting: true },
            },
            Some(Step::Token) => Ctx::Token,
            Some(Step::Exchange) => Ctx::Exchange,
            Some(Step::Test) => Ctx::Test {
                app_only: self.wizard_app_only(),
            },
        }
    }

    /// True when the wizard on screen works on a stored app-only server.
    fn wizard_app_only(&self) -> bool {
        self.wizard()
            .and_then(|w| w.server.as_deref())
            .and_then(|n| self.data.config.server(n))
            .is_some_and(|s| s.auth == crate::model::AuthKind::OAuth2App)
    }

    /// The contexts of the screen itself (under any popup), for the sentences it shows.
    pub fn screen_contexts(&self) -> Vec<Ctx> {
        let screen = self.screen_ctx();
        let demo = self.env.demo.is_some()
            && matches!(screen, Ctx::Connect { .. } | Ctx::Device | Ctx::AdminWaiting);
        let mut ctxs = if demo { vec![Ctx::DemoConnect] } else { Vec::new() };
        ctxs.extend([screen, Ctx::Global]);
        ctxs
    }

    /// The key for `action` on the screen shown, if it binds one.
    pub fn key(&self, action: Action) -> Option<String> {
        keymap::key_for(&self.screen_contexts(), action)
    }

    /// "Enter starts the sign-in · d device code" for the screen shown.
    pub fn keys_line(&self, items: &[(Action, &str)]) -> String {
        keymap::keys_line(&self.screen_contexts(), items)
    }

    /// Contexts for key resolution, first match wins.
    pub fn contexts(&self) -> Vec<Ctx> {
        match self.popup {
            Some(Popup::Help) => vec![Ctx::Help, Ctx::Global],
            Some(Popup::ConfirmDelete(_) | Popup::ConfirmQuit | Popup::ConfirmUnchecked(_)) => {
                vec![Ctx::Confirm, Ctx::Global]
            }
            Some(Popup::Rotate(_)) => vec![Ctx::Rotate, Ctx::Global],
            Some(Popup::Settings(_)) => vec![Ctx::Settings, Ctx::Global],
            Some(Popup::Bulk) if self.bulk.as_ref().is_some_and(|b| b.running()) => {
                vec![Ctx::Bulk, Ctx::Global]
            }
            Some(Popup::Bulk) => vec![Ctx::BulkDone, Ctx::Global],
            Some(Popup::Log) => vec![Ctx::Log, Ctx::Global],
            Some(Popup::Import(_)) => vec![Ctx::Import, Ctx::Global],
            None => self.screen_contexts(),
        }
    }

    /// True when unbound keys are typed into a field.
    pub fn text_focused(&self) -> bool {
        match self.popup {
            Some(Popup::Rotate(_) | Popup::Settings(_) | Popup::Import(_)) => return true,
            Some(_) => return false,
            None => {}
        }
        match self.wizard() {
            Some(w) if w.step == Step::Register && w.guide.page == Page::Script => w.script.focused,
            Some(w) if matches!(w.step, Step::Register | Step::Secret) => w.guide.typing(w.step),
            Some(w) if w.step == Step::Form => w.form.focus_is_text(),
            Some(w) if w.step == Step::Connect => w.paste.focused,
            None => self.view.typing,
            _ => false,
        }
    }

    /// Work the user started that quitting would interrupt.
    pub fn work_running(&self) -> bool {
        self.wizard().is_some_and(Wizard::busy)
            || self.deleting.is_some()
            || self.rotation().is_some_and(|r| r.save_run.is_some())
            || self.bulk.as_ref().is_some_and(|b| b.running())
            || self.import_running()
    }

    /// Something on screen moves (spinner): tick fast.
    pub fn animating(&self) -> bool {
        self.work_running() || !self.refreshing.is_empty()
    }

    /// How long the runtime may sleep before the next `Tick`: fast while something animates,
    /// else until the next minute (countdowns) or the next refresh due; `None` when nothing
    /// on screen depends on the clock.
    pub fn next_wake(&self) -> Option<Duration> {
        if self.animating() {
            return Some(Duration::from_millis(100));
        }
        let mut wake: Option<Timestamp> = None;
        let mut earlier = |t: Timestamp| {
            if wake.is_none_or(|w| t < w) {
                wake = Some(t);
            }
        };
        if let Some(t) = self.derived.earliest_due {
            earlier(t);
        }
        if self.derived.any_tokens {
            let secs = self.now.as_second();
            earlier(Timestamp::from_second(secs - secs.rem_euclid(60) + 60).unwrap_or(self.now));
        }
        // A time shown in seconds ("in 13 s", "8 s ago") must tick every second while shown.
        if self.shows_seconds() {
            earlier(self.now + jiff::SignedDuration::from_secs(1));
        }
        let secs = wake?.duration_since(self.now).as_secs_f64();
        Some(Duration::from_secs_f64(secs.clamp(1.0, 3600.0)))
    }

    pub fn update(&mut self, msg: Msg) -> Vec<Cmd> {
        let cmds = self.apply(msg);
        self.settle_status();
        self.track_refresh_times();
        cmds
    }

    /// When each refresh under way started (the details show how long it has run against
    /// its time-out), whichever path started it.
    fn track_refresh_times(&mut self) {
        let refreshing = &self.refreshing;
        self.refresh_since.retain(|name, _| refreshing.contains_key(name));
        for name in self.refreshing.keys() {
            if !self.refresh_since.contains_key(name) {
                self.refresh_since.insert(name.clone(), self.now);
            }
        }
    }

    fn apply(&mut self, msg: Msg) -> Vec<Cmd> {
        match msg {
            Msg::Tick(now) => {
                self.now = now;
                self.frame = self.frame.wrapping_add(1);
                self.rederive_if_stale();
                self.schedule_refreshes()
            }
            Msg::Resize => Vec::new(),
            Msg::Signal(name) => {
                self.interrupted = true;
                self.signal = Some(name);
                self.quit_now()
            }
            Msg::StoreChanged => self.on_store_changed(),
            Msg::Loaded(Ok(data)) => {
                let selected = self.selected_server().map(|s| s.name.clone());
                self.data = data;
                self.selected = self.selected.min(self.servers().len().saturating_sub(1));
                self.reindex();
                self.keep_selected(selected);
                self.rederive();
                let mut cmds = self.schedule_refreshes();
                cmds.extend(self.on_store_read());
                cmds
            }
            Msg::Loaded(Err(e)) => {
                self.say(Tone::Error, format!("cannot read the store: {e}"));
                self.on_store_read()
            }
            Msg::Action(a) => self.on_action(a),
            Msg::Text(key) => {
                match &mut self.popup {
                    Some(Popup::Rotate(r)) => {
                        r.fields.key(key);
                    }
                    Some(Popup::Settings(s)) => {
                        s.fields.key(key);
                    }
                    Some(Popup::Import(form)) => form.key(key),
                    _ => {}
                }
                if self.popup.is_none() && self.view.typing && self.wizard().is_none() {
                    self.find_key(key);
                } else if self.popup.is_none() {
                    return self.wizard_event(StepEvent::Text(key));
                }
                Vec::new()
            }
            Msg::Paste(text) => self.on_paste(&text),
            Msg::Mouse(pointer) => {
                self.on_pointer(pointer);
                Vec::new()
            }
            Msg::Saved { run, result } => self.wizard_event(StepEvent::Saved(run, result)),
            Msg::Copied { what, result } => self.on_copied(&what, result),
            Msg::Deleted { run, name, result } => self.on_deleted(run, &name, result),
            Msg::Consent { run, event } => self.wizard_event(StepEvent::Consent(run, event)),
            Msg::Preflight { run, event } => self.wizard_event(StepEvent::Preflight(run, event)),
            Msg::Test { run, event } => self.wizard_event(StepEvent::Test(run, event)),
            Msg::Refreshed { run, server, result } => self.on_refreshed(run, &server, result),
            Msg::TokensRead { server, result } => self.on_tokens_read(&server, result),
            Msg::SecretSaved { run, result } => self.on_secret_saved(run, result),
            Msg::SettingsSaved { run, result } => self.on_settings_saved(run, result),
            Msg::Bulk { run, server, event } => self.on_bulk(run, &server, event),
            Msg::BulkFinished { run } => self.on_bulk_finished(run),
            Msg::Imported { run, dry_run, result } => self.on_imported(run, dry_run, result),
        }
    }

    fn on_action(&mut self, action: Action) -> Vec<Cmd> {
        match (&self.popup, action) {
            (Some(Popup::ConfirmQuit), Action::Quit | Action::Yes) => return self.quit_now(),
            (_, Action::Quit) => return self.ask_quit(),
            (Some(Popup::Help), Action::CloseHelp | Action::Help) => {
                self.popup = self.covered.take();
                return Vec::new();
            }
            (Some(Popup::Help), Action::PageUp) => {
                self.help_scroll = self.help_scroll.saturating_sub(HELP_PAGE);
                return Vec::new();
            }
            (Some(Popup::Help), Action::PageDown) => {
                self.help_scroll = self.help_scroll.saturating_add(HELP_PAGE);
                return Vec::new();
            }
            // Help over a dialog: the dialog (its fields kept) comes back when help closes.
            (Some(Popup::Rotate(_) | Popup::Settings(_)), Action::Help) => {
                self.covered = self.popup.take();
                self.popup = Some(Popup::Help);
                self.help_scroll = 0;
                return Vec::new();
            }
            (Some(Popup::Help), Action::Up) => {
                self.help_scroll = self.help_scroll.saturating_sub(1);
                return Vec::new();
            }
            (Some(Popup::Help), Action::Down) => {
                self.help_scroll = self.help_scroll.saturating_add(1);
                return Vec::new();
            }
            (Some(Popup::Help), _) => return Vec::new(),
            (Some(Popup::ConfirmDelete(name)), Action::Yes) => {
                let name = name.clone();
                self.popup = None;
                return self.delete(name);
            }
            (Some(Popup::Rotate(_)), _) => return self.rotation_action(action),
            (Some(Popup::ConfirmUnchecked(_)), _) => return self.unchecked_answer(action),
            (Some(Popup::Settings(_)), _) => return self.settings_action(action),
            (Some(Popup::Bulk), _) => return self.bulk_action(action),
            (Some(Popup::Import(_)), _) => return self.import_action(action),
            (Some(Popup::Log), _) => {
                self.log_action(action);
                return Vec::new();
            }
            // Not quitting: the dialog the question covered comes back.
            (Some(Popup::ConfirmQuit), Action::No) => {
                self.popup = self.covered.take();
                return Vec::new();
            }
            (Some(_), Action::No) => {
                self.popup = None;
                return Vec::new();
            }
            (Some(_), _) => return Vec::new(),
            (None, Action::Help) => {
                self.popup = Some(Popup::Help);
                self.help_scroll = 0;
                return Vec::new();
            }
            (None, Action::Messages) => {
                self.open_log();
                return Vec::new();
            }
            (None, _) => {}
        }
        match self.screen {
            Screen::Review => self.review_action(action),
            Screen::Wizard(_) => self.wizard_event(StepEvent::Action(action)),
        }
    }

    fn ask_quit(&mut self) -> Vec<Cmd> {
        if self.work_running() {
            // A dialog under the question (its typed text, a save it waits for) is kept.
            if matches!(
                self.popup,
                Some(Popup::Rotate(_) | Popup::Settings(_) | Popup::Import(_))
            ) {
                self.covered = self.popup.take();
            }
            self.popup = Some(Popup::ConfirmQuit);
            Vec::new()
        } else {
            self.quit_now()
        }
    }

    /// Leaves at once, stopping what runs (the listener's port is freed).
    fn quit_now(&mut self) -> Vec<Cmd> {
        self.quit = true;
        self.popup = None;
        let mut cmds = Vec::new();
        if let Some(w) = self.wizard() {
            cmds.extend(w.sign_in_runs().into_iter().map(Cmd::Cancel));
            cmds.extend(w.check.run.map(Cmd::Cancel));
        }
        cmds.extend(
            self.bulk
                .as_ref()
                .filter(|b| b.running())
                .map(|b| Cmd::Cancel(b.run)),
        );
        cmds
    }

    fn on_paste(&mut self, text: &str) -> Vec<Cmd> {
        match &mut self.popup {
            Some(Popup::Rotate(r)) => r.fields.paste(text),
            Some(Popup::Settings(s)) => s.fields.paste(text),
            Some(Popup::Import(form)) => form.paste(text),
            _ => {}
        }
        if self.popup.is_some() {
            return Vec::new();
        }
        if self.view.typing && self.wizard().is_none() {
            self.find_paste(text);
            return Vec::new();
        }
        self.wizard_event(StepEvent::Paste(text))
    }

    /// Hands an event to the wizard on screen and carries out what its step asks.
    pub(crate) fn wizard_event(&mut self, event: StepEvent) -> Vec<Cmd> {
        let no_browser = self.env.situation.no_browser_reason();
        let Screen::Wizard(w) = &mut self.screen else {
            return Vec::new();
        };
        let mut ctx = StepCtx {
            config: &self.data.config,
            tokens: &self.data.tokens,
            next_run: &mut self.next_run,
            no_browser,
            today: self.now.to_zoned(self.tz.clone()).date(),
            now: self.now,
        };
        let effects = w.update(&mut ctx, event);
        let mut cmds = Vec::new();
        for effect in effects {
            match effect {
                Effect::Cmd(c) => cmds.push(c),
                Effect::Say(tone, text) => self.say(tone, text),
                Effect::FieldsNeedAttention => self.say_fields_need_attention(),
                Effect::Copy { text, what } => cmds.extend(self.copy(text, what)),
                Effect::Select(name) => self.select_name(&name),
                Effect::AskUnchecked => self.popup = Some(Popup::ConfirmUnchecked(None)),
                Effect::Leave => cmds.extend(self.leave_wizard()),
                // Carried out by the wizard itself.
                Effect::Enter(_) | Effect::Save(..) => {}
            }
        }
        cmds
    }

    /// Shows a wizard and starts what its step starts (a sign-in, a test).
    pub(crate) fn open_and_enter(&mut self, wizard: Wizard) -> Vec<Cmd> {
        self.open(wizard);
        self.wizard_event(StepEvent::Entered)
    }

    /// Back to the review screen; an unsaved new wizard is kept as a draft.
    pub(crate) fn leave_wizard(&mut self) -> Vec<Cmd> {
        let screen = std::mem::replace(&mut self.screen, Screen::Review);
        let mut cmds = vec![Cmd::Reload];
        if let Screen::Wizard(w) = screen {
            cmds.extend(w.sign_in_runs().into_iter().map(Cmd::Cancel));
            cmds.extend(w.check.run.map(Cmd::Cancel));
            match &w.server {
                Some(name) => self.select_name(name),
                None if w.new => {
                    self.draft = Some(w);
                    let new = keymap::key_or_mark(&[Ctx::Review], Action::New);
                    self.say(
                        Tone::Info,
                        format!("The new server is kept as a draft: {new} continues."),
                    );
                }
                None => {}
            }
        }
        self.pane = Pane::Main;
        // Walking the sign-ins a batch left: the next one is selected, and c signs it in.
        if let Some(next) = self.sign_in_queue.first().cloned() {
            self.select_name(&next);
            let key = keymap::key_or_mark(&[Ctx::Review], Action::Connect);
            let left = self.sign_in_queue.len();
            self.say(
                Tone::Info,
                format!("Next sign-in: \"{next}\" ({left} left): {key} signs it in."),
            );
        }
        cmds
    }
}
