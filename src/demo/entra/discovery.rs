//! `GET /{tenant}/v2.0/.well-known/openid-configuration`: the tenant's OpenID discovery
//! document, shaped like Entra's (the `issuer` carries the tenant GUID), or Entra's
//! `invalid_tenant` AADSTS90002 error JSON (HTTP 400) for a tenant the stand-in does not serve.

use super::Entra;
use super::http::{self, HttpRequest, Response, ms_error};
use super::ids::{DEFAULT_TENANT_ID, looks_like_guid};
use hyper::header;
use serde_json::json;

/// The path of the discovery document under `/{tenant}`.
pub const DISCOVERY_PATH: &str = "v2.0/.well-known/openid-configuration";

/// `/{tenant}/v2.0/.well-known/openid-configuration` → the tenant segment.
pub fn discovery_tenant(path: &str) -> Option<&str> {
    let (tenant, rest) = path.trim_start_matches('/').split_once('/')?;
    (rest == DISCOVERY_PATH && !tenant.is_empty()).then_some(tenant)
}

impl Entra {
    pub(super) fn discovery(&self, tenant: &str, req: &HttpRequest) -> Response {
        if let Some(msg) = self.tenant_error(tenant) {
            return *ms_error(400, "invalid_tenant", &[90002], &msg);
        }
        // Like Entra: the multi-tenant aliases answer with a template issuer.
        let tid = match tenant.to_ascii_lowercase().as_str() {
            "organizations" | "common" | "consumers" => "{tenantid}".to_owned(),
            t if looks_like_guid(t) => t.to_owned(),
            _ => DEFAULT_TENANT_ID.to_owned(),
        };
        let host = req
            .headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("127.0.0.1");
        let base = format!("http://{host}/{tenant}");
        http::json(
            200,
            &json!({
                "issuer": format!("https://login.microsoftonline.com/{tid}/v2.0"),
                "authorization_endpoint": format!("{base}/oauth2/v2.0/authorize"),
                "token_endpoint": format!("{base}/oauth2/v2.0/token"),
                "device_authorization_endpoint": format!("{base}/oauth2/v2.0/devicecode"),
                "jwks_uri": format!("{base}/discovery/v2.0/keys"),
                "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
                "response_modes_supported": ["query", "fragment", "form_post"],
                "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "tenant_region_scope": "WW",
                "cloud_instance_name": "microsoftonline.com",
            }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_discovery_path_names_a_tenant() {
        assert_eq!(
            discovery_tenant("/contoso.com/v2.0/.well-known/openid-configuration"),
            Some("contoso.com")
        );
        assert_eq!(discovery_tenant("/v2.0/.well-known/openid-configuration"), None);
        assert_eq!(discovery_tenant("/contoso.com/oauth2/v2.0/token"), None);
    }
}
