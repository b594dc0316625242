//! Secret rotation (`s` on an OAuth2 server): the new client secret Value and its expiry for
//! the server's Azure app. Saving goes through the core (`edit_app`, which also lifts the
//! "secret expired" / "bad client" blockers of every server of the app); then every signed-in
//! server of the app is refreshed and the result summed up in one line.

use super::cmd::Cmd;
use super::keymap::{self, Action, Ctx};
use super::msg::{Failure, RunId, SaveError};
use super::secret_input::SecretInput;
use super::{Model, Popup, Tone};
use crate::model::validate;
use crate::model::{AuthKind, Blocker};
use crate::secret::Secret;
use ratatui::crossterm::event::{Event, KeyEvent};
use std::collections::BTreeMap;
use tui_input::Input;
use tui_input::InputRequest;
use tui_input::backend::crossterm::EventHandler;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RotateField {
    Secret,
    Expires,
}

/// The form. `Debug` never shows the typed secret.
#[derive(Clone)]
pub struct Rotation {
    pub app: String,
    /// Servers that use the app.
    pub users: Vec<String>,
    pub secret: SecretInput,
    pub expires: Input,
    pub focus: RotateField,
    /// The secret is shown in clear (Ctrl-R).
    pub reveal: bool,
    pub secret_error: Option<String>,
    pub expires_error: Option<String>,
    /// A store error that belongs to no field.
    pub general: Option<String>,
    pub save_run: Option<RunId>,
    /// Why Microsoft could not check the new secret (offline): the question "save unchecked?"
    /// is open while this is set.
    pub unverified: Option<String>,
}

impl std::fmt::Debug for Rotation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rotation")
            .field("app", &self.app)
            .field("users", &self.users)
            .field("secret", &self.secret)
            .field("expires", &self.expires.value())
            .field("focus", &self.focus)
            .field("secret_error", &self.secret_error)
            .field("expires_error", &self.expires_error)
            .field("general", &self.general)
            .field("save_run", &self.save_run)
            .field("unverified", &self.unverified)
            .finish()
    }
}

impl Rotation {
    pub fn new(app: &str, users: Vec<String>) -> Self {
        Self {
            app: app.to_string(),
            users,
            secret: SecretInput::default(),
            expires: Input::default(),
            focus: RotateField::Secret,
            reveal: false,
            secret_error: None,
            expires_error: None,
            general: None,
            save_run: None,
            unverified: None,
        }
    }

    pub fn key(&mut self, key: KeyEvent) {
        match self.focus {
            RotateField::Secret => self.secret.key(key),
            RotateField::Expires => {
                self.expires.handle_event(&Event::Key(key));
            }
        }
    }

    pub fn paste(&mut self, text: &str) {
        match self.focus {
            RotateField::Secret => self.secret.paste(text),
            RotateField::Expires => {
                for c in text.chars().filter(|c| !c.is_control()) {
                    self.expires.handle(InputRequest::InsertChar(c));
                }
            }
        }
    }

    fn toggle_focus(&mut self, today: jiff::civil::Date) {
        self.check(self.focus, today);
        self.reveal = false;
        self.focus = match self.focus {
            RotateField::Secret => RotateField::Expires,
            RotateField::Expires => RotateField::Secret,
        };
    }

    /// Checks one field; the error goes under it.
    fn check(&mut self, field: RotateField, today: jiff::civil::Date) -> bool {
        match field {
            RotateField::Secret => {
                self.secret_error = validate::secret(self.secret.value()).err().map(|e| e.message);
                self.secret_error.is_none()
            }
            RotateField::Expires => {
                let v = self.expires.value().trim();
                self.expires_error = if v.is_empty() {
                    Some("enter the Expires date the portal shows next to the new secret (YYYY-MM-DD)".into())
                } else {
                    match validate::date(crate::model::validate::Field::SecretExpires, v) {
                        Err(e) => Some(e.message),
                        Ok(d) if d <= today => Some(format!(
                            "{d} is not in the future: the secret would already be expired; check the Expires column"
                        )),
                        Ok(_) => None,
                    }
                };
                self.expires_error.is_none()
            }
        }
    }
}

/// A saved rotation: the refreshes it started and what they said.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RotationReport {
    pub app: String,
    pub pending: BTreeMap<RunId, String>,
    pub recovered: Vec<String>,
    pub failed: Vec<(String, Failure)>,
    /// Servers not refreshed, with why (not signed in, needs re-consent).
    pub skipped: Vec<(String, &'static str)>,
}

impl RotationReport {
    /// "Saved the new secret of app X; 2 servers recovered; Billing failed: …".
    pub fn summary(&self) -> (Tone, String) {
        let n = self.recovered.len();
        let mut text = format!(
            "Saved the new secret of app \"{}\"; {n} server{} recovered",
            self.app,
            if n == 1 { "" } else { "s" }
        );
        for (name, f) in &self.failed {
            text.push_str(&format!("; \"{name}\" still fails: {}", f.message));
            if let Some(h) = &f.hint {
                text.push_str(&format!(" — {h}"));
            }
        }
        for (name, why) in &self.skipped {
            text.push_str(&format!("; \"{name}\" {why}"));
        }
        let tone = if !self.failed.is_empty() {
            Tone::Error
        } else if !self.skipped.is_empty() {
            Tone::Warn
        } else {
            Tone::Ok
        };
        (tone, format!("{text}."))
    }
}

impl Model {
    /// `s` on a server: open the form for its app.
    pub(crate) fn open_rotation(&mut self, name: &str, auth: AuthKind) -> Vec<Cmd> {
        let app = self
            .data
            .config
            .server(name)
            .and_then(|s| s.app.clone())
            .filter(|a| self.data.config.app(a).is_some());
        match (auth, app) {
            (AuthKind::Basic, _) => self.say(
                Tone::Info,
                format!(
                    "\"{name}\" uses Basic authentication: no client secret; {} edits the password.",
                    keymap::key_or_mark(&[Ctx::Review], Action::Edit)
                ),
            ),
            (_, None) => self.say(
                Tone::Warn,
                format!("\"{name}\" has no Azure app to rotate: e chooses one."),
            ),
            (_, Some(app)) => {
                let users = self
                    .servers()
                    .iter()
                    .filter(|s| s.app.as_deref() == Some(app.as_str()))
                    .map(|s| s.name.clone())
                    .collect();
                self.rotation = Some(Box::new(Rotation::new(&app, users)));
                self.popup = Some(Popup::Rotate);
            }
        }
        Vec::new()
    }

    pub(crate) fn rotation_action(&mut self, action: Action) -> Vec<Cmd> {
        let today = self.now.to_zoned(self.tz.clone()).date();
        let Some(r) = self.rotation.as_deref_mut() else {
            self.popup = None;
            return Vec::new();
        };
        match action {
            Action::NextField | Action::PrevField => r.toggle_focus(today),
            Action::Reveal if r.focus == RotateField::Secret => r.reveal = !r.reveal,
            Action::Back => {
                let run = r.save_run;
                self.rotation = None;
                self.popup = None;
                if run.is_some() {
                    self.say(Tone::Info, "Left the form; the save already sent goes on.");
                }
            }
            Action::Submit if r.save_run.is_none() => {
                let secret_ok = r.check(RotateField::Secret, today);
                let expires_ok = r.check(RotateField::Expires, today);
                if !secret_ok {
                    r.focus = RotateField::Secret;
                } else if !expires_ok {
                    r.focus = RotateField::Expires;
                }
                if !(secret_ok && expires_ok) {
                    self.say(Tone::Warn, "The new secret needs attention (marked ✖).");
                    return Vec::new();
                }
                r.general = None;
                r.reveal = false;
                return self.send_rotation(false);
            }
            _ => {}
        }
        Vec::new()
    }

    /// Sends the form's secret to the core: checked with Microsoft first unless `unchecked`.
    fn send_rotation(&mut self, unchecked: bool) -> Vec<Cmd> {
        let run = self.run_id();
        let Some(r) = self.rotation.as_deref_mut() else {
            return Vec::new();
        };
        r.save_run = Some(run);
        r.unverified = None;
        let secret = Secret::new(r.secret.value().trim());
        let expires = r.expires.value().trim().to_string();
        let app = r.app.clone();
        let text = if unchecked {
            format!("Saving the new secret of app \"{app}\" unchecked…")
        } else {
            format!("Checking the new secret of app \"{app}\" with Microsoft before it replaces the old one…")
        };
        self.say(Tone::Info, text);
        vec![Cmd::RotateSecret {
            run,
            app,
            secret,
            expires,
            unchecked,
        }]
    }

    /// The answer to "save unchecked?": yes saves without asking Microsoft; no goes back to
    /// the form with the old secret still in place.
    pub(crate) fn unchecked_answer(&mut self, action: Action) -> Vec<Cmd> {
        if self.rotation.is_none() {
            // The wizard's renewal asked (its form's secret would replace a stored one).
            let yes = match action {
                Action::Yes => true,
                Action::No => false,
                _ => return Vec::new(),
            };
            self.popup = None;
            return self.wizard_event(crate::tui::state::wizard::StepEvent::SaveUnchecked(yes));
        }
        match action {
            Action::Yes => {
                self.popup = Some(Popup::Rotate);
                self.send_rotation(true)
            }
            Action::No => {
                if let Some(r) = self.rotation.as_deref_mut() {
                    r.unverified = None;
                }
                self.popup = Some(Popup::Rotate);
                self.say(Tone::Info, "Not saved: the old secret stays.");
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    /// The core stored the secret (or refused it): refresh every signed-in server of the app.
    pub(crate) fn on_secret_saved(&mut self, run: RunId, result: Result<(), SaveError>) -> Vec<Cmd> {
        let Some(r) = self.rotation.as_deref_mut().filter(|r| r.save_run == Some(run)) else {
            return Vec::new();
        };
        r.save_run = None;
        let app = r.app.clone();
        match result {
            Err(SaveError::Fields(errors)) => {
                for e in errors {
                    if e.field == crate::model::validate::Field::SecretExpires {
                        r.expires_error = Some(e.message);
                    } else {
                        r.secret_error = Some(e.message);
                    }
                }
                self.say(
                    Tone::Warn,
                    "Not saved: the new secret needs attention (marked ✖).",
                );
                return Vec::new();
            }
            // Microsoft could not be asked: say so and ask whether to save unchecked.
            Err(e) if unverified(&e).is_some() => {
                r.unverified = unverified(&e);
                self.popup = Some(Popup::ConfirmUnchecked);
                self.say(
                    Tone::Warn,
                    "Microsoft could not check the new secret; the old one stays unless you save it unchecked.",
                );
                return Vec::new();
            }
            // Microsoft refused it: the old secret stays, the reason goes under the field.
            Err(SaveError::Core(e)) if matches!(*e, crate::ops::Error::Preflight(_)) => {
                r.secret_error = Some(e.to_string());
                r.focus = RotateField::Secret;
                self.say(
                    Tone::Error,
                    "Not saved: Microsoft refused the new secret; the old one stays.",
                );
                return Vec::new();
            }
            Err(e) => {
                r.general = Some(e.to_string());
                self.say(Tone::Error, format!("Not saved: {e}"));
                return Vec::new();
            }
            Ok(()) => {}
        }
        self.rotation = None;
        self.popup = None;
        let mut report = RotationReport {
            app: app.clone(),
            ..RotationReport::default()
        };
        let users: Vec<_> = self
            .servers()
            .iter()
            .filter(|s| s.auth == AuthKind::OAuth2 && s.app.as_deref() == Some(app.as_str()))
            .map(|s| s.name.clone())
            .collect();
        let mut cmds = vec![Cmd::Reload];
        for name in users {
            let file = self.data.tokens.get(&name);
            let signed_in = file
                .and_then(|f| f.tokens.as_ref())
                .is_some_and(|t| t.refresh_token.is_some());
            if !signed_in {
                report
                    .skipped
                    .push((name, "is not signed in yet (connect it from the list)"));
                continue;
            }
            if file.is_some_and(|f| f.blocker == Some(Blocker::NeedsReconsent)) {
                report
                    .skipped
                    .push((name, "still needs re-consent: a new secret does not fix that (c)"));
                continue;
            }
            let run = self.run_id();
            self.refreshing.insert(name.clone(), run);
            report.pending.insert(run, name.clone());
            cmds.push(Cmd::Refresh {
                run,
                server: name,
                force: true,
            });
        }
        if report.pending.is_empty() {
            let (tone, text) = report.summary();
            self.say(tone, text);
        } else {
            self.say(
                Tone::Info,
                format!(
                    "Saved the new secret of app \"{app}\"; refreshing {} server{}…",
                    report.pending.len(),
                    if report.pending.len() == 1 { "" } else { "s" }
                ),
            );
            self.rotation_report = Some(report);
        }
        cmds
    }

    /// A refresh finished: if a rotation started it, count it; the last one says the summary.
    pub(crate) fn rotation_refreshed(&mut self, run: RunId, result: &Result<(), Failure>) {
        let Some(report) = self.rotation_report.as_mut() else {
            return;
        };
        let Some(name) = report.pending.remove(&run) else {
            return;
        };
        match result {
            Ok(()) => report.recovered.push(name),
            Err(f) => report.failed.push((name, f.clone())),
        }
        if report.pending.is_empty() {
            let (tone, text) = report.summary();
            self.rotation_report = None;
            self.say(tone, text);
        }
    }
}

/// No answer from Microsoft (offline, or past the time limit), not a refusal: why.
fn unverified(e: &SaveError) -> Option<String> {
    match e {
        SaveError::TimedOut { .. } => Some(e.to_string()),
        SaveError::Core(core) => match &**core {
            crate::ops::Error::Unverified(list) => Some(
                list.checks
                    .iter()
                    .find_map(|c| match &c.outcome {
                        crate::ops::preflight::Outcome::Unknown { why } => Some(why.clone()),
                        _ => None,
                    })
                    .unwrap_or_else(|| e.to_string()),
            ),
            _ => None,
        },
        SaveError::Fields(_) => None,
    }
}
