//! Reads the signed-in account from an id_token.
//!
//! No signature check: the id_token came straight from the token endpoint over TLS in answer
//! to our own request (OIDC Core §3.1.3.7 allows skipping validation in that case), and we use
//! it only to show and compare the account, never to grant access.

use base64::Engine as _;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Claims {
    #[serde(default)]
    preferred_username: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    upn: Option<String>,
}

/// `preferred_username`, else `email`, else `upn`.
pub fn account(id_token: &str) -> Result<String, String> {
    let payload = id_token.split('.').nth(1).ok_or("id_token is not a JWT")?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|e| format!("id_token payload is not base64url: {e}"))?;
    let claims: Claims =
        serde_json::from_slice(&bytes).map_err(|e| format!("id_token payload is not JSON: {e}"))?;
    claims
        .preferred_username
        .or(claims.email)
        .or(claims.upn)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| "id_token names no account".to_string())
}

/// True when the signed-in account is the configured mailbox (case-insensitive).
pub fn same_account(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(payload: &str) -> String {
        let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "{}.{}.sig",
            e.encode(r#"{"alg":"RS256","typ":"JWT"}"#),
            e.encode(payload)
        )
    }

    #[test]
    fn reads_preferred_username_then_email() {
        assert_eq!(
            account(&jwt(
                r#"{"preferred_username":"a@contoso.com","email":"b@contoso.com"}"#
            ))
            .unwrap(),
            "a@contoso.com"
        );
        assert_eq!(
            account(&jwt(r#"{"email":"b@contoso.com"}"#)).unwrap(),
            "b@contoso.com"
        );
        // base64url characters '-' and '_' and padding are accepted.
        assert_eq!(
            account(&jwt(r#"{"preferred_username":"ü?>>@x.com"}"#)).unwrap(),
            "ü?>>@x.com"
        );
        assert!(account("garbage").is_err());
        assert!(account(&jwt(r#"{"sub":"x"}"#)).is_err());
        assert!(same_account("Support@Contoso.com ", "support@contoso.com"));
    }
}
