//! The server form (wizard step 4, and `e` on a server): the seed's fields and labels,
//! validation on leaving a field and on submit.

use super::preflight::{self, Preflight};
use super::{Effect, Step, StepCtx, StepEvent, Wizard};
use crate::model::validate::{self, FieldError};
use crate::model::{AuthKind, Cloud, Config, DEFAULT_AUTHORITY, DEFAULT_HOST, DEFAULT_PORT};
use crate::ops::servers::{AppChoice, AppInput, AppPatch, ServerInput, ServerPatch, validate_server};
use crate::secret::Secret;
use crate::tui::state::Tone;
use crate::tui::state::cmd::{Cmd, SaveRequest};
use crate::tui::state::field::{self, Fields, TextField};
pub use crate::tui::state::ids::FieldId;
use crate::tui::state::ids::RunId;
use crate::tui::state::keymap::Action;
use crate::tui::state::msg::SaveError;
use std::collections::BTreeMap;
use std::path::PathBuf;

const TEXT_FIELDS: [FieldId; 10] = [
    FieldId::Name,
    FieldId::Host,
    FieldId::Port,
    FieldId::Username,
    FieldId::SignInAs,
    FieldId::ClientId,
    FieldId::Tenant,
    FieldId::Expires,
    FieldId::Authority,
    FieldId::CaFile,
];

/// The fields that hold a secret ([`FieldId::is_secret`]): masked [`TextField`]s.
const SECRET_FIELDS: [FieldId; 2] = [FieldId::Secret, FieldId::Password];

/// The server form. `Debug` never shows the secret or the password (see the impl).
#[derive(Clone)]
pub struct Form {
    /// `Some(original name)` when editing a stored server.
    pub editing: Option<String>,
    /// The app the edited server used when the form opened.
    pub original_app: Option<String>,
    pub auth: AuthKind,
    /// `None`: a new app typed here; `Some(name)`: a stored app.
    pub app: Option<String>,
    /// Names of the stored apps (the choices).
    pub apps: Vec<String>,
    /// The text fields (Secret and Password masked: their `Debug` shows no value), the
    /// errors under them, the focus (a choice too) and whether the focused secret is shown.
    pub fields: Fields<FieldId>,
    /// Errors that belong to no visible field.
    pub general: Option<String>,
    /// Where the values came from (e.g. a setup code), shown above the fields.
    pub note: Option<String>,
    /// A public client (no secret: the app signs in with PKCE / device code only).
    pub public_client: bool,
    /// The app was created moments ago (by the setup script): the save's pre-flight waits
    /// out Entra's replication lag.
    pub just_created: bool,
    /// Originals of the edited server's app, to send only what changed.
    original_values: BTreeMap<FieldId, String>,
    /// The cloud chosen (sets Authority and Server Name while they hold its defaults).
    pub cloud: Cloud,
    pub preflight: Preflight,
}

impl std::fmt::Debug for Form {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Form")
            .field("editing", &self.editing)
            .field("auth", &self.auth)
            .field("app", &self.app)
            .field("public_client", &self.public_client)
            .field("fields", &self.fields)
            .field("general", &self.general)
            .field("cloud", &self.cloud)
            .field("preflight", &self.preflight)
            .finish_non_exhaustive()
    }
}

impl Form {
    pub fn new(config: &Config) -> Self {
        let mut fields = Fields::new(
            FieldId::Name,
            TEXT_FIELDS
                .iter()
                .map(|f| (*f, TextField::default()))
                .chain(SECRET_FIELDS.iter().map(|f| (*f, TextField::masked("")))),
        );
        fields.set(FieldId::Host, DEFAULT_HOST);
        fields.set(FieldId::Port, &DEFAULT_PORT.to_string());
        fields.set(FieldId::Authority, DEFAULT_AUTHORITY);
        Self {
            editing: None,
            original_app: None,
            auth: AuthKind::OAuth2,
            app: None,
            apps: config.apps.iter().map(|a| a.name.clone()).collect(),
            fields,
            general: None,
            note: None,
            public_client: false,
            just_created: false,
            original_values: BTreeMap::new(),
            cloud: Cloud::Global,
            preflight: Preflight::Idle,
        }
    }

    /// A form filled from a stored server (secrets left empty: empty keeps them).
    pub fn edit(config: &Config, name: &str) -> Option<Self> {
        let server = config.server(name)?;
        let mut form = Self::new(config);
        form.editing = Some(server.name.clone());
        form.original_app = server.app.clone();
        form.auth = server.auth;
        form.public_client = config.app_of(server).is_some_and(|a| a.public_client);
        form.app = server.app.clone().or_else(|| form.apps.first().cloned());
        let mut set = |f: FieldId, v: String| {
            form.original_values.insert(f, v.clone());
            form.fields.set(f, &v);
        };
        set(FieldId::Name, server.name.clone());
        set(FieldId::Host, server.host.clone());
        set(FieldId::Port, server.port.to_string());
        set(FieldId::Username, server.username.clone());
        set(FieldId::SignInAs, server.sign_in_as.clone().unwrap_or_default());
        set(
            FieldId::CaFile,
            server
                .ca_file
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
        );
        if let Some(app) = config.app_of(server) {
            set(FieldId::ClientId, app.client_id.clone());
            set(FieldId::Tenant, app.tenant.clone());
            set(FieldId::Authority, app.authority.clone());
            set(
                FieldId::Expires,
                app.secret_expires.map(|d| d.to_string()).unwrap_or_default(),
            );
        }
        // The IMAP host tells GCC High from DoD (one authority serves both).
        let by_authority = config
            .app_of(server)
            .and_then(|a| Cloud::of_authority(&a.authority));
        form.cloud = Cloud::of_imap_host(&server.host)
            .or(by_authority)
            .unwrap_or_default();
        Some(form)
    }

    /// Another cloud: Server Name and Authority follow when they still hold the previous
    /// cloud's defaults (a value typed by hand is never overwritten).
    fn set_cloud(&mut self, cloud: Cloud) {
        let before = self.cloud;
        self.cloud = cloud;
        let host = self
            .value(FieldId::Host)
            .trim()
            .trim_end_matches('.')
            .to_ascii_lowercase();
        if host.is_empty() || host == before.imap_host() {
            self.set_value(FieldId::Host, cloud.imap_host());
            self.fields.mark(FieldId::Host, None);
        }
        let authority = self
            .value(FieldId::Authority)
            .trim()
            .trim_end_matches('/')
            .to_ascii_lowercase();
        if authority.is_empty() || authority == before.authority() {
            self.set_value(FieldId::Authority, cloud.authority());
            self.fields.mark(FieldId::Authority, None);
        }
    }

    pub fn value(&self, f: FieldId) -> &str {
        self.fields.value(f)
    }

    pub fn set_value(&mut self, f: FieldId, v: &str) {
        self.fields.set(f, v);
    }

    /// True when the app's own fields (client ID, tenant, secret …) are shown.
    pub fn shows_app_fields(&self) -> bool {
        self.auth.is_oauth()
            && match &self.app {
                None => self.editing.is_none(),
                Some(a) => self.editing.is_some() && self.original_app.as_ref() == Some(a),
            }
    }

    pub fn visible(&self) -> Vec<FieldId> {
        use FieldId as F;
        let mut v = vec![
            F::Name,
            F::ServerType,
            F::Auth,
            F::Host,
            F::Port,
            F::Ssl,
            F::Username,
        ];
        match self.auth {
            AuthKind::OAuth2 | AuthKind::OAuth2App => {
                // App-only has no signed-in user, so no delegate either.
                if self.auth == AuthKind::OAuth2 {
                    v.push(F::SignInAs);
                }
                if !self.apps.is_empty() {
                    v.push(F::App);
                }
                let app_fields = self.shows_app_fields();
                if app_fields {
                    // A public client has no secret, so nothing that expires.
                    if !self.public_client {
                        v.push(F::Secret);
                    }
                    v.extend([F::ClientId, F::Tenant]);
                    if !self.public_client {
                        v.push(F::Expires);
                    }
                }
                v.push(F::Cloud);
                if app_fields {
                    v.push(F::Authority);
                }
            }
            AuthKind::Basic => v.push(F::Password),
        }
        v.push(F::CaFile);
        v
    }

    fn focusable(&self) -> Vec<FieldId> {
        self.visible().into_iter().filter(|f| !f.locked()).collect()
    }

    /// True when the focused field takes typed text.
    pub fn focus_is_text(&self) -> bool {
        self.fields.focus_is_text()
    }

    /// Tab / Shift-Tab: the field left is checked, then the focus moves round the fields shown.
    fn move_focus(&mut self, delta: isize, config: &Config) {
        let error = self.check(self.fields.focus, config);
        self.fields.leave(self.fields.focus, error);
        self.fields.step(&self.focusable(), delta);
    }

    pub fn next(&mut self, config: &Config) {
        self.move_focus(1, config);
    }

    pub fn prev(&mut self, config: &Config) {
        self.move_focus(-1, config);
    }

    /// ←/→: change a choice, or move the cursor in a text field.
    pub fn step_choice(&mut self, delta: isize) {
        match self.fields.focus {
            FieldId::Auth => {
                const ORDER: [AuthKind; 3] = [AuthKind::OAuth2, AuthKind::OAuth2App, AuthKind::Basic];
                self.auth = field::ring(&ORDER, self.auth, delta);
            }
            FieldId::App => {
                let mut choices: Vec<Option<String>> = Vec::new();
                if self.editing.is_none() {
                    choices.push(None);
                }
                choices.extend(self.apps.iter().cloned().map(Some));
                self.app = field::ring(&choices, self.app.take(), delta);
                self.fields.mark(FieldId::App, None);
            }
            FieldId::Cloud => self.set_cloud(field::ring(&Cloud::ALL, self.cloud, delta)),
            _ => self.fields.move_cursor(delta),
        }
    }

    /// The one-field check run when leaving `f`.
    pub fn check(&self, f: FieldId, config: &Config) -> Option<String> {
        let v = self.value(f);
        let err = |r: Result<(), FieldError>| r.err().map(|e| e.message);
        match f {
            FieldId::Name => match validate::server_name(v) {
                Err(e) => Some(e.message),
                Ok(n) if config.server(&n).is_some() && self.editing.as_deref() != Some(n.as_str()) => {
                    Some(format!("a server named \"{n}\" already exists"))
                }
                Ok(_) => None,
            },
            FieldId::Host => err(validate::host(v).map(drop)),
            FieldId::Port => err(validate::port(v).map(drop)),
            FieldId::Username => err(validate::username(v).map(drop)),
            FieldId::SignInAs if v.trim().is_empty() => None,
            FieldId::SignInAs => err(validate::username(v).map(drop)),
            FieldId::ClientId => err(validate::client_id(v).map(drop)),
            FieldId::Tenant => err(validate::tenant(v).map(drop)),
            FieldId::Secret if v.is_empty() && self.editing.is_some() => None,
            FieldId::Secret => err(validate::secret(v).map(drop)),
            FieldId::Authority => err(validate::authority(v).map(drop)),
            FieldId::Expires if v.trim().is_empty() => None,
            FieldId::Expires => {
                err(validate::date(crate::model::validate::Field::SecretExpires, v).map(drop))
            }
            FieldId::Password if v.is_empty() && self.editing.is_some() => None,
            FieldId::Password if v.is_empty() => Some("enter the mailbox password".into()),
            _ => None,
        }
    }

    /// Applies errors from the core (or from the save) and focuses the first bad field.
    pub fn show_errors(&mut self, errors: Vec<FieldError>) {
        let visible = self.visible();
        let mut general = Vec::new();
        let mut marked = Vec::new();
        for e in errors {
            match FieldId::from_core(e.field).filter(|f| visible.contains(f)) {
                Some(f) => marked.push((f, e.message)),
                None => general.push(e.to_string()),
            }
        }
        self.general = (!general.is_empty()).then(|| general.join("; "));
        self.fields.show_errors(marked, &visible);
    }

    /// Submit: validates everything; on success the request to save.
    pub fn submit(&mut self, config: &Config) -> Option<SaveRequest> {
        let error = self.check(self.fields.focus, config);
        self.fields.leave(self.fields.focus, error);
        let result = match &self.editing {
            None => self.add_request(config),
            Some(name) => self.edit_request(config, name.clone()),
        };
        match result {
            Ok(req) => {
                self.fields.errors.clear();
                self.general = None;
                Some(req)
            }
            Err(errors) => {
                self.show_errors(errors);
                None
            }
        }
    }

    /// "Sign in as" for the core: only OAuth2.0 has a delegate.
    fn sign_in_as(&self) -> Option<String> {
        let v = self.value(FieldId::SignInAs).trim();
        (self.auth == AuthKind::OAuth2 && !v.is_empty()).then(|| v.to_string())
    }

    fn ca_file(&self) -> Option<PathBuf> {
        let v = self.value(FieldId::CaFile).trim();
        (!v.is_empty()).then(|| PathBuf::from(v))
    }

    fn add_request(&self, config: &Config) -> Result<SaveRequest, Vec<FieldError>> {
        let secret_expires = if self.public_client {
            ""
        } else {
            self.value(FieldId::Expires)
        };
        let app = match (self.auth, &self.app) {
            (AuthKind::Basic, _) => None,
            (AuthKind::OAuth2 | AuthKind::OAuth2App, Some(a)) => Some(AppChoice::Existing(a.clone())),
            (AuthKind::OAuth2 | AuthKind::OAuth2App, None) => Some(AppChoice::New(AppInput {
                name: None,
                client_id: self.value(FieldId::ClientId).to_string(),
                tenant: self.value(FieldId::Tenant).to_string(),
                secret: Some(Secret::new(self.value(FieldId::Secret)))
                    .filter(|s: &Secret| !s.is_empty() && !self.public_client),
                secret_expires: Some(secret_expires.to_string()).filter(|s| !s.trim().is_empty()),
                authority: Some(self.value(FieldId::Authority).to_string()),
                public_client: self.public_client,
            })),
        };
        let mut input = ServerInput {
            name: self.value(FieldId::Name).to_string(),
            auth: self.auth,
            host: self.value(FieldId::Host).to_string(),
            port: self.value(FieldId::Port).to_string(),
            username: self.value(FieldId::Username).to_string(),
            sign_in_as: self.sign_in_as(),
            app,
            password: (self.auth == AuthKind::Basic).then(|| Secret::new(self.value(FieldId::Password))),
            // Checked when saving (reading the file is I/O, and `update` stays pure).
            ca_file: None,
        };
        validate_server(&input, config)?;
        input.ca_file = self.ca_file();
        Ok(SaveRequest::Add {
            input: Box::new(input),
            just_created: self.just_created,
        })
    }

    fn edit_request(&self, config: &Config, name: String) -> Result<SaveRequest, Vec<FieldError>> {
        let mut errors = Vec::new();
        for f in self.visible() {
            if let (Some(msg), Some(field)) = (self.check(f, config), f.core_field()) {
                errors.push(FieldError::new(field, msg));
            }
        }
        if self.auth.is_oauth() && self.app.is_none() {
            errors.push(FieldError::new(
                crate::model::validate::Field::AzureApp,
                "OAuth2.0 needs an Azure app: add one with a new server (n) first",
            ));
        }
        if self.auth == AuthKind::Basic
            && self.value(FieldId::Password).is_empty()
            && config.server(&name).is_some_and(|s| s.password.is_none())
        {
            errors.push(FieldError::new(
                crate::model::validate::Field::Password,
                "enter the mailbox password",
            ));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let new_name = self.value(FieldId::Name).trim().to_string();
        let password = self.value(FieldId::Password);
        let patch = ServerPatch {
            rename: (new_name != name).then_some(new_name),
            host: Some(self.value(FieldId::Host).to_string()),
            port: Some(self.value(FieldId::Port).to_string()),
            username: Some(self.value(FieldId::Username).to_string()),
            // Empty clears a delegate; Basic and app-only have none.
            sign_in_as: Some(self.sign_in_as()),
            app: if self.auth.is_oauth() {
                self.app.clone()
            } else {
                None
            },
            auth: Some(self.auth),
            password: (self.auth == AuthKind::Basic && !password.is_empty()).then(|| Secret::new(password)),
            ca_file: Some(self.ca_file()),
        };
        let app = match (&self.app, self.shows_app_fields()) {
            (Some(app), true) => {
                let changed = |f: FieldId| {
                    let v = self.value(f).trim();
                    (self.original_values.get(&f).map(String::as_str) != Some(v) && !v.is_empty())
                        .then(|| v.to_string())
                };
                let secret = self.value(FieldId::Secret);
                let p = AppPatch {
                    client_id: changed(FieldId::ClientId),
                    tenant: changed(FieldId::Tenant),
                    secret: (!secret.is_empty()).then(|| Secret::new(secret)),
                    secret_expires: changed(FieldId::Expires),
                    authority: changed(FieldId::Authority),
                    public_client: false,
                };
                let any = p.client_id.is_some()
                    || p.tenant.is_some()
                    || p.secret.is_some()
                    || p.secret_expires.is_some()
                    || p.authority.is_some();
                any.then(|| (app.clone(), Box::new(p)))
            }
            _ => None,
        };
        Ok(SaveRequest::Edit {
            name,
            patch: Box::new(patch),
            app,
        })
    }
}

/// Step 4's transitions (the form of a new server, or `e` on a stored one).
pub(super) fn update(w: &mut Wizard, ctx: &mut StepCtx, event: StepEvent) -> Vec<Effect> {
    let action = match event {
        StepEvent::Text(key) => {
            w.form.fields.key(key);
            return Vec::new();
        }
        StepEvent::Paste(text) => {
            w.form.fields.paste(text);
            return Vec::new();
        }
        StepEvent::Action(a) => a,
        _ => return Vec::new(),
    };
    match action {
        Action::NextField => w.form.next(ctx.config),
        Action::PrevField => w.form.prev(ctx.config),
        Action::Left => w.form.step_choice(-1),
        Action::Right => w.form.step_choice(1),
        Action::Reveal => w.form.fields.reveal = !w.form.fields.reveal,
        Action::Back if w.form.preflight.run().is_some() => {
            // Esc while Microsoft is asked: stop asking, stay on the form.
            let run = w.form.preflight.run();
            w.form.preflight = Preflight::Idle;
            let mut effects: Vec<Effect> = run.map(|r| Effect::Cmd(Cmd::Cancel(r))).into_iter().collect();
            effects.push(Effect::Say(
                Tone::Info,
                "Check stopped; nothing was saved.".into(),
            ));
            return effects;
        }
        // Another mailbox of a stored app skipped the portal steps: back to its list.
        Action::Back if w.new && w.guide.path == super::page::Path::Existing => {
            w.guide.page = super::page::Page::Apps;
            return vec![Effect::Enter(Step::Register)];
        }
        Action::Back if w.new => return vec![Effect::Enter(Step::Permissions)],
        Action::Back => return vec![Effect::Leave],
        Action::Submit if w.save_run.is_none() && w.form.preflight.run().is_none() => {
            return match w.form.submit(ctx.config) {
                Some(request) if preflight::needed(&request) => preflight::start(w, ctx, request),
                Some(request) => {
                    w.form.preflight = Preflight::Idle;
                    save(w, ctx, request, true)
                }
                None => vec![Effect::FieldsNeedAttention],
            };
        }
        _ => {}
    }
    Vec::new()
}

/// Saves `request` (after pre-flight allowed it); `say` announces it (not when a warning
/// should stay on the status line).
pub(super) fn save(w: &mut Wizard, ctx: &mut StepCtx, request: SaveRequest, say: bool) -> Vec<Effect> {
    let run = ctx.run_id();
    w.save_run = Some(run);
    w.renewing = match &request {
        SaveRequest::Add { input, .. } => crate::ops::servers::renews(input, ctx.config),
        SaveRequest::Edit { .. } => None,
    };
    let mut effects = Vec::new();
    if say {
        effects.push(Effect::Say(Tone::Info, "Saving…".into()));
    }
    effects.push(Effect::Cmd(Cmd::Save { run, request }));
    effects
}

/// The save started by `update` finished.
pub(super) fn on_saved(
    w: &mut Wizard,
    ctx: &mut StepCtx,
    run: RunId,
    result: Result<String, SaveError>,
) -> Vec<Effect> {
    if w.save_run != Some(run) {
        return Vec::new();
    }
    w.save_run = None;
    // Said with the result: the form (and its checklist) is rebuilt below.
    let unchecked = match &w.form.preflight {
        Preflight::Done(list) if list.unanswered() => {
            " The credentials were not checked; the sign-in checks them."
        }
        Preflight::Warned(_) => " The credentials were not checked; the sign-in checks them.",
        _ => "",
    };
    let tone = if unchecked.is_empty() {
        Tone::Ok
    } else {
        Tone::Warn
    };
    let renewed = match w.renewing.take() {
        Some((app, users)) if result.is_ok() => {
            let others: Vec<String> = users.iter().map(|u| format!("\"{u}\"")).collect();
            let also = if others.is_empty() {
                String::new()
            } else {
                format!(
                    ", which {} also use{}",
                    others.join(", "),
                    if others.len() == 1 { "s" } else { "" }
                )
            };
            format!(
                " This registration is stored as app \"{app}\": its secret and expiry were renewed{also}."
            )
        }
        _ => String::new(),
    };
    match result {
        Ok(name) => {
            w.server = Some(name.clone());
            if let Some(f) = Form::edit(ctx.config, &name) {
                w.form = f;
            }
            let server = ctx.config.server(&name);
            let mut effects = vec![Effect::Select(name.clone())];
            if !w.new {
                let state = server.map_or("Draft", |s| s.state.label());
                effects.push(Effect::Say(
                    tone,
                    format!("Saved \"{name}\" ({state}).{unchecked}"),
                ));
                effects.push(Effect::Leave);
                return effects;
            }
            effects.push(Effect::Say(
                tone,
                format!("Saved \"{name}\" as a Draft.{renewed}{unchecked}"),
            ));
            effects.push(Effect::Enter(match server.map_or(AuthKind::OAuth2, |s| s.auth) {
                AuthKind::OAuth2 => Step::Connect,
                // App-only has nothing to sign in to: the Exchange side comes instead.
                AuthKind::OAuth2App => Step::Exchange,
                AuthKind::Basic => Step::Test,
            }));
            effects
        }
        Err(SaveError::Fields(errors)) => {
            w.form.show_errors(errors);
            vec![Effect::FieldsNeedAttention]
        }
        Err(e) => {
            w.form.general = Some(e.to_string());
            vec![Effect::Say(Tone::Error, format!("Not saved: {e}"))]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::validate::Field;

    #[test]
    fn basic_hides_azure_fields_and_asks_for_a_password() {
        let mut f = Form::new(&Config::default());
        assert!(f.visible().contains(&FieldId::ClientId));
        f.fields.focus = FieldId::Auth;
        f.step_choice(-1);
        assert_eq!(f.auth, AuthKind::Basic);
        let v = f.visible();
        assert!(!v.contains(&FieldId::ClientId) && !v.contains(&FieldId::Secret));
        assert!(v.contains(&FieldId::Password));
    }

    #[test]
    fn core_fields_map_to_form_fields() {
        assert_eq!(FieldId::from_core(Field::Host), Some(FieldId::Host));
        assert_eq!(FieldId::from_core(Field::ClientId), Some(FieldId::ClientId));
        assert_eq!(FieldId::from_core(Field::Mailbox), None);
    }
}
