//! Pre-flight in the form's save: before a new app's credentials (or an edit that changes
//! them) are stored, the core proves tenant, client ID and secret with Microsoft. A failure
//! blocks the save and puts the cursor on the field to fix; a check nobody answered (offline,
//! timeout) only warns, and the save goes on.

use super::{Effect, StepCtx, Wizard};
use crate::ops::preflight::{CheckItem, Checklist, patch_changes_credentials};
use crate::ops::servers::AppChoice;
use crate::tui::state::Tone;
use crate::tui::state::cmd::{Cmd, SaveRequest};
use crate::tui::state::ids::FieldId;
use crate::tui::state::msg::{PreflightEvent, RunId, SaveError};

/// The form's pre-flight, as last seen.
#[derive(Debug, Clone, Default)]
pub enum Preflight {
    #[default]
    Idle,
    Running {
        run: RunId,
        /// What is saved once the checks pass.
        request: Box<SaveRequest>,
        checking: Option<CheckItem>,
        /// Replication lag: "Microsoft has not seen the new app yet; retrying in 8 s…"
        waiting: Option<String>,
    },
    /// The checks ran (failed: the form stays; passed or unanswered: saved).
    Done(Checklist),
    /// Pre-flight itself could not run (the network, the store): why; the save went on.
    Warned(String),
    /// The form renews a stored app (same registration, new secret) and Microsoft could not
    /// be asked: nothing is saved until the person chooses to save unchecked (`request`).
    Unverified {
        app: String,
        why: String,
        request: Box<SaveRequest>,
    },
}

impl Preflight {
    pub fn run(&self) -> Option<RunId> {
        match self {
            Preflight::Running { run, .. } => Some(*run),
            _ => None,
        }
    }
}

/// Whether saving `request` first needs pre-flight: a new app typed into the form, or an
/// edit that changes what pre-flight proves. A stored app chosen as is was proved before.
pub fn needed(request: &SaveRequest) -> bool {
    match request {
        SaveRequest::Add { input, .. } => matches!(input.app, Some(AppChoice::New(_))),
        SaveRequest::Edit { app, .. } => app.as_ref().is_some_and(|(_, p)| patch_changes_credentials(p)),
    }
}

/// Starts pre-flight for `request` (the save follows when it allows).
pub(super) fn start(w: &mut Wizard, ctx: &mut StepCtx, request: SaveRequest) -> Vec<Effect> {
    let run = ctx.run_id();
    w.form.preflight = Preflight::Running {
        run,
        request: Box::new(request.clone()),
        checking: None,
        waiting: None,
    };
    vec![
        Effect::Say(Tone::Info, "Checking the credentials with Microsoft…".into()),
        Effect::Cmd(Cmd::Preflight {
            run,
            request,
            just_created: w.form.just_created,
        }),
    ]
}

/// Progress or the result of the pre-flight `run`.
pub(super) fn on_event(w: &mut Wizard, ctx: &mut StepCtx, run: RunId, event: PreflightEvent) -> Vec<Effect> {
    let Preflight::Running {
        run: current,
        request,
        checking,
        waiting,
    } = &mut w.form.preflight
    else {
        return Vec::new();
    };
    if *current != run {
        return Vec::new();
    }
    match event {
        PreflightEvent::Checking(item) => {
            *checking = Some(item);
            Vec::new()
        }
        PreflightEvent::Waiting(text) => {
            *waiting = Some(crate::sanitize::peer_text(&text));
            Vec::new()
        }
        PreflightEvent::Done(result) => {
            let request = (**request).clone();
            finish(w, ctx, request, result)
        }
    }
}

fn finish(
    w: &mut Wizard,
    ctx: &mut StepCtx,
    request: SaveRequest,
    result: Result<Option<Checklist>, SaveError>,
) -> Vec<Effect> {
    match result {
        Ok(Some(list)) if !list.passed() => {
            if let Some(f) = list.field_to_fix().map(FieldId::from_credential) {
                w.form.fields.focus = f;
                w.form.fields.reveal = false;
            }
            w.form.preflight = Preflight::Done(list);
            vec![Effect::Say(
                Tone::Error,
                "Not saved: Microsoft did not accept the credentials (details under the form).".into(),
            )]
        }
        Ok(Some(list)) => {
            let warn = list.unanswered();
            w.form.preflight = Preflight::Done(list);
            let mut effects = Vec::new();
            if warn {
                effects.push(Effect::Say(
                    Tone::Warn,
                    "Some credentials could not be checked (offline?); saved anyway, the sign-in checks them again."
                        .into(),
                ));
            }
            effects.push(Effect::Save(request, !warn));
            effects
        }
        Ok(None) => {
            w.form.preflight = Preflight::Idle;
            vec![Effect::Save(request, true)]
        }
        Err(SaveError::Fields(errors)) => {
            w.form.preflight = Preflight::Idle;
            w.form.show_errors(errors);
            vec![Effect::FieldsNeedAttention]
        }
        // The form renews a stored app (same registration, new secret) and Microsoft could not
        // be asked: the working secret is not replaced unchecked unless the person says so
        // (as the rotation popup asks).
        Err(SaveError::Core(e)) if matches!(*e, crate::ops::Error::Unverified(_)) => {
            let why = crate::sanitize::peer_text(&e.to_string());
            let app = match &request {
                SaveRequest::Add { input, .. } => {
                    crate::ops::servers::renews(input, ctx.config).map(|(app, _)| app)
                }
                SaveRequest::Edit { app, .. } => app.as_ref().map(|(a, _)| a.clone()),
            }
            .unwrap_or_else(|| w.form.value(FieldId::ClientId).trim().to_string());
            w.form.preflight = Preflight::Unverified {
                app,
                why,
                request: Box::new(request),
            };
            vec![
                Effect::Say(
                    Tone::Warn,
                    "Microsoft could not check the new secret; the stored one stays unless you save it unchecked.".into(),
                ),
                Effect::AskUnchecked,
            ]
        }
        Err(e) => {
            let e = crate::sanitize::peer_text(&e.to_string());
            w.form.preflight = Preflight::Warned(e.clone());
            let mut effects = vec![Effect::Say(
                Tone::Warn,
                format!("Credentials not checked ({e}); saved anyway, the sign-in checks them again."),
            )];
            effects.push(Effect::Save(request, false));
            effects
        }
    }
}

/// The answer to "save unchecked?": yes saves the renewal without Microsoft's word (said so
/// with the result); no keeps the stored secret and the form as typed.
pub(super) fn unchecked_answer(w: &mut Wizard, yes: bool) -> Vec<Effect> {
    let Preflight::Unverified { why, request, .. } = std::mem::take(&mut w.form.preflight) else {
        return Vec::new();
    };
    if !yes {
        w.form.preflight = Preflight::Warned(why);
        return vec![Effect::Say(
            Tone::Info,
            "Not saved: the stored secret stays. Save again when Microsoft can be reached.".into(),
        )];
    }
    w.form.preflight = Preflight::Warned(why);
    let mut effects = vec![Effect::Say(Tone::Warn, "Saving the new secret unchecked…".into())];
    effects.push(Effect::Save(*request, false));
    effects
}
