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
    let name = ok(validate::server_name(&name).map_err(|e| FieldError::new("App name", e.message)));
    let client_id = ok(validate::client_id(&input.client_id));
    let tenant = ok(validate::tenant(&input.tenant));
    let secret = match &input.secret {
        Some(_) if input.public_client => {
            errors.borrow_mut().push(FieldError::new(
                "Secret",
                "a public client has no secret: leave the secret out, or register the app with a secret and drop the public-client choice",
            ));
            None
        }
        Some(s) => Some(Secret::new(ok(validate::secret(s.expose())))),
        None if input.public_client => None,
        None => {
            errors
                .borrow_mut()
                .push(FieldError::new("Secret", "paste the client secret's Value"));
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
                "Secret expires",
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
            "App name",
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
            "Name",
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
                "Sign in as",
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
                        "Azure app",
                        format!("no Azure app named \"{a}\""),
                    ));
                }
                (Some(a.clone()), None, None)
            }
            // The same registration typed again (same client ID and tenant) is the stored app:
            // one record, so a secret rotation reaches every server that uses it.
            Some(AppChoice::New(app)) if let Some(same) = same_registration(app, config) => {
                (Some(same.name.clone()), None, None)
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
                    "Azure Client ID",
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
    let a = validate::username(value).map_err(|e| FieldError::new("Sign in as", e.message))?;
    Ok((!crate::services::oauth::idtoken::same_account(&a, mailbox)).then_some(a))
}

/// Adds a server (and its new app) as a Draft.
pub fn add_server(store: &Store, input: &ServerInput) -> Result<Server> {
    store.update(|config| {
        let (server, app) = validate_server(input, config).map_err(Error::Invalid)?;
        if let Some(app) = app {
            config.apps.push(app);
        }
        config.servers.push(server.clone());
        Ok(server)
    })
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

/// Edits a server. Changing where or as whom it connects returns it to Draft: the last test no
/// longer proves anything.
pub fn edit_server(store: &Store, name: &str, patch: &ServerPatch) -> Result<Server> {
    // A rename touches only config.json: the token file is named by the server's id.
    let (old, server) = store.update(|config| {
        let apps: Vec<String> = config.apps.iter().map(|a| a.name.clone()).collect();
        let new_name = match &patch.rename {
            Some(n) => {
                let n = validate::server_name(n)?;
                if n != name && config.server(&n).is_some() {
                    return Err(Error::Exists {
                        kind: "server",
                        name: n,
                    });
                }
                Some(n)
            }
            None => None,
        };
        let server = config.server_mut(name).ok_or_else(|| Error::NotFound {
            kind: "server",
            name: name.into(),
        })?;
        let before = server.clone();
        if let Some(h) = &patch.host {
            server.host = validate::host(h)?;
        }
        if let Some(p) = &patch.port {
            server.port = validate::port(p)?;
        }
        if let Some(u) = &patch.username {
            server.username = validate::username(u)?;
        }
        if let Some(a) = &patch.auth {
            server.auth = *a;
        }
        if let Some(d) = &patch.sign_in_as {
            server.sign_in_as = match d.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
                Some(d) => sign_in_as(d, &server.username)?,
                None => None,
            };
        }
        if let Some(a) = &patch.app {
            if !apps.contains(a) {
                return Err(Error::NotFound {
                    kind: "Azure app",
                    name: a.clone(),
                });
            }
            server.app = Some(a.clone());
        }
        if let Some(p) = &patch.password {
            server.password = Some(Secret::new(validate::password(p.expose())?));
        }
        if let Some(ca) = &patch.ca_file {
            server.ca_file = match ca {
                Some(path) => Some(validate::ca_file(path)?),
                None => None,
            };
        }
        if server.auth.is_oauth() && server.app.is_none() {
            return Err(FieldError::new("Azure app", "OAuth2.0 needs an Azure app").into());
        }
        if server.auth == AuthKind::Basic && server.password.is_none() {
            return Err(FieldError::new("Password", "Basic needs a password").into());
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
        Ok(((before.username, before.auth, before.sign_in_as), server.clone()))
    })?;
    let (old_username, old_auth, old_sign_in_as) = old;
    // Tokens are the signed-in account's: another mailbox or delegate needs new ones, and
    // tokens of the other kind are no use (a delegated token is not the app's, and an
    // app-only token opens nothing as the signed-in user).
    if old_username != server.username || old_auth != server.auth || old_sign_in_as != server.sign_in_as {
        // The tokens were minted for the old mailbox and are never served for the new one
        // (the store checks); remove them now rather than keep a dead file.
        store.remove_tokens(&server)?;
    }
    Ok(server)
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

/// Applies `patch` to `app`, validating each field it sets (nothing is saved here).
pub fn apply_app_patch(app: &mut AzureApp, patch: &AppPatch) -> Result<()> {
    if let Some(c) = &patch.client_id {
        app.client_id = validate::client_id(c)?;
    }
    if let Some(t) = &patch.tenant {
        app.tenant = validate::tenant(t)?;
    }
    if patch.public_client {
        if patch.secret.is_some() || patch.secret_expires.is_some() {
            return Err(FieldError::new(
                "Secret",
                "a public client has no secret: give either the secret or the public-client choice",
            )
            .into());
        }
        app.public_client = true;
        app.secret = None;
        app.secret_expires = None;
    }
    if let Some(s) = &patch.secret {
        if app.public_client {
            return Err(FieldError::new(
                "Secret",
                "this app is a public client and sends no secret; to use a secret, add the app again without the public-client choice",
            )
            .into());
        }
        app.secret = Some(Secret::new(validate::secret(s.expose())?));
    }
    if let Some(d) = &patch.secret_expires {
        app.secret_expires = Some(validate::secret_expiry_now(d)?);
    }
    if let Some(a) = &patch.authority {
        app.authority = validate::authority(a)?;
    }
    Ok(())
}

pub fn edit_app(store: &Store, name: &str, patch: &AppPatch) -> Result<AzureApp> {
    let (app, users) = store.update(|config| {
        let users: Vec<Server> = config
            .servers
            .iter()
            .filter(|s| s.app.as_deref() == Some(name))
            .cloned()
            .collect();
        let app = config.app_mut(name).ok_or_else(|| Error::NotFound {
            kind: "Azure app",
            name: name.into(),
        })?;
        apply_app_patch(app, patch)?;
        Ok::<_, Error>((app.clone(), users))
    })?;
    if patch.secret.is_some() || patch.client_id.is_some() || patch.tenant.is_some() || patch.public_client {
        for server in users {
            store.update_tokens(&server, |f| {
                if matches!(f.blocker, Some(Blocker::SecretExpired | Blocker::BadClient)) {
                    f.blocker = None;
                    f.last_error = None;
                }
                Ok::<_, Error>(())
            })?;
        }
    }
    Ok(app)
}

/// What removing a server left behind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removed {
    /// The server's Azure app, now used by no server (it stays, with its secret, until
    /// removed on purpose).
    pub unused_app: Option<String>,
}

/// Removes a server and its tokens. Its app stays; `Removed` says whether any server still
/// uses it. Removing it from config.json is the commit point: its token file is then an
/// orphan that no server can be served (ids are never reused), and the same write sweeps it.
pub fn remove_server(store: &Store, name: &str) -> Result<Removed> {
    store.update(|config| {
        let app = config
            .server(name)
            .map(|s| s.app.clone())
            .ok_or_else(|| Error::NotFound {
                kind: "server",
                name: name.into(),
            })?;
        config.servers.retain(|s| s.name != name);
        let unused_app = app.filter(|a| config.servers_using(a).is_empty());
        Ok(Removed { unused_app })
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
        if config.apps.len() == before {
            return Err(Error::NotFound {
                kind: "Azure app",
                name: name.into(),
            });
        }
        Ok(())
    })
}
