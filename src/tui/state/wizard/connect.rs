//! Step 5: sign-in. Three paths run at once and the first to finish wins: the embedded
//! listener (browser here, or a tunnel from the user's own computer), an address pasted back
//! into the field, and — on `d` — device-code sign-in.

use super::{Effect, Step, StepCtx, StepEvent, Wizard};
use crate::secret::Secret;
use crate::services::oauth::device::PollEvent;
use crate::tui::state::Tone;
use crate::tui::state::cmd::Cmd;
use crate::tui::state::field::SecretField;
use crate::tui::state::keymap::{self, Action};
use crate::tui::state::msg::{ConsentEvent, Failure, RunId};
use jiff::Timestamp;

#[derive(Debug, Clone, PartialEq)]
pub enum BrowserNote {
    /// Asked the system to open it.
    Opening,
    Opened,
    Failed(String),
    /// Not opened: the reason (no display, SSH).
    NotHere(&'static str),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Connect {
    Idle,
    /// Cancelled by the user (the listener is gone).
    Cancelled,
    /// Binding the listener.
    Starting {
        run: RunId,
    },
    Waiting {
        run: RunId,
        url: String,
        port: u16,
        deadline: Timestamp,
        browser: BrowserNote,
    },
    Failed(Failure),
}

impl BrowserNote {
    /// What the launch said (Ok says nothing about whether a window appeared).
    pub fn after(result: Result<(), crate::services::browser::BrowserError>) -> Self {
        match result {
            Ok(()) => BrowserNote::Opened,
            Err(e) => BrowserNote::Failed(e.to_string()),
        }
    }
}

/// The note a new listening sign-in starts with: opening, or why no browser can open here.
pub(super) fn first_note(ctx: &StepCtx) -> BrowserNote {
    match ctx.no_browser {
        None => BrowserNote::Opening,
        Some(reason) => BrowserNote::NotHere(reason),
    }
}

impl Connect {
    /// The run of a sign-in in progress.
    pub fn run(&self) -> Option<RunId> {
        match self {
            Connect::Starting { run } | Connect::Waiting { run, .. } => Some(*run),
            _ => None,
        }
    }
}

/// Device-code sign-in (`d`), alongside the listener.
#[derive(Debug, Clone, PartialEq)]
pub enum Device {
    Off,
    /// Asking Microsoft for a user code.
    Starting {
        run: RunId,
    },
    /// The code to type at `uri`; polling.
    Code {
        run: RunId,
        user_code: String,
        uri: String,
        deadline: Timestamp,
        interval: u64,
        /// When the code came (shown as how long the wait has run).
        since: Timestamp,
        /// What the last poll said; `None` before the first.
        poll: Option<PollEvent>,
    },
    Failed(Failure),
}

impl Device {
    pub fn run(&self) -> Option<RunId> {
        match self {
            Device::Starting { run } | Device::Code { run, .. } => Some(*run),
            _ => None,
        }
    }

    /// The device-code screen is shown (instead of the three paths).
    pub fn shown(&self) -> bool {
        !matches!(self, Device::Off)
    }
}

/// The paste-back field: the address the browser ended on.
#[derive(Clone, Default)]
pub struct PasteField {
    pub input: SecretField,
    /// Typed keys go into the field (Tab toggles).
    pub focused: bool,
    /// The core is checking the last submitted address.
    pub checking: bool,
    /// Why the last address could not be used (shown under the field; the wait goes on).
    pub error: Option<String>,
}

impl PasteField {
    /// The core could not use the pasted address: say why under the field, keep it focused.
    pub fn rejected(&mut self, note: String) {
        self.checking = false;
        self.error = Some(note);
        self.focused = true;
    }

    /// A paste replaces the field and waits for Enter: used at once, the Enter people press
    /// after a paste out of habit would act on the next screen.
    pub fn pasted(&mut self, text: &str) -> Vec<Effect> {
        self.input.set_pasted(text);
        self.focused = true;
        self.error = None;
        let enter = keymap::key_or_mark(&[keymap::Ctx::ConnectPaste], Action::Submit);
        vec![Effect::Say(
            Tone::Info,
            format!("Address pasted: {enter} uses it."),
        )]
    }

    /// The field's text for the core, kept out of logs.
    pub fn secret(&self) -> Secret {
        self.input.secret()
    }
}

impl std::fmt::Debug for PasteField {
    /// The address carries an authorization code: never in Debug.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasteField")
            .field("input", &self.input)
            .field("focused", &self.focused)
            .field("checking", &self.checking)
            .field("error", &self.error)
            .finish()
    }
}

pub(super) fn update(w: &mut Wizard, ctx: &mut StepCtx, event: StepEvent) -> Vec<Effect> {
    if w.admin.is_some() {
        return super::admin::update(w, ctx, event);
    }
    match event {
        StepEvent::Text(key) if w.paste.focused => {
            w.paste.input.key(key);
            Vec::new()
        }
        StepEvent::Paste(text) if matches!(w.connect, Connect::Waiting { .. }) => w.paste.pasted(text),
        StepEvent::Action(action) => action_of(w, ctx, action),
        _ => Vec::new(),
    }
}

fn action_of(w: &mut Wizard, ctx: &mut StepCtx, action: Action) -> Vec<Effect> {
    if action == Action::DemoSignIn {
        return demo_sign_in(w);
    }
    // The paste-back field has the keys while focused.
    if w.paste.focused {
        match action {
            Action::Submit => return submit_paste(w),
            Action::NextField | Action::Back => w.paste.focused = false,
            _ => {}
        }
        return Vec::new();
    }
    match action {
        Action::ScrollDown => {
            w.scroll = w.scroll.saturating_add(3).min(40);
            return Vec::new();
        }
        Action::ScrollUp => {
            w.scroll = w.scroll.saturating_sub(3);
            return Vec::new();
        }
        _ => {}
    }
    if w.device.shown() {
        return match action {
            Action::Back => {
                let run = w.device.run();
                w.device = Device::Off;
                let mut effects: Vec<Effect> = run.map(|r| Effect::Cmd(Cmd::Cancel(r))).into_iter().collect();
                if run.is_some() {
                    effects.push(Effect::Say(
                        Tone::Info,
                        "Device-code sign-in stopped; the link and the paste field still work.".into(),
                    ));
                }
                effects
            }
            Action::DeviceCode if w.device.run().is_none() => start_device(w, ctx),
            Action::Copy => match &w.device {
                Device::Code { user_code, .. } => vec![Effect::Copy {
                    text: user_code.clone(),
                    what: "Device code",
                }],
                _ => Vec::new(),
            },
            _ => Vec::new(),
        };
    }
    match (action, &mut w.connect) {
        (Action::Connect, c) if c.run().is_none() => start(w, ctx),
        (Action::NextField, Connect::Waiting { .. }) => {
            w.paste.focused = true;
            Vec::new()
        }
        (Action::NextField, _) => vec![Effect::Say(
            Tone::Info,
            "The paste field works while a sign-in waits: start one first.".into(),
        )],
        (Action::DeviceCode, _) => start_device(w, ctx),
        (Action::Copy, Connect::Waiting { url, .. }) => vec![Effect::Copy {
            text: url.clone(),
            what: "Sign-in link",
        }],
        (
            Action::OpenBrowser,
            Connect::Waiting {
                run, url, browser, ..
            },
        ) => {
            let mut effects = Vec::new();
            if matches!(browser, BrowserNote::NotHere(_)) {
                effects.push(Effect::Say(
                    Tone::Warn,
                    "Trying to open a browser although no display was detected…".into(),
                ));
            }
            *browser = BrowserNote::Opening;
            effects.push(Effect::Cmd(Cmd::OpenBrowser {
                run: *run,
                url: url.clone(),
            }));
            effects
        }
        (Action::Back, c) if c.run().is_some() => {
            let runs = w.sign_in_runs();
            w.connect = Connect::Cancelled;
            w.device = Device::Off;
            w.paste = PasteField::default();
            let mut effects: Vec<Effect> = runs.into_iter().map(|r| Effect::Cmd(Cmd::Cancel(r))).collect();
            effects.push(Effect::Say(
                Tone::Info,
                "Sign-in cancelled; the listener's port is free again.".into(),
            ));
            effects
        }
        (Action::Back, _) if w.new => {
            // Back to the form, on the field Microsoft said is wrong when it said one.
            if let Connect::Failed(Failure { field: Some(f), .. }) = &w.connect {
                w.form.fields.focus = *f;
            }
            w.connect = Connect::Idle;
            vec![Effect::Enter(Step::Form)]
        }
        (Action::Back, _) => vec![Effect::Leave],
        _ => Vec::new(),
    }
}

/// Hands the field's address to the sign-in; what is wrong with it comes back as
/// `ConsentEvent::PasteRejected` and shows under the field.
fn submit_paste(w: &mut Wizard) -> Vec<Effect> {
    let Connect::Waiting { run, .. } = w.connect else {
        w.paste.error = Some("no sign-in is waiting: start one first".into());
        return Vec::new();
    };
    if w.paste.input.value().trim().is_empty() {
        w.paste.error = Some(
            "paste the whole address from the browser's address bar (it starts with http://localhost)".into(),
        );
        return Vec::new();
    }
    w.paste.error = None;
    w.paste.checking = true;
    vec![Effect::Cmd(Cmd::PasteAddress {
        run,
        text: w.paste.secret(),
    })]
}

/// The demo's sign-in key: the device code, or else the sign-in link, is used at the
/// stand-in.
fn demo_sign_in(w: &mut Wizard) -> Vec<Effect> {
    let cmd = match (&w.device, &w.connect) {
        (
            Device::Code {
                run, uri, user_code, ..
            },
            _,
        ) => Cmd::DemoDeviceCode {
            run: *run,
            uri: uri.clone(),
            user_code: user_code.clone(),
        },
        (_, Connect::Waiting { run, url, .. }) => Cmd::DemoSignIn {
            run: *run,
            url: url.clone(),
        },
        _ => {
            return vec![Effect::Say(
                Tone::Info,
                "Nothing to sign in to yet: start the sign-in first.".into(),
            )];
        }
    };
    vec![
        Effect::Say(Tone::Info, "Signing in as the demo user…".into()),
        Effect::Cmd(cmd),
    ]
}

/// Device-code sign-in, alongside the listener (the first to finish wins).
fn start_device(w: &mut Wizard, ctx: &mut StepCtx) -> Vec<Effect> {
    let Some(server) = w.server.clone() else {
        return Vec::new();
    };
    let run = ctx.run_id();
    let mut effects: Vec<Effect> = w
        .device
        .run()
        .map(|r| Effect::Cmd(Cmd::Cancel(r)))
        .into_iter()
        .collect();
    w.device = Device::Starting { run };
    w.paste.focused = false;
    effects.push(Effect::Cmd(Cmd::DeviceSignIn { run, server }));
    effects
}

/// Entering the step starts a sign-in (the listener; the browser opens when it is ready).
pub(super) fn start(w: &mut Wizard, ctx: &mut StepCtx) -> Vec<Effect> {
    let Some(server) = w.server.clone() else {
        return Vec::new();
    };
    let run = ctx.run_id();
    let mut effects: Vec<Effect> = w
        .check
        .run
        .take()
        .map(|r| Effect::Cmd(Cmd::Cancel(r)))
        .into_iter()
        .collect();
    w.connect = Connect::Starting { run };
    w.paste = PasteField::default();
    w.token = None;
    effects.push(Effect::Cmd(Cmd::Connect { run, server }));
    effects
}

/// Progress of the sign-in runs of this step.
pub(super) fn on_consent(w: &mut Wizard, ctx: &mut StepCtx, run: RunId, event: ConsentEvent) -> Vec<Effect> {
    if w.admin.as_ref().and_then(|a| a.route.run()) == Some(run) {
        return super::admin::on_event(w, ctx, run, event);
    }
    let from_device = w.device.run() == Some(run);
    if !from_device && w.connect.run() != Some(run) {
        return Vec::new();
    }
    match event {
        ConsentEvent::Ready {
            auth_url,
            port,
            deadline,
        } => {
            let browser = first_note(ctx);
            let open = browser == BrowserNote::Opening;
            w.connect = Connect::Waiting {
                run,
                url: auth_url.clone(),
                port,
                deadline,
                browser,
            };
            if open {
                return vec![Effect::Cmd(Cmd::OpenBrowser { run, url: auth_url })];
            }
        }
        ConsentEvent::Browser(result) => {
            if let Connect::Waiting { browser, .. } = &mut w.connect {
                *browser = BrowserNote::after(result);
            }
        }
        ConsentEvent::PasteRejected(note) => w.paste.rejected(note),
        ConsentEvent::DeviceCode {
            user_code,
            uri,
            deadline,
            interval,
        } => {
            w.device = Device::Code {
                run,
                user_code,
                uri,
                deadline,
                interval,
                since: ctx.now,
                poll: None,
            };
        }
        ConsentEvent::DevicePoll(p) => {
            if let Device::Code { poll, interval, .. } = &mut w.device {
                if let PollEvent::SlowDown { interval: every } = p {
                    *interval = every.as_secs();
                }
                *poll = Some(p);
            }
        }
        ConsentEvent::Connected(done) => {
            // The first path to finish wins: stop the others (frees the port).
            let mut effects: Vec<Effect> = w
                .sign_in_runs()
                .into_iter()
                .filter(|r| *r != run)
                .map(|r| Effect::Cmd(Cmd::Cancel(r)))
                .collect();
            effects.push(if done.mismatch.is_some() {
                Effect::Say(
                    Tone::Warn,
                    "Signed in, but not as the mailbox in Username (see the warning).".into(),
                )
            } else {
                Effect::Say(Tone::Ok, "Outlook token is valid.".into())
            });
            w.connect = Connect::Idle;
            w.device = Device::Off;
            w.paste = PasteField::default();
            w.token = Some(done);
            effects.push(Effect::Enter(Step::Token));
            effects.push(Effect::Cmd(Cmd::Reload));
            return effects;
        }
        ConsentEvent::Failed(f) if from_device => {
            w.device = Device::Failed(f);
            return vec![Effect::Say(
                Tone::Error,
                "Device-code sign-in failed (details above).".into(),
            )];
        }
        ConsentEvent::Failed(f) => {
            w.connect = Connect::Failed(f);
            w.paste = PasteField::default();
            if w.device.run().is_none() {
                w.device = Device::Off;
            }
            return vec![
                Effect::Say(Tone::Error, "Sign-in failed (details above).".into()),
                Effect::Cmd(Cmd::Reload),
            ];
        }
        ConsentEvent::NeedsAdminConsent(need) => return super::admin::open(w, *need),
        // The answer to the admin consent link (sent to an admin) pasted here: recorded, and
        // the sign-in goes on.
        ConsentEvent::AdminGranted(granted) => {
            w.paste = PasteField::default();
            let said = match granted.warning {
                Some(warning) => (
                    Tone::Warn,
                    format!(
                        "Admin consent recorded, but {}; now sign in with the link above.",
                        crate::sanitize::peer_text(&warning)
                    ),
                ),
                None => (
                    Tone::Ok,
                    "Admin consent recorded for the organization; now sign in with the link above.".into(),
                ),
            };
            return vec![Effect::Say(said.0, said.1), Effect::Cmd(Cmd::Reload)];
        }
        ConsentEvent::Cancelled if from_device => w.device = Device::Off,
        ConsentEvent::Cancelled => w.connect = Connect::Cancelled,
    }
    Vec::new()
}
