//! The device-code flow: devicecode, the polls, and the page where the user code is entered.

use super::http::{
    self, ErrorResponse, HttpRequest, Response, get, invalid_grant, missing_parameter, ms_error,
};
use super::ids::{random_token, user_code};
use super::{Answer, DeviceGrant, Entra, IMAP_SCOPE, pages};
use serde_json::json;
use std::time::{Duration, Instant};

impl Entra {
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

    pub(super) fn grant_device(
        &mut self,
        tenant: &str,
        form: &[(String, String)],
        basic: Option<(String, String)>,
    ) -> Answer {
        let device_code = self.check_device_poll(tenant, form, basic)?;
        let Some(grant) = self.device_codes.get_mut(&device_code) else {
            return Err(http::device_error("bad_verification_code"));
        };
        let client_id = grant.client_id.clone();
        let Some(account) = grant.account.clone() else {
            return Err(http::device_error("authorization_pending"));
        };
        grant.redeemed = true;
        Ok(self.issue_tokens(tenant, &client_id, &account, true))
    }

    pub(super) fn devicecode(&mut self, tenant: &str, req: &HttpRequest) -> Answer {
        let form = req.form_pairs();
        if let Some(msg) = self.tenant_error(tenant) {
            return Err(ms_error(400, "invalid_tenant", &[90002], &msg));
        }
        let client_id = get(&form, "client_id").ok_or_else(|| missing_parameter("client_id"))?;
        if !self.knows_app(client_id) {
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
    pub(super) fn device_login(&mut self, req: &HttpRequest) -> Response {
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
}
