//! Step 6: "Outlook token is valid" (the data is `Wizard::token`, the core's `Connected`).

use super::form::{FieldId, Form};
use super::{Effect, Step, StepCtx, StepEvent, Wizard};
use crate::model::health::Fix;
use crate::tui::state::keymap::Action;

pub(super) fn update(w: &mut Wizard, ctx: &mut StepCtx, event: StepEvent) -> Vec<Effect> {
    match event {
        StepEvent::Action(Action::Test) => vec![Effect::Enter(Step::Test)],
        StepEvent::Action(Action::Connect) => vec![Effect::Enter(Step::Connect)],
        StepEvent::Action(Action::Edit) => edit(w, ctx),
        // Signed in and saved: Esc goes back to the list the user came from, never to a bare
        // Connect screen whose keys (device code) mean something else.
        StepEvent::Action(Action::Back) => vec![Effect::Leave],
        _ => Vec::new(),
    }
}

/// The saved server's form. After a sign-in as another account than Username, on the
/// Sign in as field with that account filled in when it is a mail address (what the warning
/// suggests), to save or change.
fn edit(w: &mut Wizard, ctx: &StepCtx) -> Vec<Effect> {
    let Some(mut form) = w.server.as_deref().and_then(|n| Form::edit(ctx.config, n)) else {
        return Vec::new();
    };
    let fix = w
        .token
        .as_ref()
        .and_then(|t| t.mismatch.as_ref())
        .and_then(|m| m.fix());
    if let Some(Fix::SignInAs { account, .. }) = fix {
        // The account is a token claim: filled in only when it is a mail address the field
        // would take (anything else is left for the user to type).
        if let Ok(address) = crate::model::validate::username(&account) {
            form.fields.set(FieldId::SignInAs, &address);
        }
        form.fields.focus = FieldId::SignInAs;
    }
    w.form = form;
    vec![Effect::Enter(Step::Form)]
}
