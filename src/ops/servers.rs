//! Adding, editing and removing servers and Azure apps.

use super::{Error, Result};
use crate::model::validate::{self, FieldError};
use crate::model::{AuthKind, AzureApp, Blocker, Config, DEFAULT_AUTHORITY, Server, ServerState, ServerType};
use crate::secret::Secret;
use crate::store::Store;
use std::path::PathBuf;

/// A new Azure app as typed by a person.
#[derive(Debug, Clone, Default)]
pub struct AppInput {
    /// Defaults to the server's name.
    pub name: Option<String>,
    pub client_id: String,
    pub tenant: String,
    pub secret: Option<Secret>,
    pub secret_expires: Option<String>,
    pub authority: Option<String>,
    /// A public client ("Mobile and desktop applications", *Allow public client flows*): it
    /// has no secret, and signs in with PKCE or a device code only.
    pub public_client: bool,
}

#[derive(Debug, Clone)]
pub enum AppChoice {
    /// Use an app already stored (several servers may share one).
    Existing(String),
    New(AppInput),
}

/// A new server as typed by a person (CLI flags or the TUI form).
#[derive(Debug, Clone)]
pub struct ServerInput {
    pub name: String,
    pub auth: AuthKind,
    pub host: String,
    pub port: String,
    pub username: String,
    /// Shared mailbox: the delegate who signs in (empty or `None`: the mailbox itself).
    pub sign_in_as: Option<String>,
    pub app: Option<AppChoice>,
    pub password: Option<Secret>,
    pub ca_file: Option<PathBuf>,
}

impl Default for ServerInput {
    fn default() -> Self {
        Self {
            name: String::new(),
            auth: AuthKind::OAuth2,
            host: crate::model::DEFAULT_HOST.into(),
            port: crate::model::DEFAULT_PORT.to_string(),
            username: String::new(),
            sign_in_as: None,
            app: None,
            password: None,
            ca_file: None,
        }
    }
}

pub fn validate_app(
    input: &AppInput,
    default_name: &str,
    config: &Config,
) -> Result<AzureApp, Vec<FieldError>> {
    let errors = std::cell::RefCell::new(Vec::new());
    let ok = |r: Result<String, FieldError>| r.map_err(|e| errors.borrow_mut().push(e)).unwrap_or_default();
    let name = input.name.clone().unwrap_or_else(|| default_name.to_string());
    let name = ok(validate::server_name(&name)
        .map_err(|e| FieldError::new(crate::model::validate::Field::AppName, e.message)));
    let client_id = ok(validate::client_id(&input.client_id));
    let tenant = ok(validate::tenant(&input.tenant));
    let secret = match &input.secret {
        Some(_) if input.public_client => {
            errors.borrow_mut().push(FieldError::new(
                crate::model::validate::Field::Secret,
                "a public client has no secret: leave the secret out, or register the app with a secret and drop the public-client choice",
            ));
            None
        }
        Some(s) => Some(Secret::new(ok(validate::secret(s.expose())))),
        None if input.public_client => None,
        None => {
            errors.borrow_mut().push(FieldError::new(
                crate::model::validate::Field::Secret,
                "paste the client secret's Value",
            ));
            None
        }
    };
    let authority = ok(validate::authority(
        input.authority.as_deref().unwrap_or(DEFAULT_AUTHORITY),
    ));
    let secret_expires = match input
        .secret_expires
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(_) if input.public_client => {
            errors.borrow_mut().push(FieldError::new(
                crate::model::validate::Field::SecretExpires,
                "a public client has no secret, so nothing expires",
            ));
            None
        }
        Some(d) => validate::secret_expiry_now(d)
            .map_err(|e| errors.borrow_mut().push(e))
            .ok(),
        None => None,
    };
    let mut errors = errors.into_inner();
    if config.app(&name).is_some() {
        errors.push(FieldError::new(
            crate::model::validate::Field::AppName,
            format!("an Azure app named \"{name}\" already exists; pick it instead of typing it again"),
        ));
    }
    if errors.is_empty() {
        Ok(AzureApp {
            name,
            client_id,
            tenant,
            secret,
            secret_expires,
            authority,
            certificate: None,
            public_client: input.public_client,
            admin_consent_at: None,
        })
    } else {
        Err(errors)
    }
}

/// The stored app for the registration `input` names (client ID and tenant as normalised),
/// if there is one.
pub fn same_registration<'a>(input: &AppInput, config: &'a Config) -> Option<&'a AzureApp> {
    let client_id = validate::client_id(&input.client_id).ok()?;
    let tenant = validate::tenant(&input.tenant).ok()?;
    config
        .apps
        .iter()
        .find(|a| a.client_id.eq_ignore_ascii_case(&client_id) && a.tenant.eq_ignore_ascii_case(&tenant))
}

/// What a stored app gets from the same registration typed again: `None` when nothing
/// differs (the app is reused as it is), a patch with the new secret and expiry (a renewal,
/// e.g. a Cloud Shell script run again), or a refusal when the typed app differs in what a
/// renewal does not change (authority, public client), naming both ways forward.
pub fn renewal(input: &AppInput, stored: &AzureApp) -> Result<Option<AppPatch>, FieldError> {
    let refuse = |what: String| {
        FieldError::new(
            crate::model::validate::Field::AzureApp,
            format!(
                "client ID {} of tenant {} is stored as app \"{}\" {what}; to reuse the app as it is, choose it by name; to change it, edit the app",
                stored.client_id, stored.tenant, stored.name
            ),
        )
    };
    if input.public_client != stored.public_client {
        return Err(refuse(if stored.public_client {
            "as a public client (no secret)".into()
        } else {
            "as a confidential client (with a secret or certificate), not a public client".into()
        }));
    }
    if let Some(authority) = input
        .authority
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty())
        && !authority
            .trim_end_matches('/')
            .eq_ignore_ascii_case(stored.authority.trim_end_matches('/'))
    {
        return Err(refuse(format!(
            "with the authority {}, not {authority}",
            stored.authority
        )));
    }
    let typed_expiry = input
        .secret_expires
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty());
    let new_secret = input.secret.as_ref().filter(|s| {
        stored
            .secret
            .as_ref()
            .is_none_or(|old| old.expose() != s.expose().trim())
    });
    let patch = match (new_secret, typed_expiry) {
        (Some(secret), expiry) => AppPatch {
            secret: Some(secret.clone()),
            secret_expires: expiry.map(str::to_string),
            ..AppPatch::default()
        },
        (None, Some(expiry)) if stored.secret_expires.is_none_or(|d| d.to_string() != expiry) => AppPatch {
            secret_expires: Some(expiry.to_string()),
            ..AppPatch::default()
        },
        (None, _) => return Ok(None),
    };
    Ok(Some(patch))
}

/// The stored app `input` would renew (its name and the servers that use it), if any.
pub fn renews(input: &ServerInput, config: &Config) -> Option<(String, Vec<String>)> {
    let Some(AppChoice::New(typed)) = &input.app else {
        return None;
    };
    let same = same_registration(typed, config)?;
    renewal(typed, same).ok().flatten()?;
    Some((
        same.name.clone(),
        app_users(config, &same.name)
            .into_iter()
            .map(|s| s.name)
            .collect(),
    ))
}

/// Checks every field, collecting all errors (the form shows them all at once).
pub fn validate_server(
    input: &ServerInput,
    config: &Config,
) -> Result<(Server, Option<AzureApp>), Vec<FieldError>> {
    let mut errors = Vec::new();
    let name = validate::server_name(&input.name)
        .map_err(|e| errors.push(e))
        .unwrap_or_default();
    if !name.is_empty() && config.server(&name).is_some() {
        errors.push(FieldError::new(
            crate::model::validate::Field::Name,
            format!("a server named \"{name}\" already exists"),
        ));
    }
    let host = validate::host(&input.host)
        .map_err(|e| errors.push(e))
        .unwrap_or_default();
    let port = validate::port(&input.port)
        .map_err(|e| errors.push(e))
        .unwrap_or_default();
    let username = validate::username(&input.username)
        .map_err(|e| errors.push(e))
        .unwrap_or_default();
    let sign_in_as = match input.sign_in_as.as_deref().map(str::trim) {
        Some(a) if !a.is_empty() && input.auth == AuthKind::OAuth2 => sign_in_as(a, &username)
            .map_err(|e| errors.push(e))
            .ok()
            .flatten(),
        Some(a) if !a.is_empty() => {
            errors.push(FieldError::new(
                crate::model::validate::Field::SignInAs,
                "only OAuth2.0 signs in as a delegate; Basic logs in with the mailbox's own password",
            ));
            None
        }
        _ => None,
    };
    let (app_name, new_app, password) = match input.auth {
        AuthKind::OAuth2 | AuthKind::OAuth2App => match &input.app {
            Some(AppChoice::Existing(a)) => {
                if config.app(a).is_none() {
                    errors.push(FieldError::new(
                        crate::model::validate::Field::AzureApp,
                        format!("no Azure app named \"{a}\""),
                    ));
                }
                (Some(a.clone()), None, None)
            }
            // The same registration typed again (same client ID and tenant) is the stored app:
            // one record, so a secret rotation reaches every server that uses it. What was
            // typed is never dropped: a new secret (or expiry) renews the app (it is checked
            // as the app it would become), anything else that differs is refused.
            Some(AppChoice::New(app)) if let Some(same) = same_registration(app, config) => {
                match renewal(app, same) {
                    Ok(None) => (Some(same.name.clone()), None, None),
                    Ok(Some(patch)) => {
                        let mut renewed = same.clone();
                        match apply_app_patch(&mut renewed, &patch) {
                            Ok(()) => {
                                // The stored expiry was the old secret's.
                                if patch.secret.is_some() && patch.secret_expires.is_none() {
                                    renewed.secret_expires = None;
                                }
                                (Some(same.name.clone()), Some(renewed), None)
                            }
                            Err(Error::Invalid(e)) => {
                                errors.extend(e);
                                (None, None, None)
                            }
                            Err(e) => {
                                errors.push(FieldError::new(
                                    crate::model::validate::Field::Secret,
                                    e.to_string(),
                                ));
                                (None, None, None)
                            }
                        }
                    }
                    Err(e) => {
                        errors.push(e);
                        (None, None, None)
                    }
                }
            }
            Some(AppChoice::New(app)) => match validate_app(app, &name, config) {
                Ok(app) => (Some(app.name.clone()), Some(app), None),
                Err(e) => {
                    errors.extend(e);
                    (None, None, None)
                }
            },
            None => {
                errors.push(FieldError::new(
                    crate::model::validate::Field::ClientId,
                    "give the app's client ID, tenant and secret, or pick an existing app",
                ));
                (None, None, None)
            }
        },
        AuthKind::Basic => {
            let pw = validate::password(input.password.as_ref().map_or("", Secret::expose))
                .map_err(|e| errors.push(e))
                .ok()
                .map(Secret::new);
            (None, None, pw)
        }
    };
    if let Some(ca) = &input.ca_file
        && let Err(e) = validate::ca_file(ca)
    {
        errors.push(e);
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let server = Server {
        id: crate::model::new_server_id(),
        name,
        server_type: ServerType::Imap,
        auth: input.auth,
        host,
        port,
        ssl: true,
        username,
        sign_in_as,
        app: app_name,
        password,
        ca_file: input.ca_file.clone(),
        state: ServerState::Draft,
        last_test: None,
    };
    Ok((server, new_app))
}

/// "Sign in as" checked as an address; the mailbox itself is no delegate (`None`).
fn sign_in_as(value: &str, mailbox: &str) -> Result<Option<String>, FieldError> {
    let a = validate::username(value)
        .map_err(|e| FieldError::new(crate::model::validate::Field::SignInAs, e.message))?;
    Ok((!crate::services::oauth::idtoken::same_account(&a, mailbox)).then_some(a))
}

/// The form of another mailbox like the stored server `other`: the same authentication, Azure
/// app, host, port and CA file (the cloud comes with the app and host); `name` and `username`
/// are the new mailbox's. The CLI's `add --like` and the wizard's "an app I already have" both
/// start from this.
pub fn like(config: &Config, other: &str, name: &str, username: &str) -> Result<ServerInput> {
    let template = config.server(other).ok_or_else(|| Error::NotFound {
        kind: "server",
        name: other.to_string(),
    })?;
    Ok(ServerInput {
        name: name.to_string(),
        auth: template.auth,
        host: template.host.clone(),
        port: template.port.to_string(),
        username: username.to_string(),
        sign_in_as: None,
        app: template.app.clone().map(AppChoice::Existing),
        password: None,
        ca_file: template.ca_file.clone(),
    })
}

/// Adds a server (and its new app) as a Draft.
pub fn add_server(store: &Store, input: &ServerInput) -> Result<Server> {
    let (server, renewed_users) = store.update(|config| {
        let (server, app) = validate_server(input, config).map_err(Error::Invalid)?;
        let mut renewed_users = Vec::new();
        if let Some(app) = app {
            // A renewal replaces the stored app of the same registration, in the same write.
            match config
                .apps
                .iter_mut()
                .find(|a| a.name == app.name && a.client_id == app.client_id && a.tenant == app.tenant)
            {
                Some(stored) => {
                    *stored = app;
                    renewed_users = app_users(config, &server.app.clone().unwrap_or_default());
                }
                None => config.apps.push(app),
            }
        }
        config.servers.push(server.clone());
        Ok::<_, Error>((server, renewed_users))
    })?;
    lift_credential_blockers(store, &renewed_users)?;
    Ok(server)
}

/// Changes to a server; `None` leaves a field alone.
#[derive(Debug, Clone, Default)]
pub struct ServerPatch {
    pub rename: Option<String>,
    pub host: Option<String>,
    pub port: Option<String>,
    pub username: Option<String>,
    /// `Some(None)` clears "Sign in as" (the mailbox signs in itself again).
    pub sign_in_as: Option<Option<String>>,
    pub app: Option<String>,
    pub auth: Option<AuthKind>,
    pub password: Option<Secret>,
    pub ca_file: Option<Option<PathBuf>>,
}

/// Field errors gathered while checking a patch: every wrong field, not only the first.
#[derive(Default)]
struct Fields(Vec<FieldError>);

impl Fields {
    /// The value when the check passed; the error is kept for the end otherwise.
    fn check<T>(&mut self, r: Result<T, FieldError>) -> Option<T> {
        r.map_err(|e| self.0.push(e)).ok()
    }
    fn push(&mut self, e: FieldError) {
        self.0.push(e);
    }
    fn into_result(self) -> Result<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Error::Invalid(self.0))
        }
    }
}

/// A server as it was and as a patch left it.
#[derive(Debug, Clone)]
pub struct ServerEdit {
    pub before: Server,
    pub after: Server,
}

impl ServerEdit {
    /// The tokens were minted for another mailbox, delegate or kind of access: no use now.
    pub fn drops_tokens(&self) -> bool {
        self.before.username != self.after.username
            || self.before.auth != self.after.auth
            || self.before.sign_in_as != self.after.sign_in_as
    }
}

/// Applies `patch` to the server `name` in `config` (nothing is saved here). Every field error
/// is reported at once (`Error::Invalid`); on any error `config` is left as it was. Changing
/// where or as whom it connects returns it to Draft: the last test no longer proves anything.
pub fn patch_server(config: &mut Config, name: &str, patch: &ServerPatch) -> Result<ServerEdit> {
    let before = server_of(config, name)?.clone();
    let mut fields = Fields::default();
    let mut server = before.clone();
    let new_name = patch
        .rename
        .as_ref()
        .and_then(|n| fields.check(validate::server_name(n)));
    if let Some(h) = &patch.host
        && let Some(h) = fields.check(validate::host(h))
    {
        server.host = h;
    }
    if let Some(p) = &patch.port
        && let Some(p) = fields.check(validate::port(p))
    {
        server.port = p;
    }
    if let Some(u) = &patch.username
        && let Some(u) = fields.check(validate::username(u))
    {
        server.username = u;
    }
    if let Some(a) = &patch.auth {
        server.auth = *a;
    }
    if let Some(d) = &patch.sign_in_as {
        server.sign_in_as = match d.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
            Some(d) => fields.check(sign_in_as(d, &server.username)).flatten(),
            None => None,
        };
    }
    if let Some(a) = &patch.app {
        server.app = Some(a.clone());
    }
    if let Some(p) = &patch.password
        && let Some(p) = fields.check(validate::password(p.expose()))
    {
        server.password = Some(Secret::new(p));
    }
    if let Some(ca) = &patch.ca_file {
        server.ca_file = match ca {
            Some(path) => fields.check(validate::ca_file(path)),
            None => None,
        };
    }
    if server.auth.is_oauth() && server.app.is_none() {
        fields.push(FieldError::new(
            crate::model::validate::Field::AzureApp,
            "OAuth2.0 needs an Azure app",
        ));
    }
    if server.auth == AuthKind::Basic && server.password.is_none() {
        fields.push(FieldError::new(
            crate::model::validate::Field::Password,
            "Basic needs a password",
        ));
    }
    fields.into_result()?;
    if let Some(n) = &new_name
        && n != name
        && config.server(n).is_some()
    {
        return Err(Error::Exists {
            kind: "server",
            name: n.clone(),
        });
    }
    if let Some(a) = &patch.app
        && config.app(a).is_none()
    {
        return Err(Error::NotFound {
            kind: "Azure app",
            name: a.clone(),
        });
    }
    server.ssl = true;
    if server.auth == AuthKind::Basic {
        server.sign_in_as = None;
    }
    let moved = server.host != before.host
        || server.port != before.port
        || server.username != before.username
        || server.sign_in_as != before.sign_in_as
        || server.app != before.app
        || server.auth != before.auth
        || server.password != before.password;
    if moved {
        server.state = ServerState::Draft;
    }
    if let Some(n) = new_name {
        server.name = n;
    }
    // A rename touches only config.json: the token file is named by the server's id.
    if let Some(slot) = config.server_mut(name) {
        *slot = server.clone();
    }
    Ok(ServerEdit {
        before,
        after: server,
    })
}

fn server_of<'a>(config: &'a Config, name: &str) -> Result<&'a Server> {
    config.server(name).ok_or_else(|| Error::NotFound {
        kind: "server",
        name: name.into(),
    })
}

/// Edits a server (see [`patch_server`]); its tokens go when they no longer fit.
pub fn edit_server(store: &Store, name: &str, patch: &ServerPatch) -> Result<Server> {
    edit_server_and_app(store, name, patch, None)
}

/// Edits a server and, in the same store write, an Azure app (the TUI's form changes both):
/// either both changes are saved or neither. Field errors of both come back together.
pub fn edit_server_and_app(
    store: &Store,
    name: &str,
    patch: &ServerPatch,
    app: Option<(&str, &AppPatch)>,
) -> Result<Server> {
    let (edit, users) = store.update(|config| {
        let mut fields = Vec::new();
        let mut users = Vec::new();
        let mut patched_app = None;
        if let Some((app_name, p)) = app {
            let mut changed = config.app(app_name).cloned().ok_or_else(|| Error::NotFound {
                kind: "Azure app",
                name: app_name.into(),
            })?;
            match apply_app_patch(&mut changed, p) {
                Ok(()) => patched_app = Some(changed),
                Err(Error::Invalid(f)) => fields.extend(f),
                Err(e) => return Err(e),
            }
            if p.changes_credentials() {
                users = app_users(config, app_name);
            }
        }
        // The server part runs even when the app part has field errors, so the form shows
        // all of them; the app is written back only when both parts passed.
        let edit = match patch_server(config, name, patch) {
            Ok(edit) => Some(edit),
            Err(Error::Invalid(f)) => {
                fields.extend(f);
                None
            }
            Err(e) => return Err(e),
        };
        if !fields.is_empty() {
            return Err(Error::Invalid(fields));
        }
        let edit = edit.ok_or(Error::Invalid(Vec::new()))?;
        if let Some(changed) = patched_app
            && let Some(slot) = config.app_mut(&changed.name)
        {
            *slot = changed;
        }
        Ok::<_, Error>((edit, users))
    })?;
    if edit.drops_tokens() {
        // The tokens were minted for the old mailbox and are never served for the new one
        // (the store checks); remove them now rather than keep a dead file.
        store.remove_tokens(&edit.after)?;
    }
    lift_credential_blockers(store, &users)?;
    Ok(edit.after)
}

/// Changes to an app; a new secret clears the secret-related blockers of every server using it.
#[derive(Debug, Clone, Default)]
pub struct AppPatch {
    pub client_id: Option<String>,
    pub tenant: Option<String>,
    pub secret: Option<Secret>,
    pub secret_expires: Option<String>,
    pub authority: Option<String>,
    /// Make the app a public client: its secret and the secret's expiry are dropped.
    pub public_client: bool,
}

impl AppPatch {
    /// True when the patch changes what Microsoft checks (so its refusals may be over).
    pub fn changes_credentials(&self) -> bool {
        self.secret.is_some() || self.client_id.is_some() || self.tenant.is_some() || self.public_client
    }
}

/// Applies `patch` to `app`, validating each field it sets (nothing is saved here). Every
/// field error is reported at once (`Error::Invalid`); on any error `app` is left as it was.
pub fn apply_app_patch(app: &mut AzureApp, patch: &AppPatch) -> Result<()> {
    let mut fields = Fields::default();
    let mut changed = app.clone();
    if let Some(c) = &patch.client_id
        && let Some(c) = fields.check(validate::client_id(c))
    {
        changed.client_id = c;
    }
    if let Some(t) = &patch.tenant
        && let Some(t) = fields.check(validate::tenant(t))
    {
        changed.tenant = t;
    }
    if patch.public_client {
        if patch.secret.is_some() || patch.secret_expires.is_some() {
            fields.push(FieldError::new(
                crate::model::validate::Field::Secret,
                "a public client has no secret: give either the secret or the public-client choice",
            ));
        } else {
            changed.public_client = true;
            changed.secret = None;
            changed.secret_expires = None;
        }
    }
    if let Some(s) = &patch.secret {
        if app.public_client {
            fields.push(FieldError::new(
                crate::model::validate::Field::Secret,
                "this app is a public client and sends no secret; to use a secret, add the app again without the public-client choice",
            ));
        } else if let Some(s) = fields.check(validate::secret(s.expose())) {
            changed.secret = Some(Secret::new(s));
        }
    }
    if let Some(d) = &patch.secret_expires
        && let Some(d) = fields.check(validate::secret_expiry_now(d))
    {
        changed.secret_expires = Some(d);
    }
    if let Some(a) = &patch.authority
        && let Some(a) = fields.check(validate::authority(a))
    {
        changed.authority = a;
    }
    fields.into_result()?;
    *app = changed;
    Ok(())
}

fn app_users(config: &Config, app: &str) -> Vec<Server> {
    config
        .servers
        .iter()
        .filter(|s| s.app.as_deref() == Some(app))
        .cloned()
        .collect()
}

/// New credentials may fix what Microsoft refused: the servers lose those blockers (the next
/// refresh tells).
fn lift_credential_blockers(store: &Store, users: &[Server]) -> Result<()> {
    for server in users {
        store.update_tokens(server, |f| {
            if matches!(f.blocker, Some(Blocker::SecretExpired | Blocker::BadClient)) {
                f.blocker = None;
                f.last_error = None;
            }
            Ok::<_, Error>(())
        })?;
    }
    Ok(())
}

pub fn edit_app(store: &Store, name: &str, patch: &AppPatch) -> Result<AzureApp> {
    let (app, users) = store.update(|config| {
        let users = if patch.changes_credentials() {
            app_users(config, name)
        } else {
            Vec::new()
        };
        let app = config.app_mut(name).ok_or_else(|| Error::NotFound {
            kind: "Azure app",
            name: name.into(),
        })?;
        apply_app_patch(app, patch)?;
        Ok::<_, Error>((app.clone(), users))
    })?;
    lift_credential_blockers(store, &users)?;
    Ok(app)
}

/// What removing a server left behind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removed {
    /// The server's Azure app, now used by no server (it stays, with its secret, until
    /// removed on purpose).
    pub unused_app: Option<String>,
    /// The token file that could not be deleted, and why (an unwritable `tokens/`): the
    /// server is gone, but its tokens are still on disk until a write that can removes them.
    pub tokens_left: Option<(std::path::PathBuf, String)>,
}

/// Removes the server named `name`, then its token file. The store write is the commit; the
/// token file is deleted after it, and if that fails the caller is told which file stayed.
pub fn remove_server(store: &Store, name: &str) -> Result<Removed> {
    let (server, unused_app) = store.update(|config| {
        let server = config.server(name).cloned().ok_or_else(|| Error::NotFound {
            kind: "server",
            name: name.into(),
        })?;
        config.servers.retain(|s| s.name != name);
        let unused_app = server.app.clone().filter(|a| config.servers_using(a).is_empty());
        Ok::<_, Error>((server, unused_app))
    })?;
    let path = store.tokens_path(&server);
    let tokens_left = match store.remove_tokens(&server) {
        Ok(()) if !path.exists() => None,
        Ok(()) => Some((path, "it is still there".to_string())),
        Err(
            crate::store::StoreError::ReadOnly { source, .. } | crate::store::StoreError::Io { source, .. },
        ) => Some((path, source.to_string())),
        Err(e) => Some((path, e.to_string())),
    };
    Ok(Removed {
        unused_app,
        tokens_left,
    })
}

pub fn remove_app(store: &Store, name: &str) -> Result<()> {
    store.update(|config| {
        let users: Vec<String> = config.servers_using(name).into_iter().map(String::from).collect();
        if !users.is_empty() {
            return Err(Error::AppInUse {
                app: name.into(),
                servers: users,
            });
        }
        let before = config.apps.len();
        config.apps.retain(|a| a.name != name);
        config.pending_certificates.retain(|p| p.app != name);
        if config.apps.len() == before {
            return Err(Error::NotFound {
                kind: "Azure app",
                name: name.into(),
            });
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLIENT: &str = "2c7f5e1a-84b3-4d69-a0e2-9b1c3d7f6a58";
    const SECRET: &str = "Xy8Q~abcdefghijklmnopqrstuvwxyz0123456789";

    fn store_with_server() -> (tempfile::TempDir, Store) {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(Some(tmp.path().join("s"))).unwrap();
        let input = ServerInput {
            name: "Support".into(),
            username: "support@contoso.com".into(),
            app: Some(AppChoice::New(AppInput {
                name: Some("Contoso".into()),
                client_id: CLIENT.into(),
                tenant: "contoso.com".into(),
                secret: Some(Secret::new(SECRET)),
                ..AppInput::default()
            })),
            ..ServerInput::default()
        };
        add_server(&store, &input).unwrap();
        (tmp, store)
    }

    fn fields(e: Error) -> Vec<&'static str> {
        match e {
            Error::Invalid(f) => f.iter().map(|f| f.field.label()).collect(),
            e => panic!("not field errors: {e}"),
        }
    }

    #[test]
    fn a_bad_server_part_leaves_the_app_unchanged_too() {
        let (_tmp, store) = store_with_server();
        let before = store.load().unwrap();
        let app = AppPatch {
            tenant: Some("fabrikam.com".into()),
            ..AppPatch::default()
        };
        let patch = ServerPatch {
            host: Some("not a host!".into()),
            ..ServerPatch::default()
        };
        let e = edit_server_and_app(&store, "Support", &patch, Some(("Contoso", &app))).unwrap_err();
        assert_eq!(fields(e), ["Server Name"]);
        assert_eq!(store.load().unwrap(), before, "nothing was written");
        // A server part that fails otherwise (an unknown app) stops it too.
        let patch = ServerPatch {
            app: Some("No such app".into()),
            ..ServerPatch::default()
        };
        let e = edit_server_and_app(&store, "Support", &patch, Some(("Contoso", &app))).unwrap_err();
        assert!(matches!(e, Error::NotFound { .. }), "{e}");
        assert_eq!(store.load().unwrap(), before);
    }

    #[test]
    fn server_and_app_are_saved_together() {
        let (_tmp, store) = store_with_server();
        let app = AppPatch {
            tenant: Some("fabrikam.com".into()),
            ..AppPatch::default()
        };
        let patch = ServerPatch {
            host: Some("imap.fabrikam.com".into()),
            ..ServerPatch::default()
        };
        let s = edit_server_and_app(&store, "Support", &patch, Some(("Contoso", &app))).unwrap();
        assert_eq!(s.host, "imap.fabrikam.com");
        let config = store.load().unwrap();
        assert_eq!(config.app("Contoso").unwrap().tenant, "fabrikam.com");
        assert_eq!(config.server("Support").unwrap().host, "imap.fabrikam.com");
    }

    #[test]
    fn every_field_error_of_both_parts_comes_back() {
        let (_tmp, store) = store_with_server();
        let before = store.load().unwrap();
        let app = AppPatch {
            client_id: Some("nope".into()),
            authority: Some("ftp://x".into()),
            ..AppPatch::default()
        };
        let patch = ServerPatch {
            host: Some("not a host!".into()),
            port: Some("port".into()),
            username: Some("no at sign".into()),
            ..ServerPatch::default()
        };
        let e = edit_server_and_app(&store, "Support", &patch, Some(("Contoso", &app))).unwrap_err();
        assert_eq!(
            fields(e),
            ["Azure Client ID", "Authority", "Server Name", "Port", "Username"]
        );
        assert_eq!(store.load().unwrap(), before);
    }

    #[test]
    fn edit_server_collects_all_field_errors() {
        let (_tmp, store) = store_with_server();
        let patch = ServerPatch {
            rename: Some(String::new()),
            port: Some("0".into()),
            auth: Some(AuthKind::Basic),
            ..ServerPatch::default()
        };
        let e = edit_server(&store, "Support", &patch).unwrap_err();
        assert_eq!(fields(e), ["Name", "Port", "Password"]);
    }

    #[test]
    fn apply_app_patch_collects_all_and_changes_nothing_on_error() {
        let (_tmp, store) = store_with_server();
        let mut app = store.load().unwrap().app("Contoso").unwrap().clone();
        let before = app.clone();
        let patch = AppPatch {
            client_id: Some("nope".into()),
            tenant: Some("not a tenant!".into()),
            secret: Some(Secret::new(SECRET)),
            public_client: true,
            ..AppPatch::default()
        };
        let e = apply_app_patch(&mut app, &patch).unwrap_err();
        assert_eq!(fields(e), ["Azure Client ID", "Tenant", "Secret"]);
        assert_eq!(app, before);
    }
}
