//! Step 1 on the script path: the setup script for Azure Cloud Shell (rendered by the core,
//! `ops::setup`), copied with one key, and the field that takes the setup code the script
//! prints last. A good code fills the form's app fields and goes on to the form; the parsed
//! code is dropped right after (it holds the client secret).

use super::page::Page;
use super::{Effect, Step, StepCtx, StepEvent, Wizard};
use crate::model::Settings;
use crate::ops::setup::{self, ScriptOptions, ScriptRequest, SetupCode, Shell};
use crate::tui::state::Tone;
use crate::tui::state::field::SecretField;
use crate::tui::state::ids::FieldId;
use crate::tui::state::keymap::{self, Action, Ctx};

#[derive(Debug, Clone, Default)]
pub struct ScriptPane {
    /// The PowerShell variant instead of bash.
    pub pwsh: bool,
    /// How far the script is scrolled (lines).
    pub scroll: u16,
    /// The pasted setup code (a secret: masked, never in Debug).
    pub code: SecretField,
    /// Typed keys go into the code field.
    pub focused: bool,
    /// Why the last code was refused (shown under the field).
    pub error: Option<String>,
    /// The last code looked cut off or wrapped: the next paste is added to it.
    continuing: bool,
}

impl ScriptPane {
    pub fn shell(&self) -> Shell {
        if self.pwsh { Shell::Pwsh } else { Shell::Bash }
    }
}

/// The script for these settings and the public-client choice, or why there is none (the
/// settings' public URL is not one Entra accepts).
pub fn text(
    settings: &Settings,
    public_client: bool,
    shell: Shell,
) -> Result<String, Vec<crate::model::validate::FieldError>> {
    let request = ScriptRequest {
        public_client,
        // A public client registers http://localhost, never the Web redirect.
        public_url: settings.public_url.clone().filter(|_| !public_client),
        ..ScriptRequest::default()
    };
    ScriptOptions::new(shell, &request).map(|o| setup::render(&o))
}

/// The field errors that stand in the way of a script, said in one line.
pub fn why_none(errors: &[crate::model::validate::FieldError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

pub(super) fn update(w: &mut Wizard, ctx: &mut StepCtx, event: StepEvent) -> Vec<Effect> {
    match event {
        StepEvent::Text(key) if w.script.focused => {
            w.script.code.key(key);
            Vec::new()
        }
        StepEvent::Paste(text) => {
            // A bracketed paste is used at once. After a code that looked cut off, the paste
            // may be its rest: a whole code on its own wins, else the two joined are tried.
            let s = &mut w.script;
            let mut alone = SecretField::default();
            alone.paste_lines(text);
            let joined_ok = s.continuing && {
                let mut joined = s.code.clone();
                joined.paste_lines("\n");
                joined.paste_lines(text);
                let ok = SetupCode::parse(alone.value()).is_err()
                    && SetupCode::parse(joined.value()).is_ok_and(|c| !c.app_only);
                if ok {
                    s.code = joined;
                }
                ok
            };
            if !joined_ok {
                s.code = alone;
            }
            pasted(w)
        }
        StepEvent::Action(action) => action_of(w, ctx, action),
        _ => Vec::new(),
    }
}

fn action_of(w: &mut Wizard, ctx: &mut StepCtx, action: Action) -> Vec<Effect> {
    if w.script.focused {
        match action {
            Action::Submit => return submit(w, ctx),
            Action::NextField | Action::Back => w.script.focused = false,
            _ => {}
        }
        return Vec::new();
    }
    let s = &mut w.script;
    match action {
        Action::Copy => {
            return match text(&ctx.config.settings, w.form.public_client, s.shell()) {
                Ok(text) => vec![Effect::Copy {
                    text,
                    what: "Setup script",
                }],
                Err(e) => vec![Effect::Say(Tone::Error, format!("No script: {}", why_none(&e)))],
            };
        }
        Action::Left | Action::Right => {
            s.pwsh = !s.pwsh;
            s.scroll = 0;
        }
        Action::Up => s.scroll = s.scroll.saturating_sub(1),
        Action::Down => s.scroll = s.scroll.saturating_add(1),
        Action::ScrollUp => s.scroll = s.scroll.saturating_sub(10),
        Action::ScrollDown => s.scroll = s.scroll.saturating_add(10),
        Action::NextField => s.focused = true,
        Action::Submit => return submit(w, ctx),
        Action::Back => {
            *s = ScriptPane::default();
            w.guide.page = Page::Choose;
        }
        _ => {}
    }
    Vec::new()
}

/// A pasted code waits for Enter (what is wrong with it is said at once): used on paste, the
/// Enter people press after a paste out of habit would save the form.
fn pasted(w: &mut Wizard) -> Vec<Effect> {
    let s = &mut w.script;
    s.focused = true;
    match SetupCode::parse(s.code.value()) {
        Err(e) => {
            s.continuing = e.may_continue();
            s.error = Some(e.to_string());
            Vec::new()
        }
        Ok(_) => {
            s.continuing = false;
            s.error = None;
            let enter = keymap::key_or_mark(&[Ctx::ScriptCode], Action::Submit);
            vec![Effect::Say(
                Tone::Info,
                format!("Setup code pasted: {enter} uses it."),
            )]
        }
    }
}

fn submit(w: &mut Wizard, ctx: &mut StepCtx) -> Vec<Effect> {
    let parsed = SetupCode::parse(w.script.code.value());
    match parsed {
        Err(e) => {
            w.script.continuing = e.may_continue();
            w.script.error = Some(e.to_string());
            w.script.focused = true;
            Vec::new()
        }
        Ok(code) => {
            let said = fill(w, &code, &ctx.config.settings);
            w.script = ScriptPane {
                pwsh: w.script.pwsh,
                ..ScriptPane::default()
            };
            vec![said, Effect::Enter(Step::Form)]
        }
    }
}

/// Puts the code's app into the form and says what was filled.
fn fill(w: &mut Wizard, code: &SetupCode, settings: &Settings) -> Effect {
    let f = &mut w.form;
    f.set_value(FieldId::ClientId, &code.client_id);
    f.set_value(FieldId::Tenant, &code.tenant);
    f.set_value(FieldId::Secret, code.secret.as_ref().map_or("", |s| s.expose()));
    f.set_value(
        FieldId::Expires,
        &code.secret_expires.map(|d| d.to_string()).unwrap_or_default(),
    );
    f.public_client = code.public_client;
    f.just_created = true;
    if code.app_only {
        // No user signs in: the code names the mailboxes the script gave the app.
        f.auth = crate::model::AuthKind::OAuth2App;
        if let [only] = code.mailboxes.as_slice() {
            f.set_value(FieldId::Username, only);
        }
    }
    f.app = None;
    f.fields.focus = FieldId::Name;
    for field in [
        FieldId::ClientId,
        FieldId::Tenant,
        FieldId::Secret,
        FieldId::Expires,
    ] {
        f.fields.mark(field, None);
    }
    let granted = if code.app_only {
        format!(
            " App-only: the script gave the app {}.",
            code.mailboxes.join(", ")
        )
    } else {
        String::new()
    };
    let what = match code.secret_expires {
        Some(d) if code.secret.is_some() => {
            format!("client ID, tenant, secret (expires {d})")
        }
        _ => "client ID and tenant (a public client: no secret)".to_string(),
    };
    let back = keymap::key_or_mark(&[Ctx::Form], Action::Back);
    let consent = if code.admin_consent {
        "The script granted admin consent for the organization.".to_string()
    } else {
        format!(
            "Admin consent was not granted: most tenants need an admin to consent once ({back} shows the link)."
        )
    };
    f.note = Some(format!("From the setup code: {what}. {consent}{granted}"));
    let mut text = "Filled from the setup code: add the name and the mailbox.".to_string();
    let mut tone = Tone::Ok;
    // The core's check; the settings are reached from the server list.
    if let Some(advice) = code.redirect_advice(settings) {
        let g = keymap::key_or_mark(&[Ctx::Review], Action::Settings);
        if let Some(n) = f.note.as_mut() {
            n.push_str(&format!(
                " The redirect differs: {}; set the public URL in the settings ({g} on the server list) to match.",
                advice.words
            ));
        }
        text = "Filled from the setup code, but its redirect URI differs (see above the fields).".into();
        tone = Tone::Warn;
    }
    Effect::Say(tone, text)
}
