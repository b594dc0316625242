//! Step 6: "Outlook token is valid" (the data is `Wizard::token`, the core's `Connected`).

use super::{Effect, Step, StepEvent, Wizard};
use crate::tui::state::keymap::Action;

pub(super) fn update(_w: &mut Wizard, event: StepEvent) -> Vec<Effect> {
    match event {
        StepEvent::Action(Action::Test) => vec![Effect::Enter(Step::Test)],
        StepEvent::Action(Action::Connect) => vec![Effect::Enter(Step::Connect)],
        // Signed in and saved: Esc goes back to the list the user came from, never to a bare
        // Connect screen whose keys (device code) mean something else.
        StepEvent::Action(Action::Back) => vec![Effect::Leave],
        _ => Vec::new(),
    }
}
