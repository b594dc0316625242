//! The tests' fake of Microsoft's Entra ID (Azure AD) v2.0 endpoints: the product's own
//! stand-in sign-in service (`inbound::demo::entra`, which implements authorize with PKCE,
//! token with code redemption, refresh rotation and the device-code grant, devicecode, and
//! Entra's error JSON) wrapped with what only tests need:
//!
//! * fault knobs: [`FakeIdp::fail_next_authorize`], [`FakeIdp::fail_next_token`],
//!   [`FakeIdp::fail_next_token_raw`], scripted device-code polls
//!   ([`FakeIdp::script_device_poll`]; once used up, polls are approved at once);
//! * counters and the last requests seen;
//! * admin consent knobs ([`FakeIdp::set_user_consent_allowed`],
//!   [`FakeIdp::set_signed_in_user_is_admin`], [`FakeIdp::cancel_next_admin_consent`]) and a
//!   public client ([`FakeIdp::set_public_client`]);
//! * `POST /introspect` (also `GET ?token=` and `Authorization: Bearer`), RFC 7662-style
//!   introspection for the test Dovecot's oauth2 passdb;
//! * opaque access tokens ([`FakeIdp::set_opaque_access_tokens`]): Microsoft says clients
//!   must not depend on reading access tokens, which may be opaque or encrypted.
//!
//! It serves on `http://127.0.0.1:<random port>` with no sign-in page (like a browser with
//! a session: authorize redirects at once), on the test's tokio runtime, until the last
//! [`FakeIdp`] handle is dropped.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use hyper::Method;
use inbound::demo::entra::http::{self, Handler, HttpRequest, Response, get};
use inbound::demo::entra::{self, Entra, Settings};
use serde_json::json;

/// The client (application) ID accepted until [`FakeIdp::set_client`] is called.
pub const DEFAULT_CLIENT_ID: &str = "11111111-2222-3333-4444-555555555555";
/// The client secret accepted until [`FakeIdp::set_client`] is called.
pub const DEFAULT_CLIENT_SECRET: &str = "fake~Secret.Value_0123456789-abcdefghijkl";
/// The account that signs in until [`FakeIdp::set_account`] is called (same as Dovecot's
/// `OAUTH_USER`).
pub const DEFAULT_ACCOUNT: &str = "alice@example.com";
/// The delegated Exchange Online IMAP scope; authorize and devicecode requests must ask for it.
pub const IMAP_SCOPE: &str = entra::IMAP_SCOPE;
/// The `scope` returned by the token endpoint until [`FakeIdp::set_granted_scope`] is called.
pub const DEFAULT_GRANTED_SCOPE: &str = entra::GRANTED_SCOPE;
/// The `tid` claim used when the `{tenant}` path segment is not a GUID.
pub const DEFAULT_TENANT_ID: &str = entra::ids::DEFAULT_TENANT_ID;
/// The `verification_uri` returned by the devicecode endpoint.
pub const DEVICE_VERIFICATION_URI: &str = "https://microsoft.com/devicelogin";

/// A handle to a running fake identity provider. Cheap to clone; all clones share state.
/// Configuration methods take `&self` and may be called at any time.
#[derive(Clone)]
pub struct FakeIdp {
    addr: SocketAddr,
    fake: Arc<Fake>,
    _server: Arc<entra::Running>,
}

enum TokenFailure {
    Json {
        status: u16,
        error: String,
        codes: Vec<u64>,
        description: String,
    },
    Raw {
        status: u16,
        body: String,
    },
}

/// The test-only part: knobs and what was seen.
#[derive(Default)]
struct Knobs {
    authorize_failure: Option<(String, String)>,
    token_failure: Option<TokenFailure>,
    device_script: VecDeque<String>,
    cancel_admin_consent: bool,
    admin_consent_requests: usize,
    last_admin_consent_params: Vec<(String, String)>,
    /// delegate → mailbox it has FullAccess on (introspection's `delegate_for`).
    full_access: Vec<(String, String)>,
    authorize_requests: usize,
    token_requests: usize,
    refresh_requests: usize,
    client_credentials_requests: usize,
    client_secret_requests: usize,
    client_assertion_requests: usize,
    device_code_requests: usize,
    introspection_requests: usize,
    discovery_requests: usize,
    last_authorize_params: Vec<(String, String)>,
    last_token_form: Vec<(String, String)>,
    last_token_basic_auth: Option<(String, String)>,
    /// Access tokens are handed out opaque: opaque → the readable token the stand-in minted.
    opaque: Option<std::collections::HashMap<String, String>>,
}

struct Fake {
    knobs: Mutex<Knobs>,
    entra: entra::Shared,
}

impl Fake {
    fn knobs(&self) -> MutexGuard<'_, Knobs> {
        // A panicking test must not poison the fake for everybody else.
        self.knobs.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The readable token behind an opaque one (any other token as it is).
    fn readable(&self, token: &str) -> String {
        self.knobs()
            .opaque
            .as_ref()
            .and_then(|m| m.get(token).cloned())
            .unwrap_or_else(|| token.to_owned())
    }
}

impl FakeIdp {
    /// Binds `127.0.0.1:0` and serves the fake endpoints on the current tokio runtime.
    pub async fn start() -> FakeIdp {
        let entra = entra::Shared::new(Entra::new(Settings {
            client_id: DEFAULT_CLIENT_ID.to_owned(),
            client_secret: DEFAULT_CLIENT_SECRET.to_owned(),
            accounts: vec![DEFAULT_ACCOUNT.to_owned()],
            tenant: None,
            granted_scope: DEFAULT_GRANTED_SCOPE.to_owned(),
            access_lifetime: 3599,
            device_interval: 5,
            device_expires_in: 900,
            verification_uri: DEVICE_VERIFICATION_URI.to_owned(),
            sign_in_page: false,
            app_roles: Vec::new(),
            certificates: Vec::new(),
            user_consent_allowed: true,
            signed_in_user_is_admin: false,
            public_client: false,
            redirect_uris: entra::redirect::default_registered(),
        }));
        let fake = Arc::new(Fake {
            knobs: Mutex::new(Knobs::default()),
            entra,
        });
        let server = entra::serve(fake.clone())
            .await
            .expect("fake IdP: cannot bind 127.0.0.1:0");
        FakeIdp {
            addr: server.addr,
            fake,
            _server: Arc::new(server),
        }
    }

    fn entra(&self) -> MutexGuard<'_, Entra> {
        self.fake.entra.lock()
    }

    /// `http://127.0.0.1:PORT` (no trailing slash). Endpoints live at
    /// `{authority}/{tenant}/oauth2/v2.0/{authorize,token,devicecode}`.
    pub fn authority(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The socket address the fake listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `{authority}/{tenant}/oauth2/v2.0/authorize`.
    pub fn authorize_url(&self, tenant: &str) -> String {
        format!("{}/{tenant}/oauth2/v2.0/authorize", self.authority())
    }

    /// `{authority}/{tenant}/oauth2/v2.0/token`.
    pub fn token_url(&self, tenant: &str) -> String {
        format!("{}/{tenant}/oauth2/v2.0/token", self.authority())
    }

    /// `{authority}/{tenant}/oauth2/v2.0/devicecode`.
    pub fn devicecode_url(&self, tenant: &str) -> String {
        format!("{}/{tenant}/oauth2/v2.0/devicecode", self.authority())
    }

    /// The introspection endpoint for Dovecot's oauth2 passdb (`{authority}/introspect`).
    pub fn introspection_url(&self) -> String {
        format!("{}/introspect", self.authority())
    }

    /// Sets the client ID and secret the endpoints accept (defaults: [`DEFAULT_CLIENT_ID`],
    /// [`DEFAULT_CLIENT_SECRET`]). A wrong secret gets `invalid_client` AADSTS7000215 (401).
    pub fn set_client(&self, client_id: &str, client_secret: &str) {
        let mut e = self.entra();
        e.settings.client_id = client_id.to_owned();
        e.settings.client_secret = client_secret.to_owned();
    }

    /// Sets the account that "signs in" from now on: the id_token's `preferred_username` and
    /// `email`, and the introspection `username` (default [`DEFAULT_ACCOUNT`]).
    pub fn set_account(&self, username: &str) {
        self.entra().settings.accounts = vec![username.to_owned()];
    }

    /// Several accounts can sign in; the one named by `login_hint` does (else the first).
    pub fn set_accounts(&self, accounts: &[&str]) {
        self.entra().settings.accounts = accounts.iter().map(|a| (*a).to_owned()).collect();
    }

    /// The tenant's user-consent policy (default: users may consent). When false, authorize
    /// redirects with `error=access_denied` AADSTS90094 until an admin consented.
    pub fn set_user_consent_allowed(&self, allowed: bool) {
        self.entra().settings.user_consent_allowed = allowed;
    }

    /// Whether the account at the admin consent endpoints may grant consent (default false:
    /// a non-admin gets `error=access_denied` AADSTS90094).
    pub fn set_signed_in_user_is_admin(&self, admin: bool) {
        self.entra().settings.signed_in_user_is_admin = admin;
    }

    /// The registration is a public client (default false): code redemption with a secret
    /// gets AADSTS700025.
    pub fn set_public_client(&self, public: bool) {
        self.entra().settings.public_client = public;
    }

    /// The redirect URIs registered for the app (default: inbound's
    /// `http://localhost/microsoft_outlook/confirm`), compared as Entra does: the port of a
    /// `localhost` URI is ignored, the path must match (else AADSTS50011 at authorize).
    pub fn set_redirect_uris(&self, uris: &[&str]) {
        self.entra().settings.redirect_uris = uris.iter().map(|u| (*u).to_owned()).collect();
    }

    /// The next admin consent is cancelled by the admin (`error=consent_required` AADSTS65004).
    pub fn cancel_next_admin_consent(&self) {
        self.fake.knobs().cancel_admin_consent = true;
    }

    /// Whether an admin consented for `client_id`.
    pub fn has_admin_consent(&self, client_id: &str) -> bool {
        self.entra().has_admin_consent(client_id)
    }

    /// How many requests reached the admin consent endpoints.
    pub fn admin_consent_requests(&self) -> usize {
        self.fake.knobs().admin_consent_requests
    }

    /// The query parameters of the last admin consent request.
    pub fn last_admin_consent_params(&self) -> Vec<(String, String)> {
        self.fake.knobs().last_admin_consent_params.clone()
    }

    /// Exchange's FullAccess, as the test Dovecot sees it: introspection of `delegate`'s tokens
    /// names `mailbox` in `delegate_for`, which Dovecot's second oauth2 passdb accepts as the
    /// login user.
    pub fn grant_full_access(&self, delegate: &str, mailbox: &str) {
        self.fake
            .knobs()
            .full_access
            .push((delegate.to_ascii_lowercase(), mailbox.to_owned()));
    }

    /// Only this `{tenant}` path segment is accepted from now on; others get AADSTS90002.
    /// By default any tenant is accepted.
    pub fn set_tenant(&self, tenant: &str) {
        self.entra().settings.tenant = Some(tenant.to_owned());
    }

    /// The `scope` string of token responses (default [`DEFAULT_GRANTED_SCOPE`]); e.g. a
    /// Graph-only scope to simulate a token for the wrong resource.
    pub fn set_granted_scope(&self, scope: &str) {
        self.entra().settings.granted_scope = scope.to_owned();
    }

    /// The `expires_in` (and real lifetime) of access tokens minted from now on
    /// (default 3599 s). 0 mints tokens that are already expired.
    pub fn set_access_token_lifetime(&self, secs: u64) {
        self.entra().settings.access_lifetime = secs;
    }

    /// The `interval` returned by the devicecode endpoint (default 5).
    pub fn set_device_interval(&self, secs: u64) {
        self.entra().settings.device_interval = secs;
    }

    /// The `expires_in` of device codes (default 900); polls after that get `expired_token`.
    pub fn set_device_expires_in(&self, secs: u64) {
        self.entra().settings.device_expires_in = secs;
    }

    /// The next (valid) authorize request redirects to
    /// `redirect_uri?error=..&error_description=..&state=..` instead of issuing a code.
    pub fn fail_next_authorize(&self, error: &str, description: &str) {
        self.fake.knobs().authorize_failure = Some((error.to_owned(), description.to_owned()));
    }

    /// The next token request (any grant) answers Microsoft's error JSON with this HTTP status.
    /// `description` gets an `AADSTS<codes[0]>: ` prefix unless it already starts with
    /// `AADSTS`, and the Trace ID / Correlation ID / Timestamp trailer.
    pub fn fail_next_token(&self, status: u16, error: &str, codes: &[u64], description: &str) {
        self.fake.knobs().token_failure = Some(TokenFailure::Json {
            status,
            error: error.to_owned(),
            codes: codes.to_vec(),
            description: description.to_owned(),
        });
    }

    /// The next token request answers exactly this body (e.g. 503 with an HTML page).
    pub fn fail_next_token_raw(&self, status: u16, body: &str) {
        self.fake.knobs().token_failure = Some(TokenFailure::Raw {
            status,
            body: body.to_owned(),
        });
    }

    /// How many requests reached the authorize endpoint.
    pub fn authorize_requests(&self) -> usize {
        self.fake.knobs().authorize_requests
    }

    /// How many POSTs reached the token endpoint (all grants, failures included).
    pub fn token_requests(&self) -> usize {
        self.fake.knobs().token_requests
    }

    /// How many token requests used `grant_type=refresh_token`.
    pub fn refresh_requests(&self) -> usize {
        self.fake.knobs().refresh_requests
    }

    /// How many token requests used `grant_type=client_credentials` (app-only).
    pub fn client_credentials_requests(&self) -> usize {
        self.fake.knobs().client_credentials_requests
    }

    /// How many token requests carried a client secret (in the body or as HTTP Basic).
    pub fn client_secret_requests(&self) -> usize {
        self.fake.knobs().client_secret_requests
    }

    /// How many token requests authenticated with a client assertion (a certificate).
    pub fn client_assertion_requests(&self) -> usize {
        self.fake.knobs().client_assertion_requests
    }

    /// From now on the token endpoint answers with opaque access tokens (numbered text, no
    /// JWT to read claims from), as Microsoft may; introspection still knows them.
    pub fn set_opaque_access_tokens(&self, opaque: bool) {
        self.fake.knobs().opaque = opaque.then(Default::default);
    }

    /// Registers a certificate (PEM) for the app, as uploading it under Certificates &
    /// secrets does: client assertions signed with its key then authenticate the app. Wrong
    /// assertions get Entra's errors (700027 signature/key, 700021 issuer, 700023 audience,
    /// 700024 time range).
    pub fn register_certificate(&self, pem: &str) {
        self.entra().settings.certificates.push(pem.to_owned());
    }

    /// The application permissions an admin consented to: the `roles` of app-only tokens
    /// minted from now on (default none; `IMAP.AccessAsApp` is what Exchange wants).
    pub fn set_app_roles(&self, roles: &[&str]) {
        self.entra().settings.app_roles = roles.iter().map(|r| (*r).to_owned()).collect();
    }

    /// The introspection endpoint of the test Dovecot's passdb for `mailbox` granted to the
    /// app (`{authority}/introspect/app/{mailbox}`): it accepts only live app-only tokens
    /// with `IMAP.AccessAsApp`, and answers with `mailbox` as the username.
    pub fn app_introspection_url(&self, mailbox: &str) -> String {
        format!("{}{APP_INTROSPECT}{mailbox}", self.authority())
    }

    /// How many requests reached the devicecode endpoint.
    pub fn device_code_requests(&self) -> usize {
        self.fake.knobs().device_code_requests
    }

    /// How many requests reached the OpenID discovery document (`/{tenant}/v2.0/.well-known/…`).
    pub fn discovery_requests(&self) -> usize {
        self.fake.knobs().discovery_requests
    }

    /// How many requests reached the introspection endpoint (e.g. from Dovecot).
    pub fn introspection_requests(&self) -> usize {
        self.fake.knobs().introspection_requests
    }

    /// The query parameters of the last authorize request.
    pub fn last_authorize_params(&self) -> Vec<(String, String)> {
        self.fake.knobs().last_authorize_params.clone()
    }

    /// The form body of the last request to the token endpoint.
    pub fn last_token_form(&self) -> Vec<(String, String)> {
        self.fake.knobs().last_token_form.clone()
    }

    /// The decoded `Authorization: Basic` client credentials (id, secret) of the last token
    /// request, if it used HTTP Basic client authentication.
    pub fn last_token_basic_auth(&self) -> Option<(String, String)> {
        self.fake.knobs().last_token_basic_auth.clone()
    }

    /// Revokes every refresh token issued so far: refreshing with any of them gets
    /// `invalid_grant` AADSTS70008.
    pub fn revoke_all_refresh_tokens(&self) {
        self.entra().revoke_sessions();
    }

    /// Used refresh tokens keep working after rotation, as at Microsoft (by default the fake
    /// retires them, so that losing a rotated token is found out).
    pub fn keep_rotated_refresh_tokens(&self, keep: bool) {
        self.entra().keep_rotated_refresh_tokens(keep);
    }

    /// Makes every access token issued so far expire now (introspection then says inactive).
    pub fn expire_all_access_tokens(&self) {
        self.entra().expire_access_tokens();
    }

    /// Whether `token` is an access token this fake issued that has not expired.
    pub fn is_valid_access_token(&self, token: &str) -> bool {
        let token = self.fake.readable(token);
        self.entra().access_grant(&token).is_some_and(|g| g.live())
    }

    /// Issues a live access token for `username` without any HTTP flow (for IMAP-only tests).
    pub fn mint_access_token(&self, username: &str) -> String {
        self.entra().mint_access_token(username)
    }

    /// Issues a current refresh token for `username` at `tenant` without any HTTP flow (for
    /// seeding many servers at once, e.g. the benchmark).
    pub fn mint_refresh_token(&self, username: &str, tenant: &str) -> String {
        self.entra().mint_refresh_token(username, tenant)
    }

    /// Scripts the answers to the next device-code polls: any of `authorization_pending`,
    /// `slow_down`, `authorization_declined`, `expired_token`, `bad_verification_code` or
    /// `ok`. Replaces any previous script; once it is used up every poll answers `ok`.
    pub fn script_device_poll(&self, answers: &[&str]) {
        self.fake.knobs().device_script = answers.iter().map(|a| (*a).to_owned()).collect();
    }
}

/// Where the per-mailbox app-only introspection lives (the mailbox follows).
const APP_INTROSPECT: &str = "/introspect/app/";

impl Handler for Fake {
    fn handle(&self, req: &HttpRequest) -> Response {
        if req.path == "/introspect" || req.path.starts_with(APP_INTROSPECT) {
            return match req.method {
                Method::GET | Method::POST => self.introspect(req),
                _ => http::text(405, "method not allowed"),
            };
        }
        let mut knobs = self.knobs();
        let mut entra = self.entra.lock();
        if entra::discovery::discovery_tenant(&req.path).is_some() {
            knobs.discovery_requests += 1;
        }
        if let Some((tenant, v2)) = entra::admin_consent_endpoint(&req.path) {
            knobs.admin_consent_requests += 1;
            let params = req.query_pairs();
            knobs.last_admin_consent_params = params.clone();
            if req.method == Method::GET && knobs.cancel_admin_consent {
                knobs.cancel_admin_consent = false;
                return match entra.check_admin_consent(tenant, v2, &params) {
                    Ok(r) => entra.answer_admin_consent(r, false),
                    Err(page) => *page,
                };
            }
        }
        match (entra::endpoint(&req.path), &req.method) {
            (Some((tenant, "authorize")), &Method::GET) => {
                knobs.authorize_requests += 1;
                let params = req.query_pairs();
                knobs.last_authorize_params = params.clone();
                if knobs.authorize_failure.is_some() {
                    // Only a request Entra could redirect back to gets the scripted error.
                    match entra.check_authorize(tenant, &params) {
                        Ok(a) => {
                            let (error, description) = knobs.authorize_failure.take().unwrap_or_default();
                            return entra::deny(a, &error, &description);
                        }
                        Err(page) => return *page,
                    }
                }
            }
            (Some((tenant, "token")), &Method::POST) => {
                knobs.token_requests += 1;
                let form = req.form_pairs();
                knobs.last_token_form = form.clone();
                knobs.last_token_basic_auth = req.basic_auth();
                let grant_type = get(&form, "grant_type").unwrap_or_default();
                if grant_type == "refresh_token" {
                    knobs.refresh_requests += 1;
                }
                if grant_type == "client_credentials" {
                    knobs.client_credentials_requests += 1;
                }
                if get(&form, "client_secret").is_some() || req.basic_auth().is_some() {
                    knobs.client_secret_requests += 1;
                }
                if get(&form, "client_assertion").is_some() {
                    knobs.client_assertion_requests += 1;
                }
                match knobs.token_failure.take() {
                    Some(TokenFailure::Json {
                        status,
                        error,
                        codes,
                        description,
                    }) => return *http::ms_error(status, &error, &codes, &description),
                    Some(TokenFailure::Raw { status, body }) => return http::raw(status, body),
                    None => {}
                }
                if grant_type == "urn:ietf:params:oauth:grant-type:device_code" {
                    let device_code = match entra.check_device_poll(tenant, &form, req.basic_auth()) {
                        Ok(c) => c,
                        Err(resp) => return *resp,
                    };
                    let answer = knobs.device_script.pop_front().unwrap_or_else(|| "ok".to_owned());
                    if answer != "ok" {
                        return *http::device_error(&answer);
                    }
                    entra.approve_device_code(&device_code);
                }
                let answer = entra.route(req);
                return match knobs.opaque.as_mut() {
                    Some(map) => made_opaque(answer, map),
                    None => answer,
                };
            }
            (Some((_, "devicecode")), &Method::POST) => knobs.device_code_requests += 1,
            _ => {}
        }
        entra.route(req)
    }
}

/// A token answer with its `access_token` replaced by an opaque one (remembered in `map`).
fn made_opaque(answer: Response, map: &mut std::collections::HashMap<String, String>) -> Response {
    use futures_util::FutureExt as _;
    use http_body_util::BodyExt as _;
    let (parts, body) = answer.into_parts();
    // A `Full` body is ready at once: nothing is waited for.
    let bytes = body
        .collect()
        .now_or_never()
        .and_then(Result::ok)
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    let Ok(mut v) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return hyper::Response::from_parts(parts, http_body_util::Full::new(bytes));
    };
    if let Some(readable) = v.get("access_token").and_then(|t| t.as_str()).map(str::to_owned) {
        // Numbered, not random: each answer gets a new one, and a run can be repeated.
        let opaque = format!("EwBAT{:032x}", map.len() + 1);
        map.insert(opaque.clone(), readable);
        v["access_token"] = json!(opaque);
    }
    let mut answer = http::json(parts.status.as_u16(), &v);
    *answer.headers_mut() = parts.headers;
    answer
}

impl Fake {
    fn introspect(&self, req: &HttpRequest) -> Response {
        self.knobs().introspection_requests += 1;
        let form = req.form_pairs();
        let query = req.query_pairs();
        let token = get(&form, "token")
            .or_else(|| get(&query, "token"))
            .map(str::to_owned)
            .or_else(|| req.authorization("Bearer"));
        let full_access = self.knobs().full_access.clone();
        let token = token.map(|t| self.readable(&t));
        let entra = self.entra.lock();
        let grant = token
            .as_deref()
            .and_then(|t| entra.access_grant(t))
            .filter(|g| g.live());
        // Delegated tokens only at /introspect; at /introspect/app/{mailbox} only app-only
        // tokens with the IMAP role, for the mailbox the Dovecot config granted (like
        // Exchange: the role opens nothing without the mailbox permission).
        let granted = req.path.strip_prefix(APP_INTROSPECT);
        let grant = match granted {
            Some(_) => {
                grant.filter(|g| g.account.is_empty() && g.roles.iter().any(|r| r == "IMAP.AccessAsApp"))
            }
            None => grant.filter(|g| !g.account.is_empty()),
        };
        let body = match grant {
            Some(g) => json!({
                "active": true,
                "username": granted.unwrap_or(&g.account),
                "email": granted.unwrap_or(&g.account),
                "scope": g.scope,
                "client_id": g.client_id,
                "token_type": "Bearer",
                "exp": g.exp_unix,
                "iat": g.iat_unix,
                "sub": granted.unwrap_or(&g.account),
            }),
            None => json!({ "active": false }),
        };
        let mut body = body;
        // The mailbox a delegate has FullAccess on; for anyone else their own, so that the
        // test Dovecot's delegate passdb refuses exactly as the first one does (a missing
        // field would be an internal failure there, not a refusal).
        if let Some(g) = grant {
            let mailbox = full_access
                .iter()
                .find(|(d, _)| d.eq_ignore_ascii_case(&g.account))
                .map_or_else(|| g.account.clone(), |(_, m)| m.clone());
            body["delegate_for"] = json!(mailbox);
        }
        http::json(200, &body)
    }
}

/// Plays the browser: GETs the authorization URL at the fake (no redirect following), takes
/// the 302 `Location` (which must point at the app's `redirect_uri` with `code`+`state` or
/// `error`), then GETs that location and returns the (status, body) of the app's listener page.
/// Panics with a clear message on anything unexpected.
pub async fn play_browser(auth_url: &str) -> (u16, String) {
    let location = authorize_redirect(auth_url).await;
    let visit = inbound::demo::browser::visit(&location)
        .await
        .unwrap_or_else(|e| panic!("browser: GET of the redirect failed: {e}"));
    (visit.status, visit.body)
}

/// Like [`play_browser`], but returns the redirect `Location` without visiting it (for
/// paste-back tests).
pub async fn authorize_redirect(auth_url: &str) -> String {
    let url = url::Url::parse(auth_url)
        .unwrap_or_else(|e| panic!("browser: authorization URL {auth_url:?} is not a URL: {e}"));
    let param = |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    let redirect_uri = param("redirect_uri")
        .unwrap_or_else(|| panic!("browser: authorization URL has no redirect_uri: {auth_url}"));
    let sent_state = param("state");
    let location = inbound::demo::browser::authorize_redirect(auth_url)
        .await
        .unwrap_or_else(|e| panic!("browser: no redirect for {auth_url}: {e}"));
    if !location.starts_with(&redirect_uri) {
        panic!("browser: redirected to {location}, which is not the redirect_uri {redirect_uri}");
    }
    let target = url::Url::parse(&location)
        .unwrap_or_else(|e| panic!("browser: redirect {location:?} is not a URL: {e}"));
    let pairs: Vec<(String, String)> = target.query_pairs().into_owned().collect();
    let has = |name: &str| pairs.iter().any(|(k, _)| k == name);
    let state = pairs.iter().find(|(k, _)| k == "state").map(|(_, v)| v);
    if !has("code") && !has("error") && !has("admin_consent") {
        panic!("browser: redirect {location} carries neither code, error nor admin_consent");
    }
    if state != sent_state.as_ref() {
        panic!("browser: redirect {location} does not echo state {sent_state:?}");
    }
    location
}
