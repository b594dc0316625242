//! Steps 1–3: the Azure side. Step 1 starts with two questions (the setup script in Cloud
//! Shell or the portal step by step; a client secret or a public client). On the portal path
//! each value is typed on the step that shows where to find it — client ID and tenant on
//! "Register", the secret Value and its expiry on "Secret" — straight into the form's fields
//! (`w.form`), so step 4 shows them filled and nothing is juggled through the clipboard.

use super::form::Form;
pub use super::page::{Page, Path, Question};
use super::{Effect, Step, StepCtx, StepEvent, Wizard, script};
use crate::model::validate;
use crate::model::{AzureApp, registered_redirect_uri};
use crate::ops::setup::PUBLIC_CLIENT_REDIRECT;
use crate::tui::state::Tone;
use crate::tui::state::field;
use crate::tui::state::ids::FieldId;
use crate::tui::state::keymap::Action;

#[derive(Debug, Clone)]
pub struct Guide {
    pub page: Page,
    pub path: Path,
    pub question: Question,
    /// The focused field on "Register" (client ID, tenant) or "Secret" (secret, expiry).
    pub focus: FieldId,
    /// The stored app chosen on [`Page::Apps`] (an index into the store's apps).
    pub app_choice: usize,
}

impl Default for Guide {
    fn default() -> Self {
        Self {
            page: Page::Choose,
            path: Path::Script,
            question: Question::Path,
            focus: FieldId::ClientId,
            app_choice: 0,
        }
    }
}

/// The form fields a guide step holds.
pub fn fields_of(step: Step) -> &'static [FieldId] {
    match step {
        Step::Register => &[FieldId::ClientId, FieldId::Tenant],
        Step::Secret => &[FieldId::Secret, FieldId::Expires],
        _ => &[],
    }
}

impl Guide {
    /// True when typed keys go into a field of this step.
    pub fn typing(&self, step: Step) -> bool {
        match step {
            Step::Register => self.page == Page::Portal,
            Step::Secret => true,
            _ => false,
        }
    }
}

pub(super) fn update(w: &mut Wizard, ctx: &mut StepCtx, event: StepEvent) -> Vec<Effect> {
    if w.step == Step::Register && w.guide.page == Page::Script {
        return script::update(w, ctx, event);
    }
    match event {
        StepEvent::Action(action) => action_of(w, ctx, action),
        StepEvent::Text(key) if w.guide.typing(w.step) => {
            w.form.fields.key_into(w.guide.focus, key);
            Vec::new()
        }
        StepEvent::Paste(text) if w.guide.typing(w.step) => {
            w.form.fields.paste_into(w.guide.focus, text);
            Vec::new()
        }
        _ => Vec::new(),
    }
}

fn action_of(w: &mut Wizard, ctx: &mut StepCtx, action: Action) -> Vec<Effect> {
    if w.step == Step::Register && w.guide.page == Page::Choose {
        return choose(w, action, !ctx.config.apps.is_empty());
    }
    if w.step == Step::Register && w.guide.page == Page::Apps {
        return super::existing::update(w, ctx, action);
    }
    let step = w.step;
    match action {
        Action::NextField | Action::PrevField if w.guide.typing(step) => {
            check(w, ctx, w.guide.focus);
            w.form.fields.reveal = false;
            let delta = if action == Action::NextField { 1 } else { -1 };
            w.guide.focus = field::ring(fields_of(step), w.guide.focus, delta);
            Vec::new()
        }
        Action::Reveal if step == Step::Secret => {
            w.form.fields.reveal = !w.form.fields.reveal;
            Vec::new()
        }
        Action::Open => {
            let bad: Vec<FieldId> = fields_of(step)
                .iter()
                .copied()
                .filter(|f| !check(w, ctx, *f))
                .collect();
            if let Some(first) = bad.first() {
                w.guide.focus = *first;
                return Vec::new();
            }
            w.form.fields.reveal = false;
            let next = match step {
                Step::Register if w.form.public_client => Step::Permissions,
                Step::Register => Step::Secret,
                Step::Secret => Step::Permissions,
                _ => Step::Form,
            };
            w.guide.focus = fields_of(next).first().copied().unwrap_or(FieldId::ClientId);
            vec![Effect::Enter(next)]
        }
        Action::Back => {
            w.form.fields.reveal = false;
            let prev = match step {
                Step::Register => {
                    w.guide.page = Page::Choose;
                    return Vec::new();
                }
                Step::Permissions if w.guide.path == Path::Script || w.form.public_client => Step::Register,
                Step::Permissions => Step::Secret,
                _ => Step::Register,
            };
            w.guide.focus = fields_of(prev).first().copied().unwrap_or(FieldId::ClientId);
            vec![Effect::Enter(prev)]
        }
        Action::Copy if step == Step::Register => vec![redirect_copy(w, ctx)],
        Action::Copy if step == Step::Permissions => match admin_consent_link(w, &ctx.config.settings) {
            Some(text) => vec![Effect::Copy {
                text,
                what: "Admin consent URL",
            }],
            None => vec![Effect::Say(
                Tone::Warn,
                "The admin consent URL needs the client ID and tenant: enter them on the Register step (or the form), then come back.".into(),
            )],
        },
        _ => Vec::new(),
    }
}

/// The choice page: ↑/↓ picks the question, ←/→ the answer, Enter goes on. With stored
/// apps the first question has a third answer, an app I already have (which asks no second
/// question: the app answered it).
fn choose(w: &mut Wizard, action: Action, apps_stored: bool) -> Vec<Effect> {
    let g = &mut w.guide;
    match action {
        Action::Up | Action::Down if g.path == Path::Existing => g.question = Question::Path,
        Action::Up | Action::Down => {
            g.question = match g.question {
                Question::Path => Question::Credential,
                Question::Credential => Question::Path,
            };
        }
        Action::Left | Action::Right => match g.question {
            Question::Path => {
                let answers: &[Path] = if apps_stored {
                    &[Path::Script, Path::Portal, Path::Existing]
                } else {
                    &[Path::Script, Path::Portal]
                };
                let delta = if action == Action::Right { 1 } else { -1 };
                g.path = field::ring(answers, g.path, delta);
            }
            Question::Credential => {
                w.form.public_client = !w.form.public_client;
                w.form.fields.mark(FieldId::Secret, None);
                w.form.fields.mark(FieldId::Expires, None);
            }
        },
        Action::Open => {
            g.page = match g.path {
                Path::Script => Page::Script,
                Path::Portal => Page::Portal,
                Path::Existing => Page::Apps,
            };
            g.focus = FieldId::ClientId;
        }
        Action::Back => return vec![Effect::Leave],
        _ => {}
    }
    Vec::new()
}

/// The redirect URI to register: the Web one, or the loopback one under "Mobile and desktop"
/// for a public client (its path included: Entra compares it).
pub fn redirect_to_register(w: &Wizard, settings: &crate::model::Settings) -> String {
    if w.form.public_client {
        PUBLIC_CLIENT_REDIRECT.to_string()
    } else {
        registered_redirect_uri(settings)
    }
}

fn redirect_copy(w: &Wizard, ctx: &StepCtx) -> Effect {
    Effect::Copy {
        text: redirect_to_register(w, &ctx.config.settings),
        what: "Redirect URL",
    }
}

/// Checks one guide field (an empty one is left for the form to ask); the reason goes under
/// it. True when it may be left.
fn check(w: &mut Wizard, ctx: &StepCtx, f: FieldId) -> bool {
    let v = w.form.value(f).trim().to_string();
    let result = if v.is_empty() {
        Ok(())
    } else {
        match f {
            FieldId::ClientId => validate::client_id(&v).map(drop),
            FieldId::Tenant => validate::tenant(&v).map(drop),
            FieldId::Secret => validate::secret(&v).map(drop),
            FieldId::Expires => validate::secret_expiry(&v, ctx.today).map(drop),
            _ => Ok(()),
        }
    };
    let ok = result.is_ok();
    w.form.fields.mark(f, result.err().map(|e| e.message));
    ok
}

/// The admin consent link to send an admin, when the form has a usable client ID and
/// tenant: the one the CLI and the hints print ([`AzureApp::admin_consent_link`]), answered
/// to the redirect URI registered on step 1, so the address the admin's browser ends on
/// (`admin_consent=True`) can be pasted at the sign-in step and is recorded.
pub fn admin_consent_link(w: &Wizard, settings: &crate::model::Settings) -> Option<String> {
    let app = form_app(&w.form)?;
    Some(app.admin_consent_link(&redirect_to_register(w, settings)))
}

/// The app the form describes, when its client ID, tenant and authority are usable.
fn form_app(form: &Form) -> Option<AzureApp> {
    let client_id = validate::client_id(form.value(FieldId::ClientId)).ok()?;
    let tenant = validate::tenant(form.value(FieldId::Tenant)).ok()?;
    let authority = validate::authority(form.value(FieldId::Authority)).ok()?;
    Some(AzureApp {
        public_client: form.public_client,
        admin_consent_at: None,
        name: String::new(),
        client_id,
        tenant,
        secret: None,
        secret_expires: None,
        authority,
        certificate: None,
    })
}
