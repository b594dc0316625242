//! App-only IMAP tokens: the client-credentials grant for Exchange Online, and the checks
//! that must pass before such a token is called valid (microsoft-facts §3.2, §4.4 rows 5–6).
//!
//! The payload is decoded without checking the signature: the token came straight from the
//! token endpoint over TLS in answer to our own request (as with the id_token), and we read it
//! only to say what is missing, never to grant anything.

use super::client_credentials::{APP_ONLY_IMAP_SCOPE, client_credentials};
use super::{Grant, OAuthError};
use crate::model::AzureApp;
use base64::Engine as _;
use serde::Deserialize;

/// The application permission Exchange Online wants in `roles` for IMAP.
pub const IMAP_APP_ROLE: &str = "IMAP.AccessAsApp";

/// Audiences that mean Exchange Online: the resource URLs working tokens carry
/// (`https://outlook.office365.com` for the documented scope, `https://ps.outlook.com` as
/// MailKit's, microsoft-facts §3.2) and the resource's app ID.
const EXCHANGE_AUDIENCES: [&str; 4] = [
    "https://outlook.office365.com",
    "https://outlook.office.com",
    "https://ps.outlook.com",
    "00000002-0000-0ff1-ce00-000000000000",
];

/// What an app-only access token says about itself.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct AppClaims {
    #[serde(default)]
    pub aud: Option<String>,
    #[serde(default)]
    pub roles: Vec<String>,
    /// The service principal's Object ID (the enterprise application, not the registration).
    #[serde(default)]
    pub oid: Option<String>,
    #[serde(default)]
    pub tid: Option<String>,
}

/// Reads the claims of a JWT-shaped access token. `None` when the token is opaque (a
/// standards-compliant server need not issue JWTs): then nothing can be checked locally.
pub fn claims(token: &str) -> Option<AppClaims> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let mut c: AppClaims = serde_json::from_slice(&bytes).ok()?;
    // Peer text: cleaned before anything shows or stores it.
    c.aud = crate::sanitize::peer_opt(c.aud);
    c.oid = crate::sanitize::peer_opt(c.oid);
    c.tid = crate::sanitize::peer_opt(c.tid);
    c.roles = c.roles.iter().map(|r| crate::sanitize::peer_text(r)).collect();
    Some(c)
}

/// What is wrong with an app-only token, in the order an admin fixes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppTokenProblem {
    /// The token is for another resource (e.g. Graph): the scope was not Exchange's.
    WrongAudience(String),
    /// No `IMAP.AccessAsApp` in `roles`: the application permission or its admin consent is
    /// missing.
    MissingRole { roles: Vec<String> },
    /// The `oid` claim is not an Object ID (a GUID). Entra's always is; anything else is not
    /// put into the Exchange commands we print (it could end their quoting).
    BadObjectId,
}

impl std::fmt::Display for AppTokenProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AppTokenProblem::WrongAudience(aud) => write!(
                f,
                "the app-only token is for \"{aud}\", not Exchange Online (https://outlook.office365.com)"
            ),
            AppTokenProblem::MissingRole { roles } if roles.is_empty() => write!(
                f,
                "the app-only token carries no application permission (roles is empty): {IMAP_APP_ROLE} is missing"
            ),
            AppTokenProblem::MissingRole { roles } => write!(
                f,
                "the app-only token's roles ({}) do not include {IMAP_APP_ROLE}",
                roles.join(", ")
            ),
            AppTokenProblem::BadObjectId => write!(
                f,
                "the app-only token's service principal Object ID (oid claim) is not a GUID, so inbound neither uses nor shows it"
            ),
        }
    }
}

fn is_exchange(aud: &str) -> bool {
    let aud = aud.trim().trim_end_matches('/');
    EXCHANGE_AUDIENCES.iter().any(|a| a.eq_ignore_ascii_case(aud))
}

/// Checks audience, then role, then that the Object ID is one.
pub fn check(claims: &AppClaims) -> Result<(), AppTokenProblem> {
    if let Some(aud) = &claims.aud
        && !is_exchange(aud)
    {
        return Err(AppTokenProblem::WrongAudience(aud.clone()));
    }
    if !claims.roles.iter().any(|r| r == IMAP_APP_ROLE) {
        return Err(AppTokenProblem::MissingRole {
            roles: claims.roles.clone(),
        });
    }
    if let Some(oid) = claims.oid.as_deref().filter(|o| !o.is_empty())
        && !crate::model::validate::is_guid(oid)
    {
        return Err(AppTokenProblem::BadObjectId);
    }
    Ok(())
}

/// A checked app-only grant and the service principal's Object ID, when the token named it.
#[derive(Debug, Clone)]
pub struct AppGrant {
    pub grant: Grant,
    pub principal_id: Option<String>,
}

/// Fetches an app-only IMAP token and checks it; a token Exchange would refuse is an error
/// that names the missing piece, and nothing is stored from it.
pub async fn imap_token(app: &AzureApp) -> Result<AppGrant, OAuthError> {
    let grant = client_credentials(app, APP_ONLY_IMAP_SCOPE).await?;
    let claims = claims(grant.access_token.expose());
    if let Some(c) = &claims {
        check(c).map_err(OAuthError::AppOnlyToken)?;
    }
    Ok(AppGrant {
        grant,
        principal_id: claims.and_then(|c| c.oid).filter(|o| !o.is_empty()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(payload: &str) -> String {
        let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!("{}.{}.sig", e.encode(r#"{"alg":"RS256"}"#), e.encode(payload))
    }

    #[test]
    fn exchange_audience_and_role_pass() {
        for aud in [
            "https://outlook.office365.com",
            "https://outlook.office365.com/",
            "https://ps.outlook.com",
            "00000002-0000-0ff1-ce00-000000000000",
        ] {
            let c = claims(&jwt(&format!(
                r#"{{"aud":"{aud}","roles":["POP.AccessAsApp","IMAP.AccessAsApp"],"oid":"6a1d9e4b-2f70-4c3a-b8e5-0d9c7f1a2b34"}}"#
            )))
            .unwrap();
            assert_eq!(check(&c), Ok(()), "{aud}");
            assert_eq!(c.oid.as_deref(), Some("6a1d9e4b-2f70-4c3a-b8e5-0d9c7f1a2b34"));
        }
    }

    #[test]
    fn the_missing_piece_is_named() {
        let c = claims(&jwt(
            r#"{"aud":"https://graph.microsoft.com","roles":["IMAP.AccessAsApp"]}"#,
        ))
        .unwrap();
        let e = check(&c).unwrap_err();
        assert!(matches!(e, AppTokenProblem::WrongAudience(_)));
        assert!(e.to_string().contains("graph.microsoft.com"), "{e}");
        let c = claims(&jwt(r#"{"aud":"https://outlook.office365.com"}"#)).unwrap();
        let e = check(&c).unwrap_err();
        assert!(e.to_string().contains("roles is empty"), "{e}");
        let c = claims(&jwt(
            r#"{"aud":"https://outlook.office365.com","roles":["SMTP.SendAsApp"]}"#,
        ))
        .unwrap();
        assert!(check(&c).unwrap_err().to_string().contains("SMTP.SendAsApp"));
    }

    #[test]
    fn opaque_tokens_and_hostile_claims() {
        assert_eq!(claims("EwBAT.opaque"), None);
        assert_eq!(claims("a.!!!.c"), None);
        let c = claims(&jwt(r#"{"aud":"x\u001b[2J","roles":["a\u0007"]}"#)).unwrap();
        assert!(!c.aud.unwrap_or_default().contains('\u{1b}'));
        assert!(!c.roles[0].contains('\u{7}'));
    }

    #[test]
    fn an_object_id_that_is_no_guid_is_refused() {
        let hostile = "x\u{2019}; Remove-Mailbox -Identity ceo@contoso.com -Confirm:$false; \u{2018}y";
        let payload = serde_json::json!({
            "aud": "https://outlook.office365.com",
            "roles": ["IMAP.AccessAsApp"],
            "oid": hostile,
        });
        let c = claims(&jwt(&payload.to_string())).unwrap();
        let e = check(&c).unwrap_err();
        assert!(matches!(e, AppTokenProblem::BadObjectId), "{e:?}");
        assert!(e.to_string().contains("not a GUID"), "{e}");
    }
}
