//! Steps 1–3: the Azure portal guide (register, secret, permissions). Step 2 holds the
//! secret's expiry date.

use super::form::{FieldId, Form};
use super::{Effect, Step, StepCtx, StepEvent, Wizard};
use crate::model::validate;
use crate::model::{AzureApp, registered_redirect_uri};
use crate::tui::state::Tone;
use crate::tui::state::keymap::Action;
use ratatui::crossterm::event::Event;
use tui_input::InputRequest;
use tui_input::backend::crossterm::EventHandler;

pub(super) fn update(w: &mut Wizard, ctx: &mut StepCtx, event: StepEvent) -> Vec<Effect> {
    match event {
        StepEvent::Action(action) => action_of(w, ctx, action),
        StepEvent::Text(key) if w.step == Step::Secret => {
            w.expires.handle_event(&Event::Key(key));
            Vec::new()
        }
        StepEvent::Paste(text) if w.step == Step::Secret => {
            for c in text.chars().filter(|c| !c.is_control()) {
                w.expires.handle(InputRequest::InsertChar(c));
            }
            Vec::new()
        }
        _ => Vec::new(),
    }
}

fn action_of(w: &mut Wizard, ctx: &mut StepCtx, action: Action) -> Vec<Effect> {
    let step = w.step;
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
            let next = match step {
                Step::Register => Step::Secret,
                Step::Secret => Step::Permissions,
                _ => Step::Form,
            };
            vec![Effect::Enter(next)]
        }
        Action::Back => match step.prev() {
            Some(p) => vec![Effect::Enter(p)],
            None => vec![Effect::Leave],
        },
        Action::Copy if step == Step::Register => vec![Effect::Copy {
            text: registered_redirect_uri(&ctx.config.settings),
            what: "Redirect URL",
        }],
        Action::Copy => match admin_consent_url(&w.form) {
            Some(text) => vec![Effect::Copy {
                text,
                what: "Admin consent URL",
            }],
            None => vec![Effect::Say(
                Tone::Warn,
                "The admin consent URL needs the client ID and tenant: fill them in on the next step, then come back.".into(),
            )],
        },
        _ => Vec::new(),
    }
}

/// The admin consent URL when the form has a usable client ID and tenant.
pub fn admin_consent_url(form: &Form) -> Option<String> {
    let client_id = validate::client_id(form.value(FieldId::ClientId)).ok()?;
    let tenant = validate::tenant(form.value(FieldId::Tenant)).ok()?;
    let authority = validate::authority(form.value(FieldId::Authority)).ok()?;
    let app = AzureApp {
        public_client: false,
        admin_consent_at: None,
        name: String::new(),
        client_id,
        tenant,
        secret: None,
        secret_expires: None,
        authority,
        certificate: None,
    };
    Some(app.admin_consent_url())
}
