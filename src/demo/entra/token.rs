//! The token endpoint: client authentication, code redemption (PKCE, once), refresh with
//! rotation, and minting.

use super::http::{
    self, ErrorResponse, HttpRequest, Response, get, invalid_grant, missing_parameter, ms_error,
};
use super::ids::{app_token, id_token, pkce_challenge, random_token, unix_now};
use super::{AccessGrant, Answer, Entra, RefreshGrant, RefreshStatus};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

impl Entra {
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
            "client_credentials" => self.grant_client_credentials(tenant, &form, basic),
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
    pub(super) fn client_auth(
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
        if !self.knows_app(&client_id) {
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
        if let Some(assertion) = get(form, "client_assertion") {
            return self.assertion_auth(tenant, form, client_id, assertion, public, body_secret.is_some());
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
            (false, Some(s)) if self.secret_of(&client_id) == Some(s.as_str()) => Ok(client_id),
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

    /// Client authentication with a certificate: RFC 7523 client assertion.
    fn assertion_auth(
        &self,
        tenant: &str,
        form: &[(String, String)],
        client_id: String,
        assertion: &str,
        public: bool,
        with_secret: bool,
    ) -> Result<String, ErrorResponse> {
        if public {
            return Err(ms_error(
                400,
                "invalid_client",
                &[700025],
                "AADSTS700025: Client is public so neither 'client_assertion' nor \
                 'client_secret' should be presented.",
            ));
        }
        if with_secret {
            return Err(ms_error(
                400,
                "invalid_request",
                &[9002313],
                "AADSTS9002313: Invalid request. Request is malformed or invalid: more than \
                 one client authentication method (client_secret and client_assertion).",
            ));
        }
        if get(form, "client_assertion_type") != Some(super::JWT_BEARER) {
            return Err(ms_error(
                400,
                "invalid_request",
                &[9002313],
                "AADSTS9002313: Invalid request. Request is malformed or invalid: \
                 client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer.",
            ));
        }
        super::assertion::verify(assertion, &client_id, tenant, &self.settings.certificates)?;
        Ok(client_id)
    }

    pub(super) fn grant_code(
        &mut self,
        tenant: &str,
        form: &[(String, String)],
        basic: Option<(String, String)>,
    ) -> Answer {
        // A public client's redirect URI ("Mobile and desktop") makes the redemption public:
        // no secret allowed (AADSTS700025); a Web one needs it (AADSTS7000218).
        let public = self.settings.public_client;
        let client_id = self.client_auth(tenant, form, basic, public)?;
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
        Ok(self.issue_tokens(tenant, &client_id, &account, public))
    }

    pub(super) fn grant_refresh(
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
        if !self.keep_rotated {
            grant.status = RefreshStatus::Rotated;
        }
        let account = grant.account.clone();
        let public = grant.public;
        Ok(self.issue_tokens(tenant, &client_id, &account, public))
    }

    /// The client-credentials grant (app-only): a confidential client asks for
    /// `{resource}/.default` and gets a JWT-shaped access token whose `aud` is the resource and
    /// whose `roles` are the application permissions an admin consented to. No refresh token,
    /// no id_token (there is no user).
    pub(super) fn grant_client_credentials(
        &mut self,
        tenant: &str,
        form: &[(String, String)],
        basic: Option<(String, String)>,
    ) -> Answer {
        let client_id = self.client_auth(tenant, form, basic, false)?;
        let scope = get(form, "scope").ok_or_else(|| missing_parameter("scope"))?;
        let Some(resource) = scope
            .trim()
            .strip_suffix("/.default")
            .filter(|r| !r.contains(' '))
        else {
            return Err(ms_error(
                400,
                "invalid_scope",
                &[1002012],
                &format!(
                    "AADSTS1002012: The provided value for scope {scope} is not valid. Client \
                     credential flows must have a scope value with /.default suffixed to the \
                     resource identifier (application ID URI)."
                ),
            ));
        };
        let lifetime = self.settings.access_lifetime;
        let roles = self.settings.app_roles.clone();
        let token = app_token(tenant, &client_id, resource, &roles, lifetime);
        let now = unix_now();
        self.access_tokens.insert(
            token.clone(),
            AccessGrant {
                account: String::new(),
                client_id: client_id.clone(),
                scope: scope.to_owned(),
                roles,
                expires: Instant::now() + Duration::from_secs(lifetime),
                exp_unix: now + lifetime,
                iat_unix: now,
            },
        );
        Ok(json!({
            "token_type": "Bearer",
            "expires_in": lifetime,
            "ext_expires_in": lifetime,
            "access_token": token,
        }))
    }

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

    /// Issues a current refresh token for `account` at `tenant` without any HTTP flow (for
    /// seeding many servers at once, e.g. the benchmark).
    pub fn mint_refresh_token(&mut self, account: &str, tenant: &str) -> String {
        let token = random_token("1.AQ.RT.", 96);
        let grant = RefreshGrant {
            client_id: self.settings.client_id.clone(),
            account: account.to_owned(),
            tenant: tenant.to_owned(),
            public: false,
            status: RefreshStatus::Current,
        };
        self.refresh_tokens.insert(token.clone(), grant);
        token
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

    pub(super) fn insert_access_token(
        &mut self,
        account: &str,
        client_id: &str,
        scope: &str,
        lifetime: u64,
    ) -> String {
        let token = random_token("EwBAT.", 64);
        let now = unix_now();
        self.access_tokens.insert(
            token.clone(),
            AccessGrant {
                account: account.to_owned(),
                client_id: client_id.to_owned(),
                scope: scope.to_owned(),
                roles: Vec::new(),
                expires: Instant::now() + Duration::from_secs(lifetime),
                exp_unix: now + lifetime,
                iat_unix: now,
            },
        );
        token
    }

    /// Issues access, refresh and id tokens and returns the token response JSON.
    pub(super) fn issue_tokens(
        &mut self,
        tenant: &str,
        client_id: &str,
        account: &str,
        public: bool,
    ) -> Value {
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
