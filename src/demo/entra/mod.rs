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
//! * `POST /{tenant}/oauth2/v2.0/devicecode`, and the page at [`Settings::verification_uri`]
//!   where a user code is entered (`GET /devicelogin` shows the form, `POST` signs in).
//!
//! Everything else is a 404. [`Entra`] is the state; [`serve`] runs it on a listener.

pub mod http;
pub mod ids;
mod pages;

use http::{ErrorResponse, HttpRequest, Response, get, invalid_grant, missing_parameter, ms_error};
use hyper::Method;
use ids::{id_token, pkce_challenge, random_token, unix_now, user_code};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
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
}

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
    pub account: String,
    pub client_id: String,
    pub scope: String,
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
}

impl Entra {
    pub fn new(settings: Settings) -> Self {
        Self {
            settings,
            codes: HashMap::new(),
            refresh_tokens: HashMap::new(),
            access_tokens: HashMap::new(),
            device_codes: HashMap::new(),
        }
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
        let Some((tenant, endpoint)) = endpoint(&req.path) else {
            return http::text(404, "not found");
        };
        match (endpoint, &req.method) {
            ("authorize", &Method::GET) => match self.check_authorize(tenant, &req.query_pairs()) {
                Ok(a) if self.settings.sign_in_page => pages::sign_in(&a, &self.account_for(&a.login_hint)),
                Ok(a) => self.approve(a),
                Err(resp) => *resp,
            },
            ("authorize", &Method::POST) => match self.check_authorize(tenant, &req.query_pairs()) {
                Ok(a) => match get(&req.form_pairs(), "consent") {
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

    // ---- authorize -----------------------------------------------------------------------

    /// Checks an authorization request the way Entra does: what it cannot redirect back about
    /// (tenant, client, redirect URI) is an error page; the rest is an error redirect.
    pub fn check_authorize(
        &self,
        tenant: &str,
        params: &[(String, String)],
    ) -> Result<Authorization, ErrorResponse> {
        let p = |name: &str| get(params, name).unwrap_or_default().to_owned();
        if let Some(msg) = self.tenant_error(tenant) {
            return Err(Box::new(http::error_page(&msg)));
        }
        let client_id = p("client_id");
        if client_id != self.settings.client_id {
            return Err(Box::new(http::error_page(&format!(
                "AADSTS700016: Application with identifier '{client_id}' was not found in the \
                 directory '{tenant}'. This can happen if the application has not been \
                 installed by the administrator of the tenant or consented to by any user in \
                 the tenant. You might have sent your authentication request to the wrong tenant."
            ))));
        }
        let redirect_uri = p("redirect_uri");
        let redirect_ok = ["http://localhost", "http://127.0.0.1", "https://"]
            .iter()
            .any(|prefix| redirect_uri.starts_with(prefix));
        let Some(redirect) = url::Url::parse(&redirect_uri).ok().filter(|_| redirect_ok) else {
            return Err(Box::new(http::error_page(&format!(
                "AADSTS50011: The redirect URI '{redirect_uri}' specified in the request does \
                 not match the redirect URIs configured for the application '{client_id}'. \
                 Make sure the redirect URI sent in the request matches one added to your \
                 application in the Azure portal."
            ))));
        };
        let a = Authorization {
            redirect,
            state: get(params, "state").map(str::to_owned),
            client_id,
            redirect_uri,
            challenge: p("code_challenge"),
            tenant: tenant.to_owned(),
            login_hint: get(params, "login_hint").map(str::to_owned),
            query: url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(params)
                .finish(),
        };
        let response_type = p("response_type");
        if response_type != "code" {
            return Err(Box::new(deny(
                a,
                "unsupported_response_type",
                &format!(
                    "AADSTS700054: response_type '{response_type}' is not enabled for the \
                     application (only 'code' is)."
                ),
            )));
        }
        let scope = p("scope");
        let scopes: Vec<&str> = scope.split_whitespace().collect();
        if !scopes.contains(&IMAP_SCOPE) || !scopes.contains(&"offline_access") {
            return Err(Box::new(deny(
                a,
                "invalid_scope",
                &format!(
                    "AADSTS70011: The provided request must include a 'scope' input parameter \
                     with '{IMAP_SCOPE}' and 'offline_access'. The provided value for the input \
                     parameter 'scope' ('{scope}') is not valid."
                ),
            )));
        }
        if p("code_challenge_method") != "S256" || a.challenge.is_empty() {
            return Err(Box::new(deny(
                a,
                "invalid_request",
                "AADSTS9002313: Invalid request. Request is malformed or invalid: \
                 code_challenge with code_challenge_method=S256 is required.",
            )));
        }
        Ok(a)
    }

    /// The user signed in and accepted: a code goes back to the app's redirect URI.
    pub fn approve(&mut self, a: Authorization) -> Response {
        let account = self.account_for(&a.login_hint);
        let code = random_token("0.AQ.code.", 48);
        self.codes.insert(
            code.clone(),
            CodeGrant {
                client_id: a.client_id,
                redirect_uri: a.redirect_uri,
                challenge: a.challenge,
                tenant: a.tenant,
                account,
                expires: Instant::now() + CODE_LIFETIME,
                used: false,
            },
        );
        let mut target = a.redirect;
        {
            let mut q = target.query_pairs_mut();
            q.append_pair("code", &code);
            if let Some(s) = &a.state {
                q.append_pair("state", s);
            }
        }
        http::redirect(target.as_str())
    }

    // ---- token ---------------------------------------------------------------------------

    pub fn token(&mut self, tenant: &str, req: &HttpRequest) -> Response {
        let form = req.form_pairs();
        if let Some(msg) = self.tenant_error(tenant) {
            return *ms_error(400, "invalid_tenant", &[90002], &msg);
        }
        let basic = req.basic_auth();
        let answer = match get(&form, "grant_type").unwrap_or_default() {
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
            Ok(v) => http::json(200, &v),
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
        if client_id != self.settings.client_id {
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
            (false, Some(s)) if s == self.settings.client_secret => Ok(client_id),
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
                 token was not issued here.",
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

    /// Checks a device-code poll up to the user's part: client, code, redemption, expiry.
    /// Returns the device code.
    pub fn check_device_poll(
        &self,
        tenant: &str,
        form: &[(String, String)],
        basic: Option<(String, String)>,
    ) -> Result<String, ErrorResponse> {
        let client_id = self.client_auth(tenant, form, basic, true)?;
        let device_code = get(form, "device_code").ok_or_else(|| missing_parameter("device_code"))?;
        let Some(grant) = self.device_codes.get(device_code) else {
            return Err(http::device_error("bad_verification_code"));
        };
        if grant.client_id != client_id || !grant.tenant.eq_ignore_ascii_case(tenant) {
            return Err(http::device_error("bad_verification_code"));
        }
        if grant.redeemed {
            return Err(invalid_grant(
                &[70000],
                "AADSTS70000: The provided value for the input parameter 'device_code' is not \
                 valid. This device code has already been redeemed.",
            ));
        }
        if grant.expires <= Instant::now() {
            return Err(http::device_error("expired_token"));
        }
        Ok(device_code.to_owned())
    }

    fn grant_device(
        &mut self,
        tenant: &str,
        form: &[(String, String)],
        basic: Option<(String, String)>,
    ) -> Answer {
        let device_code = self.check_device_poll(tenant, form, basic)?;
        let client_id = self.settings.client_id.clone();
        let Some(grant) = self.device_codes.get_mut(&device_code) else {
            return Err(http::device_error("bad_verification_code"));
        };
        let Some(account) = grant.account.clone() else {
            return Err(http::device_error("authorization_pending"));
        };
        grant.redeemed = true;
        Ok(self.issue_tokens(tenant, &client_id, &account, true))
    }

    // ---- device code ---------------------------------------------------------------------

    fn devicecode(&mut self, tenant: &str, req: &HttpRequest) -> Answer {
        let form = req.form_pairs();
        if let Some(msg) = self.tenant_error(tenant) {
            return Err(ms_error(400, "invalid_tenant", &[90002], &msg));
        }
        let client_id = get(&form, "client_id").ok_or_else(|| missing_parameter("client_id"))?;
        if client_id != self.settings.client_id {
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
        let device_code = random_token("DAQABAAEAAA", 48);
        let user_code = user_code();
        let s = &self.settings;
        let uri = s.verification_uri.clone();
        let (expires_in, interval) = (s.device_expires_in, s.device_interval);
        self.device_codes.insert(
            device_code.clone(),
            DeviceGrant {
                client_id: client_id.to_owned(),
                tenant: tenant.to_owned(),
                user_code: user_code.clone(),
                account: None,
                login_hint: get(&form, "login_hint").map(str::to_owned),
                expires: Instant::now() + Duration::from_secs(expires_in),
                redeemed: false,
            },
        );
        Ok(json!({
            "user_code": user_code,
            "device_code": device_code,
            "verification_uri": uri,
            "expires_in": expires_in,
            "interval": interval,
            "message": format!(
                "To sign in, use a web browser to open the page {uri} and enter the code \
                 {user_code} to authenticate."
            ),
        }))
    }

    /// Signs in on behalf of a device code, as if its user code had been entered.
    pub fn approve_device_code(&mut self, device_code: &str) {
        let account = self
            .device_codes
            .get(device_code)
            .map(|g| self.account_for(&g.login_hint));
        if let (Some(g), Some(a)) = (self.device_codes.get_mut(device_code), account) {
            g.account = Some(a);
        }
    }

    /// `POST /devicelogin` with `user_code`: the page where a person enters the code.
    fn device_login(&mut self, req: &HttpRequest) -> Response {
        let form = req.form_pairs();
        let typed = get(&form, "user_code")
            .unwrap_or_default()
            .trim()
            .to_ascii_uppercase();
        let now = Instant::now();
        let found = self
            .device_codes
            .iter()
            .find(|(_, g)| g.user_code == typed && !g.redeemed && g.expires > now)
            .map(|(code, _)| code.clone());
        match found {
            Some(code) => {
                self.approve_device_code(&code);
                let account = self
                    .device_codes
                    .get(&code)
                    .and_then(|g| g.account.clone())
                    .unwrap_or_default();
                pages::device_done(&account)
            }
            None => pages::device_form(Some(
                "That code didn't work. Check the code and try again (it expires after 15 minutes).",
            )),
        }
    }

    // ---- tokens --------------------------------------------------------------------------

    /// An access token this stand-in issued (live or not).
    pub fn access_grant(&self, token: &str) -> Option<&AccessGrant> {
        self.access_tokens.get(token)
    }

    /// Issues a live access token for `account` without any HTTP flow.
    pub fn mint_access_token(&mut self, account: &str) -> String {
        let client_id = self.settings.client_id.clone();
        let scope = self.settings.granted_scope.clone();
        let lifetime = self.settings.access_lifetime;
        self.insert_access_token(account, &client_id, &scope, lifetime)
    }

    /// An administrator revoked every session: refresh tokens issued so far stop working.
    pub fn revoke_sessions(&mut self) {
        for grant in self.refresh_tokens.values_mut() {
            grant.status = RefreshStatus::Revoked;
        }
    }

    /// Every access token issued so far expires now.
    pub fn expire_access_tokens(&mut self) {
        let now = Instant::now();
        for grant in self.access_tokens.values_mut() {
            grant.expires = now;
        }
    }

    fn insert_access_token(&mut self, account: &str, client_id: &str, scope: &str, lifetime: u64) -> String {
        let token = random_token("EwBAT.", 64);
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
        let lifetime = self.settings.access_lifetime;
        let scope = self.settings.granted_scope.clone();
        let access_token = self.insert_access_token(account, client_id, &scope, lifetime);
        let refresh_token = random_token("1.AQ.RT.", 96);
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

type Answer = Result<Value, ErrorResponse>;

/// `/{tenant}/oauth2/v2.0/{endpoint}` split into tenant and endpoint.
pub fn endpoint(path: &str) -> Option<(&str, &str)> {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match segments.as_slice() {
        [tenant, "oauth2", "v2.0", endpoint] => Some((tenant, endpoint)),
        _ => None,
    }
}

/// The error redirect: `redirect_uri?error=…&error_description=…&state=…`.
pub fn deny(a: Authorization, error: &str, description: &str) -> Response {
    let mut target = a.redirect;
    {
        let mut q = target.query_pairs_mut();
        q.append_pair("error", error);
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

/// Binds `127.0.0.1:0` and serves `handler` on the current runtime.
pub async fn serve(handler: Arc<dyn http::Handler>) -> std::io::Result<Running> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(http::serve(listener, handler));
    Ok(Running { addr, task })
}

#[cfg(test)]
mod tests;
