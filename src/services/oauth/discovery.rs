//! OpenID discovery of a tenant: `GET {authority}/{tenant}/v2.0/.well-known/openid-configuration`
//! (microsoft-facts §1.1). Entra answers for a tenant ID or any verified domain, and its
//! `issuer` (`https://login.microsoftonline.com/{tenant id}/v2.0`) carries the tenant's GUID, so
//! a domain resolves to its tenant ID without signing in. An unknown tenant gets HTTP 400 with
//! `invalid_tenant` / AADSTS90002 in Microsoft's error JSON.

use super::{OAuthError, endpoint};
use crate::model::AzureApp;
use crate::model::validate::is_guid;
use crate::sanitize::peer_text;
use serde::Deserialize;

/// What discovery says about a tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantInfo {
    /// The Directory (tenant) ID, lower case; `None` for `organizations`/`common`, whose
    /// issuer is the template `…/{tenantid}/v2.0`.
    pub tenant_id: Option<String>,
    pub issuer: String,
    /// Entra's `cloud_instance_name` (`microsoftonline.com`, `microsoftonline.us`, …): the
    /// cloud the tenant lives in. Observed, not documented, so only ever used for a warning.
    pub cloud_instance: Option<String>,
}

#[derive(Deserialize)]
struct Document {
    issuer: String,
    /// Present in every Entra document; its absence means this is no OpenID provider.
    #[serde(default)]
    token_endpoint: Option<String>,
    #[serde(default)]
    cloud_instance_name: Option<String>,
}

/// Fetches the tenant's discovery document.
pub async fn discover(app: &AzureApp) -> Result<TenantInfo, OAuthError> {
    let answer = endpoint::get_json(&app.discovery_url()).await?;
    interpret(&answer)
}

fn interpret(answer: &endpoint::Answer) -> Result<TenantInfo, OAuthError> {
    if answer.status != 200 {
        return Err(endpoint::error_from(answer));
    }
    let doc: Document = serde_json::from_slice(&answer.body).map_err(|_| OAuthError::BadAnswer {
        status: answer.status,
        problem: format!("{} for the OpenID discovery document", endpoint::shape(answer)),
    })?;
    if doc.token_endpoint.is_none() {
        return Err(OAuthError::BadAnswer {
            status: answer.status,
            problem: "a discovery document without token_endpoint".into(),
        });
    }
    let issuer = peer_text(&doc.issuer);
    Ok(TenantInfo {
        tenant_id: tenant_in(&issuer),
        issuer,
        cloud_instance: crate::sanitize::peer_opt(doc.cloud_instance_name),
    })
}

/// The GUID path segment of an issuer URL.
fn tenant_in(issuer: &str) -> Option<String> {
    let url = url::Url::parse(issuer).ok()?;
    url.path_segments()?
        .find(|s| is_guid(s))
        .map(str::to_ascii_lowercase)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> endpoint::Answer {
        endpoint::Answer {
            status,
            content_type: "application/json".into(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn the_issuer_gives_the_tenant_id() {
        let doc = r#"{"issuer":"https://login.microsoftonline.com/6F1E2D3C-0000-4a4b-8c8d-0123456789ab/v2.0","token_endpoint":"x"}"#;
        let info = interpret(&answer(200, doc)).unwrap();
        assert_eq!(
            info.tenant_id.as_deref(),
            Some("6f1e2d3c-0000-4a4b-8c8d-0123456789ab")
        );
        let template =
            r#"{"issuer":"https://login.microsoftonline.com/{tenantid}/v2.0","token_endpoint":"x"}"#;
        assert_eq!(interpret(&answer(200, template)).unwrap().tenant_id, None);
    }

    #[test]
    fn unknown_tenants_and_odd_answers_are_errors() {
        let e = interpret(&answer(
            400,
            r#"{"error":"invalid_tenant","error_description":"AADSTS90002: Tenant 'x' not found.","error_codes":[90002]}"#,
        ))
        .unwrap_err();
        assert_eq!(e.credential_field(), Some(super::super::CredentialField::Tenant));
        assert!(matches!(
            interpret(&answer(200, "<html>")).unwrap_err(),
            OAuthError::BadAnswer { .. }
        ));
        assert!(matches!(
            interpret(&answer(200, r#"{"issuer":"x"}"#)).unwrap_err(),
            OAuthError::BadAnswer { .. }
        ));
        assert!(matches!(
            interpret(&answer(404, "not found")).unwrap_err(),
            OAuthError::Http { status: 404, .. }
        ));
    }
}
