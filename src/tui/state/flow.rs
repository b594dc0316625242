//! Wizard transitions: the guide pages, the form, connect, token, test.

use super::check::{Check, Outcome};
use super::cmd::Cmd;
use super::connect::{BrowserNote, Connect};
use super::form::Form;
use super::keymap::Action;
use super::msg::{ConsentEvent, ProbeUpdate, RunId, SaveError};
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
        (Step::Connect, Connect::Waiting { run, paste_note, .. }) => {
            *paste_note = Some("checking the pasted address…".into());
            return vec![Cmd::PasteAddress {
                run: *run,
                text: text.to_string(),
            }];
        }
        _ => {}
    }
    Vec::new()
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
                Action::Back => {
                    if let Some(w) = self.wizard_mut() {
                        w.step = Step::Connect;
                        w.connect = Connect::Idle;
                    }
                    Vec::new()
                }
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
                self.say(Tone::Warn, "Some fields need attention (marked ✖).");
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
                self.say(Tone::Warn, "Some fields need attention (marked ✖).");
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
        let Some(w) = self.wizard_mut() else {
            return Vec::new();
        };
        match (action, &w.connect) {
            (Action::Connect, c) if c.run().is_none() => self.start_connect(),
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
                let run = c.run();
                w.connect = Connect::Cancelled;
                self.say(
                    Tone::Info,
                    "Sign-in cancelled; the listener's port is free again.",
                );
                run.map(Cmd::Cancel).into_iter().collect()
            }
            (Action::Back, _) if w.new => {
                w.step = Step::Form;
                w.connect = Connect::Idle;
                Vec::new()
            }
            (Action::Back, _) => self.leave_wizard(),
            _ => Vec::new(),
        }
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
        w.token = None;
        cmds.push(Cmd::Connect { run, server });
        cmds
    }

    pub(crate) fn on_consent(&mut self, run: RunId, event: ConsentEvent) -> Vec<Cmd> {
        let no_browser = self.env.situation.no_browser_reason();
        let Some(w) = self.wizard_mut().filter(|w| w.connect.run() == Some(run)) else {
            return Vec::new();
        };
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
                    paste_note: None,
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
                if let Connect::Waiting { paste_note, .. } = &mut w.connect {
                    *paste_note = Some(note);
                }
            }
            ConsentEvent::Connected(view) => {
                let warn = view.mismatch.is_some();
                w.connect = Connect::Idle;
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
                return vec![Cmd::Reload];
            }
            ConsentEvent::Failed(f) => {
                w.connect = Connect::Failed(f);
                self.say(Tone::Error, "Sign-in failed (details above).");
                return vec![Cmd::Reload];
            }
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
            cmds.extend(w.connect.run().map(Cmd::Cancel));
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
