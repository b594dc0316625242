//! Secret rotation (`s` on an OAuth2 server): the new client secret Value and its expiry for
//! the server's Azure app. Saving goes through the core (`edit_app`, which also lifts the
//! "secret expired" / "bad client" blockers of every server of the app); then every signed-in
//! server of the app is refreshed and the result summed up in one line.

use super::cmd::Cmd;
use super::field::{Fields, TextField};
use super::keymap::{self, Action, Ctx};
use super::msg::{Failure, RunId, SaveError};
use super::{Model, Popup, Tone};
use crate::model::validate;
use crate::model::{AuthKind, Blocker};
use crate::secret::Secret;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RotateField {
    Secret,
    Expires,
}

const ORDER: [RotateField; 2] = [RotateField::Secret, RotateField::Expires];

/// The form. `Debug` never shows the typed secret (its field is masked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    pub app: String,
    /// Servers that use the app.
    pub users: Vec<String>,
    /// The secret Value (masked) and its expiry, the errors under them, the focus, and
    /// whether the secret is shown in clear (Ctrl-R).
    pub fields: Fields<RotateField>,
    /// A store error that belongs to no field.
    pub general: Option<String>,
    pub save_run: Option<RunId>,
    /// Why Microsoft could not check the new secret (offline): the question "save unchecked?"
    /// is open while this is set.
    pub unverified: Option<String>,
}

impl Rotation {
    pub fn new(app: &str, users: Vec<String>) -> Self {
        Self {
            app: app.to_string(),
            users,
            fields: Fields::new(
                RotateField::Secret,
                [
                    (RotateField::Secret, TextField::masked("")),
                    (RotateField::Expires, TextField::default()),
                ],
            ),
            general: None,
            save_run: None,
            unverified: None,
        }
    }

    fn toggle_focus(&mut self, today: jiff::civil::Date) {
        let focus = self.fields.focus;
        let error = self.check(focus, today);
        self.fields.leave(focus, error);
        self.fields.step(&ORDER, 1);
    }

    /// The one-field check: why `field` cannot be saved as typed.
    fn check(&self, field: RotateField, today: jiff::civil::Date) -> Option<String> {
        let v = self.fields.value(field);
        match field {
            RotateField::Secret => validate::secret(v).err().map(|e| e.message),
            RotateField::Expires if v.trim().is_empty() => {
                Some("enter the Expires date the portal shows next to the new secret (YYYY-MM-DD)".into())
            }
            RotateField::Expires => {
                match validate::date(crate::model::validate::Field::SecretExpires, v.trim()) {
                    Err(e) => Some(e.message),
                    Ok(d) if d <= today => Some(format!(
                        "{d} is not in the future: the secret would already be expired; check the Expires column"
                    )),
                    Ok(_) => None,
                }
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
                self.popup = Some(Popup::Rotate(Box::new(Rotation::new(&app, users))));
            }
        }
        Vec::new()
    }

    /// The new-client-secret form: its popup, or under help, the quit question or "save
    /// unchecked?" over it.
    pub fn rotation(&self) -> Option<&Rotation> {
        [&self.popup, &self.covered].into_iter().find_map(|p| match p {
            Some(Popup::Rotate(r) | Popup::ConfirmUnchecked(Some(r))) => Some(&**r),
            _ => None,
        })
    }

    /// Takes the form out of wherever it is (see [`Self::rotation`]).
    fn take_rotation(&mut self) -> Option<Box<Rotation>> {
        for slot in [&mut self.popup, &mut self.covered] {
            if matches!(slot, Some(Popup::Rotate(_) | Popup::ConfirmUnchecked(Some(_)))) {
                return match slot.take() {
                    Some(Popup::Rotate(r) | Popup::ConfirmUnchecked(Some(r))) => Some(r),
                    _ => None,
                };
            }
        }
        None
    }

    pub(crate) fn rotation_action(&mut self, action: Action) -> Vec<Cmd> {
        let today = self.now.to_zoned(self.tz.clone()).date();
        let Some(Popup::Rotate(mut r)) = self.popup.take() else {
            return Vec::new();
        };
        match action {
            Action::NextField | Action::PrevField => r.toggle_focus(today),
            Action::Reveal if r.fields.focus == RotateField::Secret => r.fields.reveal = !r.fields.reveal,
            // The form goes (a save already sent goes on, its answer unheard).
            Action::Back => {
                if r.save_run.is_some() {
                    self.say(Tone::Info, "Left the form; the save already sent goes on.");
                }
                return Vec::new();
            }
            Action::Submit if r.save_run.is_none() => {
                let errors: Vec<(RotateField, String)> = ORDER
                    .iter()
                    .filter_map(|f| r.check(*f, today).map(|e| (*f, e)))
                    .collect();
                if errors.is_empty() {
                    r.fields.errors.clear();
                    r.general = None;
                    r.fields.reveal = false;
                    return self.send_rotation(r, false);
                }
                // The focus goes to the first bad field, which stays shown as it was.
                let reveal = r.fields.reveal;
                r.fields.show_errors(errors, &ORDER);
                r.fields.reveal = reveal;
                self.popup = Some(Popup::Rotate(r));
                self.say(Tone::Warn, "The new secret needs attention (marked ✖).");
                return Vec::new();
            }
            _ => {}
        }
        self.popup = Some(Popup::Rotate(r));
        Vec::new()
    }

    /// Sends the form's secret to the core (checked with Microsoft first unless `unchecked`)
    /// and shows the form while it waits.
    fn send_rotation(&mut self, mut r: Box<Rotation>, unchecked: bool) -> Vec<Cmd> {
        let run = self.run_id();
        r.save_run = Some(run);
        r.unverified = None;
        let secret = Secret::new(r.fields.value(RotateField::Secret).trim());
        let expires = r.fields.value(RotateField::Expires).trim().to_string();
        let app = r.app.clone();
        self.popup = Some(Popup::Rotate(r));
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
        let yes = match action {
            Action::Yes => true,
            Action::No => false,
            _ => return Vec::new(),
        };
        match self.popup.take() {
            Some(Popup::ConfirmUnchecked(Some(r))) if yes => self.send_rotation(r, true),
            Some(Popup::ConfirmUnchecked(Some(mut r))) => {
                r.unverified = None;
                self.popup = Some(Popup::Rotate(r));
                self.say(Tone::Info, "Not saved: the old secret stays.");
                Vec::new()
            }
            // The wizard's renewal asked (its form's secret would replace a stored one).
            _ => self.wizard_event(crate::tui::state::wizard::StepEvent::SaveUnchecked(yes)),
        }
    }

    /// The core stored the secret (or refused it): refresh every signed-in server of the app.
    pub(crate) fn on_secret_saved(&mut self, run: RunId, result: Result<(), SaveError>) -> Vec<Cmd> {
        if self.rotation().is_none_or(|r| r.save_run != Some(run)) {
            return Vec::new();
        }
        let Some(mut r) = self.take_rotation() else {
            return Vec::new();
        };
        r.save_run = None;
        let app = r.app.clone();
        let (tone, said) = match result {
            Err(SaveError::Fields(errors)) => {
                for e in errors {
                    let field = if e.field == crate::model::validate::Field::SecretExpires {
                        RotateField::Expires
                    } else {
                        RotateField::Secret
                    };
                    r.fields.mark(field, Some(e.message));
                }
                (
                    Tone::Warn,
                    "Not saved: the new secret needs attention (marked ✖).".to_string(),
                )
            }
            // Microsoft could not be asked: say so and ask whether to save unchecked.
            Err(e) if unverified(&e).is_some() => {
                r.unverified = unverified(&e);
                self.popup = Some(Popup::ConfirmUnchecked(Some(r)));
                self.say(
                    Tone::Warn,
                    "Microsoft could not check the new secret; the old one stays unless you save it unchecked.",
                );
                return Vec::new();
            }
            // Microsoft refused it: the old secret stays, the reason goes under the field.
            Err(SaveError::Core(e)) if matches!(*e, crate::ops::Error::Preflight(_)) => {
                r.fields.mark(RotateField::Secret, Some(e.to_string()));
                r.fields.focus = RotateField::Secret;
                (
                    Tone::Error,
                    "Not saved: Microsoft refused the new secret; the old one stays.".to_string(),
                )
            }
            Err(e) => {
                r.general = Some(e.to_string());
                (Tone::Error, format!("Not saved: {e}"))
            }
            Ok(()) => {
                self.popup = None;
                return self.refresh_after_rotation(app);
            }
        };
        // Not saved: the form stays where it was (under help, if that is open).
        self.put_back_rotation(r);
        self.say(tone, said);
        Vec::new()
    }

    /// Back where [`Self::take_rotation`] found the form: its popup, or under the popup
    /// (help, the quit question) that is open.
    fn put_back_rotation(&mut self, r: Box<Rotation>) {
        let slot = if self.popup.is_none() {
            &mut self.popup
        } else {
            &mut self.covered
        };
        *slot = Some(Popup::Rotate(r));
    }

    /// The secret is stored: every signed-in server of the app is refreshed, and the last
    /// refresh says how they all went.
    fn refresh_after_rotation(&mut self, app: String) -> Vec<Cmd> {
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
