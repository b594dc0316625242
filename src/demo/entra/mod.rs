//! A stand-in for Microsoft Entra ID's v2.0 endpoints, for `inbound demo` (and, wrapped with
//! fault knobs, for the tests):
//!
//! * `GET /{tenant}/oauth2/v2.0/authorize`: the authorization-code flow with PKCE (S256). With
//!   [`Settings::sign_in_page`] it shows a sign-in page whose form (a `POST` to the same URL)
//!   signs in or cancels; without, it behaves like a browser that is already signed in and
//!   redirects at once. Requests Entra could not redirect get its HTML error page.
//! * `POST /{tenant}/oauth2/v2.0/token`: `authorization_code` (PKCE checked, each code
//!   redeemed once), `refresh_token` (rotation: the previous refresh token stops working, so
//!   a client that loses the rotated one finds out) and the device-code grant, with Entra's
//!   error JSON.
//! * `GET /{tenant}/v2.0/.well-known/openid-configuration`: OpenID discovery (the issuer
//!   carries the tenant GUID; an unknown tenant gets AADSTS90002).
//! * `POST /{tenant}/oauth2/v2.0/devicecode`, and the page at [`Settings::verification_uri`]
//!   where a user code is entered (`GET /devicelogin` shows the form, `POST` signs in).
//!
//! * `GET /{tenant}/v2.0/adminconsent` and the simple `GET /{tenant}/adminconsent`: tenant-wide
//!   admin consent (granted, cancelled, or refused for a non-admin); with
//!   [`Settings::user_consent_allowed`] off, authorize stops at "Need admin approval" until an
//!   admin consented for the client.
//!
//! Everything else is a 404. [`Entra`] is the state; [`serve`] runs it on a listener.

mod admin_consent;
mod assertion;
mod authorize;
mod device;
pub mod discovery;
pub mod http;
pub mod ids;
mod pages;
pub mod redirect;
mod token;

use http::{ErrorResponse, HttpRequest, Response, get};
use hyper::Method;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;

/// The delegated Exchange Online IMAP scope; authorize and devicecode requests must ask for it.
pub const IMAP_SCOPE: &str = "https://outlook.office.com/IMAP.AccessAsUser.All";
/// The `scope` the token endpoint grants by default.
pub const GRANTED_SCOPE: &str = "https://outlook.office.com/IMAP.AccessAsUser.All openid profile email";
/// Where the device-code page lives on the stand-in.
pub const DEVICE_LOGIN_PATH: &str = "/devicelogin";

/// Lifetime of authorization codes ("typically, they expire after about 10 minutes").
const CODE_LIFETIME: Duration = Duration::from_secs(600);

/// What the stand-in accepts and issues.
#[derive(Clone)]
pub struct Settings {
    pub client_id: String,
    pub client_secret: String,
    /// The accounts that can sign in. The one named by `login_hint` signs in, else the first.
    pub accounts: Vec<String>,
    /// Only this `{tenant}` path segment is accepted (others get AADSTS90002); any when `None`.
    pub tenant: Option<String>,
    pub granted_scope: String,
    /// `expires_in` of access tokens; 0 mints tokens that are already expired.
    pub access_lifetime: u64,
    pub device_interval: u64,
    pub device_expires_in: u64,
    /// The `verification_uri` of device codes.
    pub verification_uri: String,
    /// Show a sign-in page at authorize (else sign in at once, like an existing session).
    pub sign_in_page: bool,
    /// Application permissions (app roles) an admin consented to for this app: the `roles`
    /// claim of client-credentials tokens (e.g. `IMAP.AccessAsApp`).
    pub app_roles: Vec<String>,
    /// Certificates (PEM) registered for the app: client assertions signed with their keys
    /// authenticate it instead of the secret.
    pub certificates: Vec<String>,
    /// The tenant's user-consent policy lets users consent to IMAP themselves (the old
    /// default). When false, authorize refuses until an admin consented for the client, as
    /// Microsoft's "recommended" policy, the default since late 2025, does (microsoft-facts §9).
    pub user_consent_allowed: bool,
    /// The account that signs in at the admin consent endpoints may grant tenant-wide consent.
    pub signed_in_user_is_admin: bool,
    /// The registration is a public client ("Mobile and desktop" redirect, public client flows
    /// allowed): code redemption must carry no secret (AADSTS700025 if it does).
    pub public_client: bool,
    /// The registered redirect URIs, compared as Entra compares them ([`redirect::matching`]).
    pub redirect_uris: Vec<String>,
}

/// RFC 7523's client assertion type.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("client_id", &self.client_id)
            .field("accounts", &self.accounts)
            .finish_non_exhaustive()
    }
}

struct CodeGrant {
    client_id: String,
    redirect_uri: String,
    challenge: String,
    tenant: String,
    account: String,
    expires: Instant,
    used: bool,
}

#[derive(PartialEq, Eq)]
enum RefreshStatus {
    Current,
    Rotated,
    Revoked,
}

struct RefreshGrant {
    client_id: String,
    account: String,
    tenant: String,
    /// Minted by the device-code flow (a public client): refreshing must not send a secret.
    public: bool,
    status: RefreshStatus,
}

/// An access token the stand-in issued.
#[derive(Debug, Clone)]
pub struct AccessGrant {
    /// The signed-in account; empty for an app-only (client-credentials) token.
    pub account: String,
    pub client_id: String,
    pub scope: String,
    /// App-only: the `roles` claim (consented application permissions).
    pub roles: Vec<String>,
    pub expires: Instant,
    pub exp_unix: u64,
    pub iat_unix: u64,
}

impl AccessGrant {
    pub fn live(&self) -> bool {
        self.expires > Instant::now()
    }
}

struct DeviceGrant {
    client_id: String,
    tenant: String,
    user_code: String,
    /// Set once someone signed in with the user code.
    account: Option<String>,
    login_hint: Option<String>,
    expires: Instant,
    redeemed: bool,
}

/// A validated authorization request, waiting for the user's decision.
pub struct Authorization {
    redirect: url::Url,
    state: Option<String>,
    client_id: String,
    redirect_uri: String,
    challenge: String,
    tenant: String,
    login_hint: Option<String>,
    /// The request's parameters, re-encoded (the sign-in page posts them back).
    query: String,
}

/// The stand-in's state: settings and every grant issued.
pub struct Entra {
    pub settings: Settings,
    codes: HashMap<String, CodeGrant>,
    refresh_tokens: HashMap<String, RefreshGrant>,
    access_tokens: HashMap<String, AccessGrant>,
    device_codes: HashMap<String, DeviceGrant>,
    /// Client IDs an admin consented to for the whole tenant.
    admin_consented: HashSet<String>,
    /// Registrations besides the one in the settings (client ID → secret): the app a user
    /// registers in the demo's wizard, next to the one its seeded servers use.
    other_apps: HashMap<String, String>,
    /// Microsoft's own rule: a used refresh token stays valid after rotation
    /// (microsoft-facts §1.6). Off by default, so that a client losing the rotated token is
    /// found out.
    keep_rotated: bool,
}

impl Entra {
    pub fn new(settings: Settings) -> Self {
        Self {
            settings,
            codes: HashMap::new(),
            refresh_tokens: HashMap::new(),
            access_tokens: HashMap::new(),
            device_codes: HashMap::new(),
            admin_consented: HashSet::new(),
            other_apps: HashMap::new(),
            keep_rotated: false,
        }
    }

    /// Registers another confidential app (client ID and secret) in the tenant.
    pub fn register_app(&mut self, client_id: &str, secret: &str) {
        self.other_apps.insert(client_id.to_owned(), secret.to_owned());
    }

    /// Whether `client_id` is registered in the tenant.
    pub fn knows_app(&self, client_id: &str) -> bool {
        client_id == self.settings.client_id || self.other_apps.contains_key(client_id)
    }

    /// The client secret of a registered app.
    pub fn secret_of(&self, client_id: &str) -> Option<&str> {
        if client_id == self.settings.client_id {
            Some(&self.settings.client_secret)
        } else {
            self.other_apps.get(client_id).map(String::as_str)
        }
    }

    /// Lets used refresh tokens keep working after rotation, as Microsoft does.
    pub fn keep_rotated_refresh_tokens(&mut self, keep: bool) {
        self.keep_rotated = keep;
    }

    /// Every endpoint.
    pub fn route(&mut self, req: &HttpRequest) -> Response {
        if req.path == DEVICE_LOGIN_PATH {
            return match req.method {
                Method::GET => pages::device_form(None),
                Method::POST => self.device_login(req),
                _ => http::text(405, "method not allowed"),
            };
        }
        if let Some(tenant) = discovery::discovery_tenant(&req.path) {
            return match req.method {
                Method::GET => self.discovery(tenant, req),
                _ => http::text(405, "method not allowed"),
            };
        }
        if let Some((tenant, v2)) = admin_consent_endpoint(&req.path) {
            return self.admin_consent(tenant, v2, req);
        }
        let Some((tenant, endpoint)) = endpoint(&req.path) else {
            return http::text(404, "not found");
        };
        match (endpoint, &req.method) {
            ("authorize", &Method::GET) => match self.check_authorize(tenant, &req.query_pairs()) {
                Ok(a) if self.needs_admin_consent(&a.client_id) => {
                    admin_consent::approval_required(a, self.settings.sign_in_page)
                }
                Ok(a) if self.settings.sign_in_page => pages::sign_in(&a, &self.account_for(&a.login_hint)),
                Ok(a) => self.approve(a),
                Err(resp) => *resp,
            },
            ("authorize", &Method::POST) => match self.check_authorize(tenant, &req.query_pairs()) {
                Ok(a) => match get(&req.form_pairs(), "consent") {
                    Some(_) if self.needs_admin_consent(&a.client_id) => {
                        admin_consent::approval_required(a, false)
                    }
                    Some("accept") => self.approve(a),
                    _ => deny(
                        a,
                        "access_denied",
                        "AADSTS65004: User declined to consent to access the app.",
                    ),
                },
                Err(resp) => *resp,
            },
            ("token", &Method::POST) => self.token(tenant, req),
            ("devicecode", &Method::POST) => match self.devicecode(tenant, req) {
                Ok(v) => http::json(200, &v),
                Err(resp) => *resp,
            },
            ("authorize" | "token" | "devicecode", _) => http::text(405, "method not allowed"),
            _ => http::text(404, "not found"),
        }
    }

    fn account_for(&self, hint: &Option<String>) -> String {
        hint.as_ref()
            .and_then(|h| self.settings.accounts.iter().find(|a| a.eq_ignore_ascii_case(h)))
            .or(self.settings.accounts.first())
            .cloned()
            .unwrap_or_default()
    }

    fn tenant_error(&self, tenant: &str) -> Option<String> {
        match &self.settings.tenant {
            Some(t) if !t.eq_ignore_ascii_case(tenant) => Some(format!(
                "AADSTS90002: Tenant '{tenant}' not found. Check to make sure you have the \
                 correct tenant ID and are signing into the correct cloud."
            )),
            _ => None,
        }
    }
}

type Answer = Result<Value, ErrorResponse>;

/// `/{tenant}/oauth2/v2.0/{endpoint}` split into tenant and endpoint.
pub fn endpoint(path: &str) -> Option<(&str, &str)> {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match segments.as_slice() {
        [tenant, "oauth2", "v2.0", endpoint] => Some((tenant, endpoint)),
        _ => None,
    }
}

/// `/{tenant}/v2.0/adminconsent` (true) or `/{tenant}/adminconsent` (false).
pub fn admin_consent_endpoint(path: &str) -> Option<(&str, bool)> {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match segments.as_slice() {
        [tenant, "v2.0", "adminconsent"] => Some((tenant, true)),
        [tenant, "adminconsent"] => Some((tenant, false)),
        _ => None,
    }
}

/// The error redirect: `redirect_uri?error=…&error_description=…&state=…`.
pub fn deny(a: Authorization, error: &str, description: &str) -> Response {
    deny_with(a, error, None, description)
}

/// [`deny`] with Entra's `error_subcode` (e.g. `cancel` when the user left the consent or
/// "Need admin approval" page by its way back to the app).
pub fn deny_with(a: Authorization, error: &str, subcode: Option<&str>, description: &str) -> Response {
    let mut target = a.redirect;
    {
        let mut q = target.query_pairs_mut();
        q.append_pair("error", error);
        if let Some(sub) = subcode {
            q.append_pair("error_subcode", sub);
        }
        q.append_pair("error_description", description);
        if let Some(s) = &a.state {
            q.append_pair("state", s);
        }
    }
    http::redirect(target.as_str())
}

/// A shared, lockable [`Entra`].
#[derive(Clone)]
pub struct Shared(Arc<Mutex<Entra>>);

impl Shared {
    pub fn new(entra: Entra) -> Self {
        Self(Arc::new(Mutex::new(entra)))
    }

    pub fn lock(&self) -> MutexGuard<'_, Entra> {
        // A panic elsewhere must not take the stand-in down with it.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl http::Handler for Shared {
    fn handle(&self, req: &HttpRequest) -> Response {
        self.lock().route(req)
    }
}

/// A running server; stops when dropped.
pub struct Running {
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Running {
    /// `http://127.0.0.1:PORT`.
    pub fn authority(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Connections the fake holds completed but not yet accepted. The standard library's (and
/// tokio's) 128 made a wave of 512 token requests at once lose some: the kernel drops the
/// handshake's last packet when the queue is full, and the client's request then waits for a
/// retransmission (a quarter of a second and more). Microsoft's endpoint has no such limit.
const ACCEPT_BACKLOG: u32 = 4096;

/// Binds `127.0.0.1:0` and serves `handler` on the current runtime.
pub async fn serve(handler: Arc<dyn http::Handler>) -> std::io::Result<Running> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.bind((Ipv4Addr::LOCALHOST, 0).into())?;
    let listener = socket.listen(ACCEPT_BACKLOG)?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(http::serve(listener, handler));
    Ok(Running { addr, task })
}

#[cfg(test)]
mod tests;
