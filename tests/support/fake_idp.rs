//! A local fake of Microsoft's Entra ID (Azure AD) v2.0 endpoints.
//!
//! It serves, on `http://127.0.0.1:<random port>`:
//!
//! * `GET  /{tenant}/oauth2/v2.0/authorize` — the authorization-code flow with PKCE (S256);
//!   answers with a 302 to the `redirect_uri` (or an HTML error page when Entra could not
//!   redirect, e.g. AADSTS50011 / AADSTS700016).
//! * `POST /{tenant}/oauth2/v2.0/token` — `authorization_code`, `refresh_token` (with
//!   rotation: the previous refresh token is invalidated, unlike real Entra, so tests prove
//!   the rotated one is stored) and the device-code grant. Errors use Microsoft's JSON shape
//!   (`error`, `error_description` with Trace/Correlation ID and Timestamp, `error_codes`,
//!   `timestamp`, `trace_id`, `correlation_id`, `error_uri`).
//! * `POST /{tenant}/oauth2/v2.0/devicecode` — starts a device-code flow whose poll answers
//!   are scripted with [`FakeIdp::script_device_poll`].
//! * `POST /introspect` (also `GET ?token=` and `Authorization: Bearer`) — RFC 7662-style
//!   introspection used by the test Dovecot's oauth2 passdb.
//!
//! Everything else is a 404. The server runs on the test's tokio runtime and stops when the
//! last [`FakeIdp`] handle is dropped (or the runtime shuts down).

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use http_body_util::{BodyExt as _, Full};
use hyper::body::{Bytes, Incoming};
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use rand::{Rng as _, RngCore as _};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// The client (application) ID accepted until [`FakeIdp::set_client`] is called.
pub const DEFAULT_CLIENT_ID: &str = "11111111-2222-3333-4444-555555555555";
/// The client secret accepted until [`FakeIdp::set_client`] is called.
pub const DEFAULT_CLIENT_SECRET: &str = "fake~Secret.Value_0123456789-abcdefghijkl";
/// The account that signs in until [`FakeIdp::set_account`] is called (same as Dovecot's
/// `OAUTH_USER`).
pub const DEFAULT_ACCOUNT: &str = "alice@example.com";
/// The delegated Exchange Online IMAP scope; authorize and devicecode requests must ask for it.
pub const IMAP_SCOPE: &str = "https://outlook.office.com/IMAP.AccessAsUser.All";
/// The `scope` returned by the token endpoint until [`FakeIdp::set_granted_scope`] is called.
pub const DEFAULT_GRANTED_SCOPE: &str =
    "https://outlook.office.com/IMAP.AccessAsUser.All openid profile email";
/// The `tid` claim used when the `{tenant}` path segment is not a GUID.
pub const DEFAULT_TENANT_ID: &str = "aaaabbbb-0000-cccc-1111-dddd2222eeee";
/// The `verification_uri` returned by the devicecode endpoint.
pub const DEVICE_VERIFICATION_URI: &str = "https://microsoft.com/devicelogin";

/// Lifetime of authorization codes ("typically, they expire after about 10 minutes").
const CODE_LIFETIME: Duration = Duration::from_secs(600);

/// A handle to a running fake identity provider. Cheap to clone; all clones share state.
/// Configuration methods take `&self` and may be called at any time.
#[derive(Clone)]
pub struct FakeIdp {
    addr: SocketAddr,
    shared: Arc<Shared>,
    _server: Arc<AbortOnDrop>,
}

/// Aborts the accept loop when the last [`FakeIdp`] handle goes away.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

struct Shared {
    state: Mutex<State>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking test must not poison the fake for everybody else.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
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

struct AccessGrant {
    account: String,
    client_id: String,
    scope: String,
    expires: Instant,
    exp_unix: u64,
    iat_unix: u64,
}

struct DeviceGrant {
    client_id: String,
    tenant: String,
    account: String,
    expires: Instant,
    redeemed: bool,
}

struct State {
    client_id: String,
    client_secret: String,
    account: String,
    tenant: Option<String>,
    granted_scope: String,
    access_lifetime: u64,
    device_interval: u64,
    device_expires_in: u64,
    authorize_failure: Option<(String, String)>,
    token_failure: Option<TokenFailure>,
    device_script: VecDeque<String>,
    codes: HashMap<String, CodeGrant>,
    refresh_tokens: HashMap<String, RefreshGrant>,
    access_tokens: HashMap<String, AccessGrant>,
    device_codes: HashMap<String, DeviceGrant>,
    authorize_requests: usize,
    token_requests: usize,
    refresh_requests: usize,
    device_code_requests: usize,
    introspection_requests: usize,
    last_authorize_params: Vec<(String, String)>,
    last_token_form: Vec<(String, String)>,
    last_token_basic_auth: Option<(String, String)>,
}

impl Default for State {
    fn default() -> Self {
        State {
            client_id: DEFAULT_CLIENT_ID.to_owned(),
            client_secret: DEFAULT_CLIENT_SECRET.to_owned(),
            account: DEFAULT_ACCOUNT.to_owned(),
            tenant: None,
            granted_scope: DEFAULT_GRANTED_SCOPE.to_owned(),
            access_lifetime: 3599,
            device_interval: 5,
            device_expires_in: 900,
            authorize_failure: None,
            token_failure: None,
            device_script: VecDeque::new(),
            codes: HashMap::new(),
            refresh_tokens: HashMap::new(),
            access_tokens: HashMap::new(),
            device_codes: HashMap::new(),
            authorize_requests: 0,
            token_requests: 0,
            refresh_requests: 0,
            device_code_requests: 0,
            introspection_requests: 0,
            last_authorize_params: Vec::new(),
            last_token_form: Vec::new(),
            last_token_basic_auth: None,
        }
    }
}

impl FakeIdp {
    /// Binds `127.0.0.1:0` and serves the fake endpoints on the current tokio runtime.
    pub async fn start() -> FakeIdp {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .expect("fake IdP: cannot bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("fake IdP: no local address");
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
        });
        let task = tokio::spawn(accept_loop(listener, Arc::clone(&shared)));
        FakeIdp {
            addr,
            shared,
            _server: Arc::new(AbortOnDrop(task)),
        }
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
        let mut st = self.shared.lock();
        st.client_id = client_id.to_owned();
        st.client_secret = client_secret.to_owned();
    }

    /// Sets the account that "signs in" from now on: the id_token's `preferred_username` and
    /// `email`, and the introspection `username` (default [`DEFAULT_ACCOUNT`]).
    pub fn set_account(&self, username: &str) {
        self.shared.lock().account = username.to_owned();
    }

    /// Only this `{tenant}` path segment is accepted from now on; others get AADSTS90002.
    /// By default any tenant is accepted.
    pub fn set_tenant(&self, tenant: &str) {
        self.shared.lock().tenant = Some(tenant.to_owned());
    }

    /// The `scope` string of token responses (default [`DEFAULT_GRANTED_SCOPE`]); e.g. a
    /// Graph-only scope to simulate a token for the wrong resource.
    pub fn set_granted_scope(&self, scope: &str) {
        self.shared.lock().granted_scope = scope.to_owned();
    }

    /// The `expires_in` (and real lifetime) of access tokens minted from now on
    /// (default 3599 s). 0 mints tokens that are already expired.
    pub fn set_access_token_lifetime(&self, secs: u64) {
        self.shared.lock().access_lifetime = secs;
    }

    /// The `interval` returned by the devicecode endpoint (default 5).
    pub fn set_device_interval(&self, secs: u64) {
        self.shared.lock().device_interval = secs;
    }

    /// The `expires_in` of device codes (default 900); polls after that get `expired_token`.
    pub fn set_device_expires_in(&self, secs: u64) {
        self.shared.lock().device_expires_in = secs;
    }

    /// The next (valid) authorize request redirects to
    /// `redirect_uri?error=..&error_description=..&state=..` instead of issuing a code.
    pub fn fail_next_authorize(&self, error: &str, description: &str) {
        self.shared.lock().authorize_failure = Some((error.to_owned(), description.to_owned()));
    }

    /// The next token request (any grant) answers Microsoft's error JSON with this HTTP status.
    /// `description` gets an `AADSTS<codes[0]>: ` prefix unless it already starts with
    /// `AADSTS`, and the Trace ID / Correlation ID / Timestamp trailer.
    pub fn fail_next_token(&self, status: u16, error: &str, codes: &[u64], description: &str) {
        self.shared.lock().token_failure = Some(TokenFailure::Json {
            status,
            error: error.to_owned(),
            codes: codes.to_vec(),
            description: description.to_owned(),
        });
    }

    /// The next token request answers exactly this body (e.g. 503 with an HTML page).
    pub fn fail_next_token_raw(&self, status: u16, body: &str) {
        self.shared.lock().token_failure = Some(TokenFailure::Raw {
            status,
            body: body.to_owned(),
        });
    }

    /// How many requests reached the authorize endpoint.
    pub fn authorize_requests(&self) -> usize {
        self.shared.lock().authorize_requests
    }

    /// How many POSTs reached the token endpoint (all grants, failures included).
    pub fn token_requests(&self) -> usize {
        self.shared.lock().token_requests
    }

    /// How many token requests used `grant_type=refresh_token`.
    pub fn refresh_requests(&self) -> usize {
        self.shared.lock().refresh_requests
    }

    /// How many requests reached the devicecode endpoint.
    pub fn device_code_requests(&self) -> usize {
        self.shared.lock().device_code_requests
    }

    /// How many requests reached the introspection endpoint (e.g. from Dovecot).
    pub fn introspection_requests(&self) -> usize {
        self.shared.lock().introspection_requests
    }

    /// The query parameters of the last authorize request.
    pub fn last_authorize_params(&self) -> Vec<(String, String)> {
        self.shared.lock().last_authorize_params.clone()
    }

    /// The form body of the last request to the token endpoint.
    pub fn last_token_form(&self) -> Vec<(String, String)> {
        self.shared.lock().last_token_form.clone()
    }

    /// The decoded `Authorization: Basic` client credentials (id, secret) of the last token
    /// request, if it used HTTP Basic client authentication.
    pub fn last_token_basic_auth(&self) -> Option<(String, String)> {
        self.shared.lock().last_token_basic_auth.clone()
    }

    /// Revokes every refresh token issued so far: refreshing with any of them gets
    /// `invalid_grant` AADSTS70008.
    pub fn revoke_all_refresh_tokens(&self) {
        for grant in self.shared.lock().refresh_tokens.values_mut() {
            grant.status = RefreshStatus::Revoked;
        }
    }

    /// Makes every access token issued so far expire now (introspection then says inactive).
    pub fn expire_all_access_tokens(&self) {
        let now = Instant::now();
        for grant in self.shared.lock().access_tokens.values_mut() {
            grant.expires = now;
        }
    }

    /// Whether `token` is an access token this fake issued that has not expired.
    pub fn is_valid_access_token(&self, token: &str) -> bool {
        self.shared
            .lock()
            .access_tokens
            .get(token)
            .is_some_and(|g| g.expires > Instant::now())
    }

    /// Issues a live access token for `username` without any HTTP flow (for IMAP-only tests).
    pub fn mint_access_token(&self, username: &str) -> String {
        let mut st = self.shared.lock();
        let client_id = st.client_id.clone();
        let scope = st.granted_scope.clone();
        let lifetime = st.access_lifetime;
        st.insert_access_token(username, &client_id, &scope, lifetime)
    }

    /// Issues a current refresh token for `username` at `tenant` without any HTTP flow (for
    /// seeding many servers at once, e.g. the benchmark).
    pub fn mint_refresh_token(&self, username: &str, tenant: &str) -> String {
        let mut st = self.shared.lock();
        let token = random_token("1.fakeRT.", 96);
        let grant = RefreshGrant {
            client_id: st.client_id.clone(),
            account: username.to_owned(),
            tenant: tenant.to_owned(),
            public: false,
            status: RefreshStatus::Current,
        };
        st.refresh_tokens.insert(token.clone(), grant);
        token
    }

    /// Scripts the answers to the next device-code polls: any of `authorization_pending`,
    /// `slow_down`, `authorization_declined`, `expired_token`, `bad_verification_code` or
    /// `ok`. Replaces any previous script; once it is used up every poll answers `ok`.
    pub fn script_device_poll(&self, answers: &[&str]) {
        self.shared.lock().device_script = answers.iter().map(|a| (*a).to_owned()).collect();
    }
}

/// Plays the browser: GETs the authorization URL at the fake (no redirect following), takes
/// the 302 `Location` (which must point at the app's `redirect_uri` with `code`+`state` or
/// `error`), then GETs that location and returns the (status, body) of the app's listener page.
/// Panics with a clear message on anything unexpected.
pub async fn play_browser(auth_url: &str) -> (u16, String) {
    let location = authorize_redirect(auth_url).await;
    let response = browser_client()
        .get(&location)
        .send()
        .await
        .unwrap_or_else(|e| panic!("browser: GET of the redirect {location} failed: {}", chain(&e)));
    let status = response.status().as_u16();
    let body = response
        .text()
        .await
        .unwrap_or_else(|e| panic!("browser: reading the page at {location} failed: {}", chain(&e)));
    (status, body)
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

    let response = browser_client()
        .get(auth_url)
        .send()
        .await
        .unwrap_or_else(|e| panic!("browser: GET {auth_url} failed: {}", chain(&e)));
    let status = response.status();
    let location = response
        .headers()
        .get(header::LOCATION)
        .map(|v| v.to_str().map(str::to_owned));
    if status != StatusCode::FOUND {
        let body = response.text().await.unwrap_or_default();
        panic!("browser: the IdP answered {status} instead of a 302 redirect for {auth_url}\n{body}");
    }
    let location = match location {
        Some(Ok(l)) => l,
        Some(Err(_)) => panic!("browser: the 302 Location header is not valid text"),
        None => panic!("browser: the 302 from {auth_url} has no Location header"),
    };
    if !location.starts_with(&redirect_uri) {
        panic!("browser: redirected to {location}, which is not the redirect_uri {redirect_uri}");
    }
    let target = url::Url::parse(&location)
        .unwrap_or_else(|e| panic!("browser: redirect {location:?} is not a URL: {e}"));
    let pairs: Vec<(String, String)> = target.query_pairs().into_owned().collect();
    let has = |name: &str| pairs.iter().any(|(k, _)| k == name);
    let state = pairs.iter().find(|(k, _)| k == "state").map(|(_, v)| v);
    if !has("code") && !has("error") {
        panic!("browser: redirect {location} carries neither code nor error");
    }
    if state != sent_state.as_ref() {
        panic!("browser: redirect {location} does not echo state {sent_state:?}");
    }
    location
}

/// An error with all its causes (reqwest's own message hides e.g. "connection refused").
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// An HTTP client that, like a test browser, never follows redirects and never uses a proxy.
fn browser_client() -> oauth2::reqwest::Client {
    oauth2::reqwest::Client::builder()
        .redirect(oauth2::reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("browser: cannot build an HTTP client")
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let Ok((stream, _peer)) = listener.accept().await else {
            // e.g. EMFILE: back off briefly instead of spinning, keep serving the others.
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            let service = service_fn(move |req| handle(Arc::clone(&shared), req));
            // Connection errors (client hung up, etc.) are not interesting to a test.
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) => return Ok(text_response(400, &format!("cannot read request body: {e}"))),
    };
    let request = ReadRequest {
        method: parts.method,
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().unwrap_or_default().to_owned(),
        headers: parts.headers,
        body,
    };
    let mut st = shared.lock();
    Ok(st.route(&request))
}

/// A fully read request.
struct ReadRequest {
    method: Method,
    path: String,
    query: String,
    headers: HeaderMap,
    body: Bytes,
}

impl ReadRequest {
    fn query_pairs(&self) -> Vec<(String, String)> {
        url::form_urlencoded::parse(self.query.as_bytes())
            .into_owned()
            .collect()
    }

    fn form_pairs(&self) -> Vec<(String, String)> {
        url::form_urlencoded::parse(&self.body).into_owned().collect()
    }

    /// `Authorization: <scheme> <value>` with a case-insensitive scheme.
    fn authorization(&self, scheme: &str) -> Option<String> {
        let value = self.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
        let (s, rest) = value.split_once(' ')?;
        s.eq_ignore_ascii_case(scheme).then(|| rest.trim().to_owned())
    }

    /// RFC 6749 §2.3.1 client credentials (form-urlencoded id and secret, then Basic).
    fn basic_auth(&self) -> Option<(String, String)> {
        let raw = STANDARD.decode(self.authorization("Basic")?).ok()?;
        let raw = String::from_utf8(raw).ok()?;
        let (id, secret) = raw.split_once(':')?;
        Some((form_decode(id), form_decode(secret)))
    }
}

fn form_decode(s: &str) -> String {
    let pair = format!("v={s}");
    url::form_urlencoded::parse(pair.as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

fn get<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

/// An error answer, as produced by the token and devicecode endpoints.
type Answer = Result<Value, ErrorResponse>;

/// A boxed error response (keeps `Result`s small).
type ErrorResponse = Box<Response<Full<Bytes>>>;

impl State {
    fn route(&mut self, req: &ReadRequest) -> Response<Full<Bytes>> {
        if req.path == "/introspect" {
            return match req.method {
                Method::GET | Method::POST => self.introspect(req),
                _ => text_response(405, "method not allowed"),
            };
        }
        let segments: Vec<&str> = req.path.trim_start_matches('/').split('/').collect();
        let [tenant, "oauth2", "v2.0", endpoint] = segments.as_slice() else {
            return text_response(404, "not found");
        };
        match (*endpoint, &req.method) {
            ("authorize", &Method::GET) => self.authorize(tenant, req),
            ("token", &Method::POST) => self.token(tenant, req),
            ("devicecode", &Method::POST) => match self.devicecode(tenant, req) {
                Ok(v) => json_response(200, &v),
                Err(resp) => *resp,
            },
            ("authorize" | "token" | "devicecode", _) => text_response(405, "method not allowed"),
            _ => text_response(404, "not found"),
        }
    }

    fn tenant_error(&self, tenant: &str) -> Option<String> {
        match &self.tenant {
            Some(t) if !t.eq_ignore_ascii_case(tenant) => Some(format!(
                "AADSTS90002: Tenant '{tenant}' not found. Check to make sure you have the \
                 correct tenant ID and are signing into the correct cloud."
            )),
            _ => None,
        }
    }

    // ---- authorize -------------------------------------------------------------------

    fn authorize(&mut self, tenant: &str, req: &ReadRequest) -> Response<Full<Bytes>> {
        self.authorize_requests += 1;
        let params = req.query_pairs();
        self.last_authorize_params = params.clone();
        let p = |name: &str| get(&params, name).unwrap_or_default().to_owned();

        if let Some(msg) = self.tenant_error(tenant) {
            return error_page(&msg);
        }
        let client_id = p("client_id");
        if client_id != self.client_id {
            return error_page(&format!(
                "AADSTS700016: Application with identifier '{client_id}' was not found in the \
                 directory '{tenant}'. This can happen if the application has not been \
                 installed by the administrator of the tenant or consented to by any user in \
                 the tenant. You might have sent your authentication request to the wrong tenant."
            ));
        }
        let redirect_uri = p("redirect_uri");
        let redirect_ok = ["http://localhost", "http://127.0.0.1", "https://"]
            .iter()
            .any(|prefix| redirect_uri.starts_with(prefix));
        let Some(redirect) = url::Url::parse(&redirect_uri).ok().filter(|_| redirect_ok) else {
            return error_page(&format!(
                "AADSTS50011: The redirect URI '{redirect_uri}' specified in the request does \
                 not match the redirect URIs configured for the application '{client_id}'. \
                 Make sure the redirect URI sent in the request matches one added to your \
                 application in the Azure portal."
            ));
        };
        let state = get(&params, "state").map(str::to_owned);
        let redirect_err = |error: &str, description: &str| {
            let mut target = redirect.clone();
            {
                let mut q = target.query_pairs_mut();
                q.append_pair("error", error);
                q.append_pair("error_description", description);
                if let Some(s) = &state {
                    q.append_pair("state", s);
                }
            }
            redirect_response(target.as_str())
        };

        if let Some((error, description)) = self.authorize_failure.take() {
            return redirect_err(&error, &description);
        }
        let response_type = p("response_type");
        if response_type != "code" {
            return redirect_err(
                "unsupported_response_type",
                &format!(
                    "AADSTS700054: response_type '{response_type}' is not enabled for the \
                     application (the fake IdP only supports 'code')."
                ),
            );
        }
        let scope = p("scope");
        let scopes: Vec<&str> = scope.split_whitespace().collect();
        if !scopes.contains(&IMAP_SCOPE) || !scopes.contains(&"offline_access") {
            return redirect_err(
                "invalid_scope",
                &format!(
                    "AADSTS70011: The provided request must include a 'scope' input parameter \
                     with '{IMAP_SCOPE}' and 'offline_access'. The provided value for the input \
                     parameter 'scope' ('{scope}') is not valid."
                ),
            );
        }
        let challenge = p("code_challenge");
        if p("code_challenge_method") != "S256" || challenge.is_empty() {
            return redirect_err(
                "invalid_request",
                "AADSTS9002313: Invalid request. Request is malformed or invalid: the fake IdP \
                 requires code_challenge with code_challenge_method=S256.",
            );
        }

        let code = random_token("0.fakecode.", 48);
        self.codes.insert(
            code.clone(),
            CodeGrant {
                client_id,
                redirect_uri,
                challenge,
                tenant: tenant.to_owned(),
                account: self.account.clone(),
                expires: Instant::now() + CODE_LIFETIME,
                used: false,
            },
        );
        let mut target = redirect;
        {
            let mut q = target.query_pairs_mut();
            q.append_pair("code", &code);
            if let Some(s) = &state {
                q.append_pair("state", s);
            }
        }
        redirect_response(target.as_str())
    }

    // ---- token -----------------------------------------------------------------------

    fn token(&mut self, tenant: &str, req: &ReadRequest) -> Response<Full<Bytes>> {
        self.token_requests += 1;
        let form = req.form_pairs();
        self.last_token_form = form.clone();
        self.last_token_basic_auth = req.basic_auth();
        let grant_type = get(&form, "grant_type").unwrap_or_default().to_owned();
        if grant_type == "refresh_token" {
            self.refresh_requests += 1;
        }

        if let Some(failure) = self.token_failure.take() {
            return match failure {
                TokenFailure::Json {
                    status,
                    error,
                    codes,
                    description,
                } => *ms_error(status, &error, &codes, &description),
                TokenFailure::Raw { status, body } => raw_response(status, body),
            };
        }
        if let Some(msg) = self.tenant_error(tenant) {
            return *ms_error(400, "invalid_tenant", &[90002], &msg);
        }
        let basic = req.basic_auth();
        let answer = match grant_type.as_str() {
            "authorization_code" => self.grant_code(tenant, &form, basic),
            "refresh_token" => self.grant_refresh(tenant, &form, basic),
            "urn:ietf:params:oauth:grant-type:device_code" => self.grant_device(tenant, &form, basic),
            "" => Err(missing_parameter("grant_type")),
            other => Err(ms_error(
                400,
                "unsupported_grant_type",
                &[70003],
                &format!("AADSTS70003: The app requested an unsupported grant type '{other}'."),
            )),
        };
        match answer {
            Ok(v) => json_response(200, &v),
            Err(resp) => *resp,
        }
    }

    /// Checks client authentication. `public` grants must not present a secret.
    fn client_auth(
        &self,
        tenant: &str,
        form: &[(String, String)],
        basic: Option<(String, String)>,
        public: bool,
    ) -> Result<String, ErrorResponse> {
        let (basic_id, basic_secret) = basic.unzip();
        let body_secret = get(form, "client_secret").map(str::to_owned);
        let client_id = get(form, "client_id")
            .map(str::to_owned)
            .or(basic_id)
            .ok_or_else(|| missing_parameter("client_id"))?;
        if client_id != self.client_id {
            return Err(ms_error(
                400,
                "unauthorized_client",
                &[700016],
                &format!(
                    "AADSTS700016: Application with identifier '{client_id}' was not found in \
                     the directory '{tenant}'. This can happen if the application has not been \
                     installed by the administrator of the tenant or consented to by any user \
                     in the tenant. You may have sent your authentication request to the wrong \
                     tenant."
                ),
            ));
        }
        let secret = match (body_secret, basic_secret) {
            (Some(_), Some(_)) => {
                return Err(ms_error(
                    400,
                    "invalid_request",
                    &[9002313],
                    "AADSTS9002313: Invalid request. Request is malformed or invalid: more than \
                     one client authentication method (client_secret in the body and HTTP Basic).",
                ));
            }
            (a, b) => a.or(b),
        };
        match (public, secret) {
            (true, None) => Ok(client_id),
            (true, Some(_)) => Err(ms_error(
                400,
                "invalid_client",
                &[700025],
                "AADSTS700025: Client is public so neither 'client_assertion' nor \
                 'client_secret' should be presented.",
            )),
            (false, None) => Err(ms_error(
                401,
                "invalid_client",
                &[7000218],
                "AADSTS7000218: The request body must contain the following parameter: \
                 'client_assertion' or 'client_secret'.",
            )),
            (false, Some(s)) if s == self.client_secret => Ok(client_id),
            (false, Some(_)) => Err(ms_error(
                401,
                "invalid_client",
                &[7000215],
                &format!(
                    "AADSTS7000215: Invalid client secret provided. Ensure the secret being \
                     sent in the request is the client secret value, not the client secret ID, \
                     for a secret added to app '{client_id}'."
                ),
            )),
        }
    }

    fn grant_code(
        &mut self,
        tenant: &str,
        form: &[(String, String)],
        basic: Option<(String, String)>,
    ) -> Answer {
        let client_id = self.client_auth(tenant, form, basic, false)?;
        let code = get(form, "code").ok_or_else(|| missing_parameter("code"))?;
        let Some(grant) = self.codes.get_mut(code) else {
            return Err(invalid_grant(
                &[70000],
                "AADSTS70000: The provided value for the 'code' parameter is not valid.",
            ));
        };
        if grant.used {
            return Err(invalid_grant(
                &[70000, 54005],
                "AADSTS54005: OAuth2 Authorization code was already redeemed, please retry with \
                 a new valid code or use an existing refresh token.",
            ));
        }
        if grant.expires <= Instant::now() {
            return Err(invalid_grant(
                &[70008],
                "AADSTS70008: The provided authorization code or refresh token has expired due \
                 to inactivity. Send a new interactive authorization request for this user and \
                 resource.",
            ));
        }
        if grant.client_id != client_id {
            return Err(invalid_grant(
                &[70000],
                "AADSTS70000: The provided value for the 'code' parameter is not valid. The \
                 code was issued to a different client.",
            ));
        }
        if !grant.tenant.eq_ignore_ascii_case(tenant) {
            return Err(invalid_grant(
                &[700005],
                &format!(
                    "AADSTS700005: Provided Authorization Code is intended to use against other \
                     tenant ('{}'), thus rejected.",
                    grant.tenant
                ),
            ));
        }
        let redirect_uri = get(form, "redirect_uri").unwrap_or_default();
        if redirect_uri != grant.redirect_uri {
            return Err(invalid_grant(
                &[500112],
                &format!(
                    "AADSTS500112: The reply address '{redirect_uri}' does not match the reply \
                     address '{}' provided when requesting Authorization code.",
                    grant.redirect_uri
                ),
            ));
        }
        let verifier = get(form, "code_verifier").unwrap_or_default();
        if pkce_challenge(verifier) != grant.challenge {
            return Err(invalid_grant(
                &[501481],
                "AADSTS501481: The Code_Verifier does not match the code_challenge supplied in \
                 the authorization request.",
            ));
        }
        grant.used = true;
        let account = grant.account.clone();
        Ok(self.issue_tokens(tenant, &client_id, &account, false))
    }

    fn grant_refresh(
        &mut self,
        tenant: &str,
        form: &[(String, String)],
        basic: Option<(String, String)>,
    ) -> Answer {
        let token = get(form, "refresh_token").unwrap_or_default().to_owned();
        // Which flow minted the token decides whether this is a public-client request.
        let public = self.refresh_tokens.get(&token).is_some_and(|g| g.public);
        let client_id = self.client_auth(tenant, form, basic, public)?;
        if token.is_empty() {
            return Err(missing_parameter("refresh_token"));
        }
        let Some(grant) = self.refresh_tokens.get_mut(&token) else {
            return Err(invalid_grant(
                &[9002313],
                "AADSTS9002313: Invalid request. Request is malformed or invalid: the refresh \
                 token is not one the fake IdP issued.",
            ));
        };
        if grant.status != RefreshStatus::Current {
            return Err(invalid_grant(
                &[70008],
                "AADSTS70008: The provided authorization code or refresh token has expired due \
                 to inactivity. Send a new interactive authorization request for this user and \
                 resource.",
            ));
        }
        if grant.client_id != client_id || !grant.tenant.eq_ignore_ascii_case(tenant) {
            return Err(invalid_grant(
                &[70000],
                "AADSTS70000: Provided grant is invalid or malformed (issued to another client \
                 or tenant).",
            ));
        }
        grant.status = RefreshStatus::Rotated;
        let account = grant.account.clone();
        let public = grant.public;
        Ok(self.issue_tokens(tenant, &client_id, &account, public))
    }

    fn grant_device(
        &mut self,
        tenant: &str,
        form: &[(String, String)],
        basic: Option<(String, String)>,
    ) -> Answer {
        let client_id = self.client_auth(tenant, form, basic, true)?;
        let device_code = get(form, "device_code").ok_or_else(|| missing_parameter("device_code"))?;
        let Some(grant) = self.device_codes.get(device_code) else {
            return Err(device_error("bad_verification_code"));
        };
        if grant.client_id != client_id || !grant.tenant.eq_ignore_ascii_case(tenant) {
            return Err(device_error("bad_verification_code"));
        }
        if grant.redeemed {
            return Err(invalid_grant(
                &[70000],
                "AADSTS70000: The provided value for the input parameter 'device_code' is not \
                 valid. This device code has already been redeemed.",
            ));
        }
        if grant.expires <= Instant::now() {
            return Err(device_error("expired_token"));
        }
        let account = grant.account.clone();
        let answer = self.device_script.pop_front().unwrap_or_else(|| "ok".to_owned());
        if answer != "ok" {
            return Err(device_error(&answer));
        }
        if let Some(grant) = self.device_codes.get_mut(device_code) {
            grant.redeemed = true;
        }
        Ok(self.issue_tokens(tenant, &client_id, &account, true))
    }

    // ---- devicecode ------------------------------------------------------------------

    fn devicecode(&mut self, tenant: &str, req: &ReadRequest) -> Answer {
        self.device_code_requests += 1;
        let form = req.form_pairs();
        if let Some(msg) = self.tenant_error(tenant) {
            return Err(ms_error(400, "invalid_tenant", &[90002], &msg));
        }
        let client_id = get(&form, "client_id").ok_or_else(|| missing_parameter("client_id"))?;
        if client_id != self.client_id {
            return Err(ms_error(
                400,
                "unauthorized_client",
                &[700016],
                &format!(
                    "AADSTS700016: Application with identifier '{client_id}' was not found in \
                     the directory '{tenant}'."
                ),
            ));
        }
        let scope = get(&form, "scope").unwrap_or_default();
        let scopes: Vec<&str> = scope.split_whitespace().collect();
        if !scopes.contains(&IMAP_SCOPE) || !scopes.contains(&"offline_access") {
            return Err(ms_error(
                400,
                "invalid_scope",
                &[70011],
                &format!(
                    "AADSTS70011: The provided request must include a 'scope' input parameter \
                     with '{IMAP_SCOPE}' and 'offline_access'. The provided value for the input \
                     parameter 'scope' ('{scope}') is not valid."
                ),
            ));
        }
        let device_code = random_token("DAQABfake", 48);
        let user_code = user_code();
        self.device_codes.insert(
            device_code.clone(),
            DeviceGrant {
                client_id: client_id.to_owned(),
                tenant: tenant.to_owned(),
                account: self.account.clone(),
                expires: Instant::now() + Duration::from_secs(self.device_expires_in),
                redeemed: false,
            },
        );
        Ok(json!({
            "user_code": user_code,
            "device_code": device_code,
            "verification_uri": DEVICE_VERIFICATION_URI,
            "expires_in": self.device_expires_in,
            "interval": self.device_interval,
            "message": format!(
                "To sign in, use a web browser to open the page {DEVICE_VERIFICATION_URI} and \
                 enter the code {user_code} to authenticate."
            ),
        }))
    }

    // ---- introspection ---------------------------------------------------------------

    fn introspect(&mut self, req: &ReadRequest) -> Response<Full<Bytes>> {
        self.introspection_requests += 1;
        let form = req.form_pairs();
        let query = req.query_pairs();
        let token = get(&form, "token")
            .or_else(|| get(&query, "token"))
            .map(str::to_owned)
            .or_else(|| req.authorization("Bearer"));
        let now = Instant::now();
        let grant = token
            .as_deref()
            .and_then(|t| self.access_tokens.get(t))
            .filter(|g| g.expires > now);
        let body = match grant {
            Some(g) => json!({
                "active": true,
                "username": g.account,
                "email": g.account,
                "scope": g.scope,
                "client_id": g.client_id,
                "token_type": "Bearer",
                "exp": g.exp_unix,
                "iat": g.iat_unix,
                "sub": g.account,
            }),
            None => json!({ "active": false }),
        };
        json_response(200, &body)
    }

    // ---- minting ---------------------------------------------------------------------

    fn insert_access_token(&mut self, account: &str, client_id: &str, scope: &str, lifetime: u64) -> String {
        let token = random_token("EwBfakeAT.", 64);
        let now = unix_now();
        self.access_tokens.insert(
            token.clone(),
            AccessGrant {
                account: account.to_owned(),
                client_id: client_id.to_owned(),
                scope: scope.to_owned(),
                expires: Instant::now() + Duration::from_secs(lifetime),
                exp_unix: now + lifetime,
                iat_unix: now,
            },
        );
        token
    }

    /// Issues access, refresh and id tokens and returns the token response JSON.
    fn issue_tokens(&mut self, tenant: &str, client_id: &str, account: &str, public: bool) -> Value {
        let lifetime = self.access_lifetime;
        let scope = self.granted_scope.clone();
        let access_token = self.insert_access_token(account, client_id, &scope, lifetime);
        let refresh_token = random_token("1.fakeRT.", 96);
        self.refresh_tokens.insert(
            refresh_token.clone(),
            RefreshGrant {
                client_id: client_id.to_owned(),
                account: account.to_owned(),
                tenant: tenant.to_owned(),
                public,
                status: RefreshStatus::Current,
            },
        );
        json!({
            "token_type": "Bearer",
            "scope": scope,
            "expires_in": lifetime,
            "ext_expires_in": lifetime,
            "access_token": access_token,
            "refresh_token": refresh_token,
            "id_token": id_token(tenant, client_id, account, lifetime),
        })
    }
}

/// An unsigned-looking (random signature) JWT with Entra v2.0 id_token claims.
fn id_token(tenant: &str, client_id: &str, account: &str, lifetime: u64) -> String {
    let tid = if looks_like_guid(tenant) {
        tenant.to_ascii_lowercase()
    } else {
        DEFAULT_TENANT_ID.to_owned()
    };
    let now = unix_now();
    let local = account.split('@').next().unwrap_or(account);
    let name = capitalize(local);
    let oid = uuid_for(account);
    let header = json!({"typ": "JWT", "alg": "RS256", "kid": "fake-idp-key"});
    let payload = json!({
        "aud": client_id,
        "iss": format!("https://login.microsoftonline.com/{tid}/v2.0"),
        "iat": now,
        "nbf": now,
        "exp": now + lifetime,
        "name": name,
        "oid": oid,
        "preferred_username": account,
        "email": account,
        "sub": URL_SAFE_NO_PAD.encode(Sha256::digest(format!("{client_id}/{account}"))),
        "tid": tid,
        "ver": "2.0",
    });
    let mut signature = [0u8; 64];
    rand::thread_rng().fill_bytes(&mut signature);
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(payload.to_string()),
        URL_SAFE_NO_PAD.encode(signature)
    )
}

/// `BASE64URL(SHA256(verifier))`, the S256 PKCE transform.
fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

fn looks_like_guid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12])
        && parts.iter().all(|p| p.chars().all(|c| c.is_ascii_hexdigit()))
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A stable GUID-shaped identifier derived from `seed`.
fn uuid_for(seed: &str) -> String {
    let d = Sha256::digest(seed.as_bytes());
    format_uuid(&d[..16])
}

fn random_uuid() -> String {
    let mut b = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut b);
    format_uuid(&b)
}

fn format_uuid(b: &[u8]) -> String {
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

fn random_token(prefix: &str, bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut b);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(b))
}

/// An `ABCD-EFGH` style user code.
fn user_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    let mut rng = rand::thread_rng();
    let mut pick = || char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]);
    let first: String = (0..4).map(|_| pick()).collect();
    let second: String = (0..4).map(|_| pick()).collect();
    format!("{first}-{second}")
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

fn ms_timestamp() -> String {
    jiff::Timestamp::now().strftime("%Y-%m-%d %H:%M:%SZ").to_string()
}

// ---- responses -------------------------------------------------------------------------

/// Microsoft's token-endpoint error JSON.
fn ms_error(status: u16, error: &str, codes: &[u64], message: &str) -> ErrorResponse {
    let trace_id = random_uuid();
    let correlation_id = random_uuid();
    let timestamp = ms_timestamp();
    let message = match codes.first() {
        Some(code) if !message.starts_with("AADSTS") => format!("AADSTS{code}: {message}"),
        _ => message.to_owned(),
    };
    let mut body = json!({
        "error": error,
        "error_description": format!(
            "{message}\r\nTrace ID: {trace_id}\r\nCorrelation ID: {correlation_id}\r\nTimestamp: {timestamp}"
        ),
        "error_codes": codes,
        "timestamp": timestamp,
        "trace_id": trace_id,
        "correlation_id": correlation_id,
    });
    if let Some(code) = codes.first() {
        body["error_uri"] = json!(format!("https://login.microsoftonline.com/error?code={code}"));
    }
    Box::new(json_response(status, &body))
}

fn invalid_grant(codes: &[u64], message: &str) -> ErrorResponse {
    ms_error(400, "invalid_grant", codes, message)
}

fn missing_parameter(name: &str) -> ErrorResponse {
    ms_error(
        400,
        "invalid_request",
        &[900144],
        &format!("AADSTS900144: The request body must contain the following parameter: '{name}'."),
    )
}

/// Device-flow poll errors (HTTP 400).
fn device_error(error: &str) -> ErrorResponse {
    let (codes, message): (&[u64], &str) = match error {
        "authorization_pending" => (
            &[70016],
            "AADSTS70016: OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
        ),
        "authorization_declined" => (
            &[70000],
            "AADSTS70000: The user declined the authorization request.",
        ),
        "expired_token" => (
            &[70019],
            "AADSTS70019: Verification code expired. The device code has expired; start a new \
             device code request.",
        ),
        "bad_verification_code" => (
            &[70018],
            "AADSTS70018: Invalid verification code: the device_code sent to the token \
             endpoint wasn't recognized.",
        ),
        // RFC 8628 §3.5; Microsoft does not document it, so no AADSTS code.
        "slow_down" => (&[], "slow_down: polling too fast; add 5 seconds to the interval."),
        _ => (&[], "scripted device-code poll error (fake IdP)."),
    };
    ms_error(400, error, codes, message)
}

fn json_response(status: u16, body: &Value) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(body.to_string())));
    *resp.status_mut() = status_code(status);
    let headers = resp.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store, no-cache"),
    );
    resp
}

fn raw_response(status: u16, body: String) -> Response<Full<Bytes>> {
    let content_type = match body.trim_start().chars().next() {
        Some('<') => "text/html; charset=utf-8",
        Some('{' | '[') => "application/json; charset=utf-8",
        _ => "text/plain; charset=utf-8",
    };
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status_code(status);
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

fn text_response(status: u16, body: &str) -> Response<Full<Bytes>> {
    raw_response(status, body.to_owned())
}

/// The page Entra shows in the browser when it cannot redirect back to the app.
fn error_page(message: &str) -> Response<Full<Bytes>> {
    let html = format!(
        "<!DOCTYPE html><html><head><title>Sign in to your account</title></head><body>\
         <h1>Sign in</h1><p>Sorry, but we're having trouble signing you in.</p>\
         <p id=\"error\">{}</p><p>Trace ID: {}<br>Correlation ID: {}<br>Timestamp: {}</p>\
         </body></html>",
        html_escape(message),
        random_uuid(),
        random_uuid(),
        ms_timestamp()
    );
    raw_response(400, html)
}

fn redirect_response(location: &str) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::new()));
    *resp.status_mut() = StatusCode::FOUND;
    match HeaderValue::from_str(location) {
        Ok(v) => {
            resp.headers_mut().insert(header::LOCATION, v);
            resp
        }
        Err(_) => text_response(500, "fake IdP: redirect location is not a valid header"),
    }
}

fn status_code(status: u16) -> StatusCode {
    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
