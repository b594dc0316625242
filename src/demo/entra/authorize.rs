//! Authorize: the request checked the way Entra checks it, then a code or an error redirect.

use super::http::{self, ErrorResponse, Response, get};
use super::ids::random_token;
use super::{Authorization, CODE_LIFETIME, CodeGrant, Entra, IMAP_SCOPE, deny};
use std::time::Instant;

impl Entra {
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
        if !self.knows_app(&client_id) {
            return Err(Box::new(http::error_page(&format!(
                "AADSTS700016: Application with identifier '{client_id}' was not found in the \
                 directory '{tenant}'. This can happen if the application has not been \
                 installed by the administrator of the tenant or consented to by any user in \
                 the tenant. You might have sent your authentication request to the wrong tenant."
            ))));
        }
        let redirect_uri = p("redirect_uri");
        let Some(redirect) = super::redirect::matching(&self.settings.redirect_uris, &redirect_uri) else {
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
}
