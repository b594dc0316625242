//! Wizard transitions: the guide pages, the form, connect, token, test.

use super::check::{Check, Outcome};
use super::cmd::Cmd;
use super::connect::{BrowserNote, Connect, Device, PasteField, Poll};
use super::form::Form;
use super::keymap::Action;
use super::msg::{ConsentEvent, Failure, ProbeUpdate, RunId, SaveError};
use super::wizard::{Step, Wizard};
use super::{Model, Pane, Screen, Tone};
use crate::model::validate;
use crate::model::{AuthKind, AzureApp, registered_redirect_uri};
use ratatui::crossterm::event::{Event, KeyEvent};
use tui_input::InputRequest;
use tui_input::backend::crossterm::EventHandler;

/// A typed key for the focused field.
pub(crate) fn text(w: &mut Wizard, key: KeyEvent) {
    match w.step {
        Step::Secret => {
            w.expires.handle_event(&Event::Key(key));
        }
        Step::Form => w.form.key(key),
        Step::Connect if w.paste.focused => {
            w.paste.input.handle_event(&Event::Key(key));
        }
        _ => {}
    }
}

/// Pasted text: into the focused field, or as the address the browser ended on.
pub(crate) fn paste(w: &mut Wizard, text: &str) -> Vec<Cmd> {
    match (w.step, &mut w.connect) {
        (Step::Form, _) => w.form.paste(text),
        (Step::Secret, _) => {
            for c in text.chars().filter(|c| !c.is_control()) {
                w.expires.handle(InputRequest::InsertChar(c));
            }
        }
        (Step::Connect, Connect::Waiting { .. }) => {
            // A paste replaces the field and is used at once.
            let clean: String = text.chars().filter(|c| !c.is_control()).collect();
            w.paste.input = tui_input::Input::new(clean.trim().to_string());
            return submit_paste(w);
        }
        _ => {}
    }
    Vec::new()
}

/// Hands the field's address to the sign-in; what is wrong with it comes back as
/// `ConsentEvent::PasteRejected` and shows under the field.
fn submit_paste(w: &mut Wizard) -> Vec<Cmd> {
    let Connect::Waiting { run, .. } = w.connect else {
        w.paste.error = Some("no sign-in is waiting: press Enter or c to start one".into());
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
    vec![Cmd::PasteAddress {
        run,
        text: w.paste.secret(),
    }]
}

/// `s` in the demo: the device code, or else the sign-in link, is used at the stand-in.
fn demo_sign_in(m: &mut Model) -> Vec<Cmd> {
    let Some(w) = m.wizard_mut() else {
        return Vec::new();
    };
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
            m.say(Tone::Info, "Nothing to sign in to yet: Enter starts the sign-in.");
            return Vec::new();
        }
    };
    m.say(Tone::Info, "Signing in as the demo user…");
    vec![cmd]
}

/// The admin consent URL when the form has a usable client ID and tenant.
pub fn admin_consent_url(form: &Form) -> Option<String> {
    use super::form::FieldId;
    let client_id = validate::client_id(form.value(FieldId::ClientId)).ok()?;
    let tenant = validate::tenant(form.value(FieldId::Tenant)).ok()?;
    let authority = validate::authority(form.value(FieldId::Authority)).ok()?;
    let app = AzureApp {
        name: String::new(),
        client_id,
        tenant,
        secret: None,
        secret_expires: None,
        authority,
        public_client: false,
        admin_consent_at: None,
    };
    Some(app.admin_consent_url())
}

impl Model {
    pub(crate) fn wizard_action(&mut self, action: Action) -> Vec<Cmd> {
        let Some(step) = self.wizard().map(|w| w.step) else {
            return Vec::new();
        };
        match step {
            Step::Register | Step::Secret | Step::Permissions => self.guide_action(step, action),
            Step::Form => self.form_action(action),
            Step::Connect => self.connect_action(action),
            Step::Token => match action {
                Action::Test => self.goto_test(),
                Action::Connect => self.goto_connect(),
                // Signed in and saved: Esc goes back to the list the user came from, never
                // to a bare Connect screen whose keys (d: device code) mean something else.
                Action::Back => self.leave_wizard(),
                _ => Vec::new(),
            },
            Step::Test => self.test_action(action),
        }
    }

    fn guide_action(&mut self, step: Step, action: Action) -> Vec<Cmd> {
        let config = self.data.config.clone();
        let Some(w) = self.wizard_mut() else {
            return Vec::new();
        };
        match action {
            Action::Open => {
                if step == Step::Secret {
                    let v = w.expires.value().trim().to_string();
                    if !v.is_empty()
                        && let Err(e) = validate::date("Secret expires", &v)
                    {
                        w.expires_error = Some(e.message);
                        return Vec::new();
                    }
                    w.expires_error = None;
                }
                w.step = match step {
                    Step::Register => Step::Secret,
                    Step::Secret => Step::Permissions,
                    _ => Step::Form,
                };
                Vec::new()
            }
            Action::Back => match step.prev() {
                Some(p) => {
                    w.step = p;
                    Vec::new()
                }
                None => self.leave_wizard(),
            },
            Action::Copy if step == Step::Register => {
                let url = registered_redirect_uri(&config.settings);
                self.copy(url, "Redirect URL")
            }
            Action::Copy => match admin_consent_url(&w.form) {
                Some(url) => self.copy(url, "Admin consent URL"),
                None => {
                    self.say(
                        Tone::Warn,
                        "The admin consent URL needs the client ID and tenant: fill them in on the next step, then come back (Esc).",
                    );
                    Vec::new()
                }
            },
            _ => Vec::new(),
        }
    }

    fn form_action(&mut self, action: Action) -> Vec<Cmd> {
        let config = self.data.config.clone();
        let Some(w) = self.wizard_mut() else {
            return Vec::new();
        };
        match action {
            Action::NextField => w.form.next(&config),
            Action::PrevField => w.form.prev(&config),
            Action::Left => w.form.step_choice(-1),
            Action::Right => w.form.step_choice(1),
            Action::Reveal => w.form.reveal = !w.form.reveal,
            Action::Back if w.new => w.step = Step::Permissions,
            Action::Back => return self.leave_wizard(),
            Action::Submit if w.save_run.is_none() => {
                let expires = w.expires.value().to_string();
                if let Some(request) = w.form.submit(&config, &expires) {
                    let run = self.run_id();
                    if let Some(w) = self.wizard_mut() {
                        w.save_run = Some(run);
                    }
                    self.say(Tone::Info, "Saving…");
                    return vec![Cmd::Save { run, request }];
                }
                self.say_fields_need_attention();
            }
            _ => {}
        }
        Vec::new()
    }

    pub(crate) fn on_saved(&mut self, run: RunId, result: Result<String, SaveError>) -> Vec<Cmd> {
        let config = self.data.config.clone();
        let Some(w) = self.wizard_mut().filter(|w| w.save_run == Some(run)) else {
            return Vec::new();
        };
        w.save_run = None;
        match result {
            Ok(name) => {
                w.server = Some(name.clone());
                if let Some(f) = Form::edit(&config, &name) {
                    w.form = f;
                }
                let new = w.new;
                let auth = config.server(&name).map_or(AuthKind::OAuth2, |s| s.auth);
                self.select_name(&name);
                if !new {
                    let state = config.server(&name).map_or("Draft", |s| s.state.label());
                    self.say(Tone::Ok, format!("Saved \"{name}\" ({state})."));
                    return self.leave_wizard();
                }
                self.say(Tone::Ok, format!("Saved \"{name}\" as a Draft."));
                match auth {
                    AuthKind::OAuth2 => self.goto_connect(),
                    AuthKind::Basic => self.goto_test(),
                }
            }
            Err(SaveError::Fields(errors)) => {
                w.form.show_errors(errors);
                self.say_fields_need_attention();
                Vec::new()
            }
            Err(SaveError::Other(e)) => {
                w.form.general = Some(e.clone());
                self.say(Tone::Error, format!("Not saved: {e}"));
                Vec::new()
            }
        }
    }

    fn connect_action(&mut self, action: Action) -> Vec<Cmd> {
        if action == Action::DemoSignIn {
            return demo_sign_in(self);
        }
        let Some(w) = self.wizard_mut() else {
            return Vec::new();
        };
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
                    if run.is_some() {
                        self.say(
                            Tone::Info,
                            "Device-code sign-in stopped; the link and the paste field still work.",
                        );
                    }
                    run.map(Cmd::Cancel).into_iter().collect()
                }
                Action::DeviceCode if w.device.run().is_none() => self.start_device(),
                Action::Copy => match &w.device {
                    Device::Code { user_code, .. } => {
                        let code = user_code.clone();
                        self.copy(code, "Device code")
                    }
                    _ => Vec::new(),
                },
                _ => Vec::new(),
            };
        }
        match (action, &w.connect) {
            (Action::Connect, c) if c.run().is_none() => self.start_connect(),
            (Action::NextField, Connect::Waiting { .. }) => {
                w.paste.focused = true;
                Vec::new()
            }
            (Action::NextField, _) => {
                self.say(
                    Tone::Info,
                    "The paste field works while a sign-in waits: Enter or c starts one.",
                );
                Vec::new()
            }
            (Action::DeviceCode, _) => self.start_device(),
            (Action::Copy, Connect::Waiting { url, .. }) => {
                let url = url.clone();
                self.copy(url, "Sign-in link")
            }
            (
                Action::OpenBrowser,
                Connect::Waiting {
                    run, url, browser, ..
                },
            ) => {
                let cmd = Cmd::OpenBrowser {
                    run: *run,
                    url: url.clone(),
                };
                if matches!(browser, BrowserNote::NotHere(_)) {
                    self.say(
                        Tone::Warn,
                        "Trying to open a browser although no display was detected…",
                    );
                }
                if let Some(Connect::Waiting { browser, .. }) = self.wizard_mut().map(|w| &mut w.connect) {
                    *browser = BrowserNote::Opening;
                }
                vec![cmd]
            }
            (Action::Back, c) if c.run().is_some() => {
                let runs = w.sign_in_runs();
                w.connect = Connect::Cancelled;
                w.device = Device::Off;
                w.paste = PasteField::default();
                self.say(
                    Tone::Info,
                    "Sign-in cancelled; the listener's port is free again.",
                );
                runs.into_iter().map(Cmd::Cancel).collect()
            }
            (Action::Back, _) if w.new => {
                // Back to the form, on the field Microsoft said is wrong when it said one.
                if let Connect::Failed(Failure { field: Some(f), .. }) = &w.connect {
                    w.form.focus = *f;
                }
                w.step = Step::Form;
                w.connect = Connect::Idle;
                Vec::new()
            }
            (Action::Back, _) => self.leave_wizard(),
            _ => Vec::new(),
        }
    }

    /// `d`: device-code sign-in, alongside the listener (the first to finish wins).
    pub(crate) fn start_device(&mut self) -> Vec<Cmd> {
        let run = self.run_id();
        let Some(w) = self.wizard_mut() else {
            return Vec::new();
        };
        let Some(server) = w.server.clone() else {
            return Vec::new();
        };
        let mut cmds: Vec<Cmd> = w.device.run().map(Cmd::Cancel).into_iter().collect();
        w.device = Device::Starting { run };
        w.paste.focused = false;
        cmds.push(Cmd::DeviceSignIn { run, server });
        cmds
    }

    /// Shows step 5 and starts the sign-in.
    pub(crate) fn goto_connect(&mut self) -> Vec<Cmd> {
        if let Some(w) = self.wizard_mut() {
            w.step = Step::Connect;
        }
        self.start_connect()
    }

    pub(crate) fn start_connect(&mut self) -> Vec<Cmd> {
        let run = self.run_id();
        let Some(w) = self.wizard_mut() else {
            return Vec::new();
        };
        let Some(server) = w.server.clone() else {
            return Vec::new();
        };
        let mut cmds: Vec<Cmd> = w.check.run.take().map(Cmd::Cancel).into_iter().collect();
        w.connect = Connect::Starting { run };
        w.paste = PasteField::default();
        w.token = None;
        cmds.push(Cmd::Connect { run, server });
        cmds
    }

    pub(crate) fn on_consent(&mut self, run: RunId, event: ConsentEvent) -> Vec<Cmd> {
        let no_browser = self.env.situation.no_browser_reason();
        let Some(w) = self.wizard_mut() else {
            return Vec::new();
        };
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
                let browser = match no_browser {
                    None => BrowserNote::Opening,
                    Some(reason) => BrowserNote::NotHere(reason),
                };
                let open = browser == BrowserNote::Opening;
                w.connect = Connect::Waiting {
                    run,
                    url: auth_url.clone(),
                    port,
                    deadline,
                    browser,
                };
                if open {
                    return vec![Cmd::OpenBrowser { run, url: auth_url }];
                }
            }
            ConsentEvent::Browser(result) => {
                if let Connect::Waiting { browser, .. } = &mut w.connect {
                    *browser = match result {
                        Ok(()) => BrowserNote::Opened,
                        Err(e) => BrowserNote::Failed(e),
                    };
                }
            }
            ConsentEvent::PasteRejected(note) => {
                w.paste.checking = false;
                w.paste.error = Some(note);
                w.paste.focused = true;
            }
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
                    poll: Poll::Waiting,
                };
            }
            ConsentEvent::DevicePoll(p) => {
                if let Device::Code { poll, interval, .. } = &mut w.device {
                    *poll = p;
                    if let Poll::SlowDown { secs } = p {
                        *interval = secs;
                    }
                }
            }
            ConsentEvent::Connected(view) => {
                // The first path to finish wins: stop the others (frees the port).
                let others: Vec<Cmd> = w
                    .sign_in_runs()
                    .into_iter()
                    .filter(|r| *r != run)
                    .map(Cmd::Cancel)
                    .collect();
                let warn = view.mismatch.is_some();
                w.connect = Connect::Idle;
                w.device = Device::Off;
                w.paste = PasteField::default();
                w.token = Some(view);
                w.step = Step::Token;
                if warn {
                    self.say(
                        Tone::Warn,
                        "Signed in, but not as the mailbox in Username (see the warning).",
                    );
                } else {
                    self.say(Tone::Ok, "Outlook token is valid.");
                }
                let mut cmds = others;
                cmds.push(Cmd::Reload);
                return cmds;
            }
            ConsentEvent::Failed(f) if from_device => {
                w.device = Device::Failed(f);
                self.say(Tone::Error, "Device-code sign-in failed (details above).");
            }
            ConsentEvent::Failed(f) => {
                w.connect = Connect::Failed(f);
                w.paste = PasteField::default();
                if w.device.run().is_none() {
                    w.device = Device::Off;
                }
                self.say(Tone::Error, "Sign-in failed (details above).");
                return vec![Cmd::Reload];
            }
            ConsentEvent::Cancelled if from_device => w.device = Device::Off,
            ConsentEvent::Cancelled => w.connect = Connect::Cancelled,
        }
        Vec::new()
    }

    fn test_action(&mut self, action: Action) -> Vec<Cmd> {
        let config = self.data.config.clone();
        let Some(w) = self.wizard_mut() else {
            return Vec::new();
        };
        let running = w.check.run;
        match action {
            Action::Open if matches!(w.check.outcome, Outcome::Passed { .. }) => self.leave_wizard(),
            Action::Test if running.is_none() => self.start_test(),
            Action::Edit if running.is_none() => {
                if let Some(f) = w.server.as_deref().and_then(|n| Form::edit(&config, n)) {
                    w.form = f;
                }
                w.step = Step::Form;
                Vec::new()
            }
            Action::Connect if running.is_none() => {
                let oauth = w
                    .server
                    .as_deref()
                    .and_then(|n| config.server(n))
                    .is_some_and(|s| s.auth == AuthKind::OAuth2);
                if oauth {
                    self.goto_connect()
                } else {
                    self.say(
                        Tone::Info,
                        "Basic authentication has no sign-in: e edits the password.",
                    );
                    Vec::new()
                }
            }
            Action::Back => match running {
                Some(run) => {
                    w.check.cancel();
                    self.say(Tone::Info, "Test cancelled.");
                    vec![Cmd::Cancel(run)]
                }
                None => self.leave_wizard(),
            },
            _ => Vec::new(),
        }
    }

    /// Shows step 7 and starts Test & Confirm.
    pub(crate) fn goto_test(&mut self) -> Vec<Cmd> {
        if let Some(w) = self.wizard_mut() {
            w.step = Step::Test;
        }
        self.start_test()
    }

    pub(crate) fn start_test(&mut self) -> Vec<Cmd> {
        let run = self.run_id();
        let Some(w) = self.wizard_mut() else {
            return Vec::new();
        };
        let Some(server) = w.server.clone() else {
            return Vec::new();
        };
        w.check = Check::start(run);
        vec![Cmd::Test { run, server }]
    }

    pub(crate) fn on_probe(&mut self, run: RunId, event: ProbeUpdate) -> Vec<Cmd> {
        let Some(w) = self.wizard_mut().filter(|w| w.check.run == Some(run)) else {
            return Vec::new();
        };
        let finished = matches!(event, ProbeUpdate::Finished(_));
        w.check.apply(event);
        if !finished {
            return Vec::new();
        }
        let server = w.server.clone().unwrap_or_default();
        match &w.check.outcome {
            Outcome::Passed { .. } => self.say(Tone::Ok, format!("\"{server}\" is Confirmed.")),
            _ => self.say(Tone::Error, format!("Test & Confirm of \"{server}\" failed.")),
        }
        vec![Cmd::Reload]
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
                    self.say(Tone::Info, "The new server is kept as a draft: n continues.");
                }
                None => {}
            }
        }
        self.pane = Pane::Main;
        cmds
    }
}
