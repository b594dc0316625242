//! OAuth2 against Microsoft's identity platform v2.0 (or any standards-compliant server):
//! authorization code + PKCE S256 + state, client_secret_post, refresh with rotation.
//! Built on the `oauth2` crate; Microsoft's error JSON is kept whole.

pub mod app_only;
pub mod client_credentials;
pub mod credential;
pub mod device;
pub mod diagnose;
pub mod discovery;
pub mod endpoint;
mod http;
pub mod idtoken;
pub mod listener;

pub(crate) use http::http_client;

use crate::model::{AzureApp, Flow, TokenSet};
use crate::secret::Secret;
use jiff::{SignedDuration, Timestamp};
use oauth2::basic::{BasicRevocationErrorResponse, BasicTokenIntrospectionResponse, BasicTokenResponse};
use oauth2::{
    AuthType, AuthUrl, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet, ErrorResponse,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, StandardRevocableToken, TokenUrl,
};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;
use thiserror::Error;

pub const IMAP_SCOPE: &str = "https://outlook.office.com/IMAP.AccessAsUser.All";
/// Requested on authorize. The token leg may carry one resource only, plus these OIDC scopes.
pub const SCOPES: [&str; 5] = [IMAP_SCOPE, "offline_access", "openid", "email", "profile"];
pub const HTTP_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Everything Microsoft sends on error (the stock type drops `error_codes` and the IDs).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct MsError {
    pub error: String,
    #[serde(default)]
    pub error_description: Option<String>,
    #[serde(default)]
    pub error_codes: Vec<u64>,
    #[serde(default)]
    pub timestamp: Option<String>,
    #[serde(default)]
    pub trace_id: Option<String>,
    #[serde(default)]
    pub correlation_id: Option<String>,
    #[serde(default)]
    pub error_uri: Option<String>,
    #[serde(default)]
    pub suberror: Option<String>,
}

impl MsError {
    /// The same error with every field cleaned of control characters (it came from a peer).
    pub fn sanitized(self) -> Self {
        use crate::sanitize::{peer_opt, peer_text};
        Self {
            error: peer_text(&self.error),
            // Kept multi-line (trace IDs follow the first line), so only controls go.
            error_description: self
                .error_description
                .map(|d| d.lines().map(peer_text).collect::<Vec<_>>().join("\n")),
            error_codes: self.error_codes,
            timestamp: peer_opt(self.timestamp),
            trace_id: peer_opt(self.trace_id),
            correlation_id: peer_opt(self.correlation_id),
            error_uri: peer_opt(self.error_uri),
            suberror: peer_opt(self.suberror),
        }
    }

    /// The codes, from `error_codes` or else from the description's `AADSTSnnn`.
    pub fn codes(&self) -> Vec<u64> {
        if self.error_codes.is_empty() {
            diagnose::codes_in_text(self.error_description.as_deref().unwrap_or(""))
        } else {
            self.error_codes.clone()
        }
    }

    /// The description's first line (Microsoft appends trace/correlation IDs on later lines).
    pub fn short_description(&self) -> String {
        self.error_description
            .as_deref()
            .unwrap_or("")
            .lines()
            .next()
            .unwrap_or("")
            .trim()
            .to_string()
    }

    pub fn hint(&self) -> Option<&'static str> {
        self.codes().into_iter().find_map(diagnose::aadsts_hint)
    }
}

impl fmt::Display for MsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.error)?;
        let d = self.short_description();
        if !d.is_empty() {
            write!(f, ": {d}")?;
        }
        if let Some(t) = &self.trace_id {
            write!(f, " (trace ID {t}")?;
            if let Some(c) = &self.correlation_id {
                write!(f, ", correlation ID {c}")?;
            }
            if let Some(ts) = &self.timestamp {
                write!(f, ", {ts}")?;
            }
            write!(f, ")")?;
        }
        Ok(())
    }
}

impl ErrorResponse for MsError {}

/// The part of an app's credentials an error is about: the form goes there to fix it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialField {
    ClientId,
    Tenant,
    Secret,
}

type MsClient = oauth2::Client<
    MsError,
    BasicTokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// Why a token request failed, classified so callers keep tokens on transient faults.
#[derive(Debug, Error)]
pub enum OAuthError {
    #[error("Microsoft refused: {0}")]
    Microsoft(Box<MsError>),
    #[error("the token endpoint answered HTTP {status}: {body}")]
    Http { status: u16, body: String },
    #[error("the token endpoint answered HTTP {status} with {problem}; nothing was stored")]
    BadAnswer { status: u16, problem: String },
    #[error("cannot reach the identity provider: {0}")]
    Network(String),
    #[error("configuration: {0}")]
    Config(String),
    #[error("the token does not grant IMAP access (granted scope: \"{0}\")")]
    WrongScope(String),
    #[error("the token response has no refresh token (was offline_access granted?)")]
    NoRefreshToken,
    /// An app-only token Exchange would refuse (wrong audience, no `IMAP.AccessAsApp`).
    #[error("{0}")]
    AppOnlyToken(app_only::AppTokenProblem),
}

impl OAuthError {
    /// Network trouble, timeouts, 5xx and `temporarily_unavailable`: retry later, keep tokens.
    pub fn is_transient(&self) -> bool {
        match self {
            OAuthError::Network(_) | OAuthError::BadAnswer { .. } => true,
            OAuthError::Http { status, .. } => *status >= 500 || *status == 429,
            OAuthError::Microsoft(e) => e.error == "temporarily_unavailable" || e.error == "server_error",
            _ => false,
        }
    }

    /// The blocker this failure sets on a server, if it is not transient.
    pub fn blocker(&self) -> Option<crate::model::Blocker> {
        use crate::model::Blocker;
        match self {
            OAuthError::Microsoft(e) => {
                let codes = e.codes();
                if codes.contains(&7000222) {
                    Some(Blocker::SecretExpired)
                } else if e.error == "invalid_client" || e.error == "unauthorized_client" {
                    Some(Blocker::BadClient)
                } else if e.error == "invalid_grant"
                    || e.error == "interaction_required"
                    || diagnose::needs_reconsent(&codes)
                {
                    Some(Blocker::NeedsReconsent)
                } else {
                    None
                }
            }
            OAuthError::NoRefreshToken | OAuthError::WrongScope(_) => Some(Blocker::NeedsReconsent),
            _ => None,
        }
    }

    /// The app credential Microsoft says is wrong, when its answer names one.
    pub fn credential_field(&self) -> Option<CredentialField> {
        let OAuthError::Microsoft(e) = self else {
            return None;
        };
        e.codes().into_iter().find_map(|c| match c {
            7000215 | 7000222 => Some(CredentialField::Secret),
            700016 => Some(CredentialField::ClientId),
            90002 | 900023 => Some(CredentialField::Tenant),
            _ => None,
        })
    }

    /// What fixes it, as data, where a step of ours does.
    pub fn fix(&self) -> Option<crate::model::health::Fix> {
        match self {
            OAuthError::Microsoft(e) => e.codes().into_iter().find_map(diagnose::aadsts_fix),
            _ => None,
        }
    }

    pub fn hint(&self) -> Option<String> {
        match self {
            OAuthError::Microsoft(e) => e.hint().map(str::to_string).or_else(|| {
                (e.error == "invalid_grant").then(|| "Microsoft refused the stored grant: connect again.".to_string())
            }),
            OAuthError::Network(_) => Some("check this machine's network/proxy; tokens were kept and nothing is lost".into()),
            OAuthError::Http { .. } => Some("the identity provider had a problem; try again later, tokens were kept".into()),
            OAuthError::BadAnswer { .. } => Some("the identity provider (or a proxy in between) sent no usable token; the stored tokens were kept; try again later, and check any proxy on the way".into()),
            OAuthError::WrongScope(_) => Some("under API permissions add Office 365 Exchange Online (or Microsoft Graph) → Delegated → IMAP.AccessAsUser.All, then connect again".into()),
            OAuthError::NoRefreshToken => Some("add the offline_access permission to the app, then connect again".into()),
            OAuthError::AppOnlyToken(app_only::AppTokenProblem::MissingRole { .. }) => Some(format!("the application permission or its admin consent is missing: in the portal open the app → API permissions → Add a permission → APIs my organization uses → Office 365 Exchange Online → Application permissions → {}, then Grant admin consent for the tenant (an admin); then try again", app_only::IMAP_APP_ROLE)),
            OAuthError::AppOnlyToken(app_only::AppTokenProblem::BadObjectId) => Some("Microsoft Entra ID names the service principal by a GUID: check the authority (another identity provider or a proxy answered); no Exchange command is printed with this value".into()),
            OAuthError::AppOnlyToken(app_only::AppTokenProblem::WrongAudience(_)) => Some(format!("app-only IMAP needs a token for Exchange Online, requested with scope {}: check the authority (another identity provider or a proxy answered for another resource)", client_credentials::APP_ONLY_IMAP_SCOPE)),
            OAuthError::Config(_) => None,
        }
    }
}

pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

fn client(app: &AzureApp, redirect_uri: Option<&str>, with_secret: bool) -> Result<MsClient, OAuthError> {
    let bad = |e: oauth2::url::ParseError| OAuthError::Config(format!("bad endpoint URL: {e}"));
    let mut c = oauth2::Client::new(ClientId::new(app.client_id.clone()))
        .set_auth_uri(AuthUrl::new(app.authorize_url()).map_err(bad)?)
        .set_token_uri(TokenUrl::new(app.token_url()).map_err(bad)?)
        .set_auth_type(AuthType::RequestBody);
    if let Some(r) = redirect_uri {
        c = c.set_redirect_uri(RedirectUrl::new(r.to_string()).map_err(bad)?);
    }
    if with_secret && let Some(secret) = &app.secret {
        c = c.set_client_secret(ClientSecret::new(secret.expose().to_string()));
    }
    Ok(c)
}

/// An authorization request in flight: the URL to open, the state to expect back, the PKCE
/// verifier to redeem with.
pub struct AuthRequest {
    pub url: String,
    pub state: String,
    pub redirect_uri: String,
    verifier: PkceCodeVerifier,
}

impl fmt::Debug for AuthRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthRequest")
            .field("url", &self.url)
            .field("redirect_uri", &self.redirect_uri)
            .finish_non_exhaustive()
    }
}

/// Builds the authorization URL: code flow, PKCE S256, random state, `login_hint`,
/// `prompt=select_account` (so the user does not silently reuse another signed-in account).
/// `state` is made first (see [`new_state`]) because the listener must know it before the URL
/// exists, and the URL needs the listener's port.
pub fn authorization_request(
    app: &AzureApp,
    redirect_uri: &str,
    login_hint: &str,
    state: String,
) -> Result<AuthRequest, OAuthError> {
    let c = client(app, Some(redirect_uri), true)?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut req = c.authorize_url(move || CsrfToken::new(state));
    for s in SCOPES {
        req = req.add_scope(Scope::new(s.to_string()));
    }
    let (url, state) = req
        .set_pkce_challenge(challenge)
        .add_extra_param("response_mode", "query")
        .add_extra_param("prompt", "select_account")
        .add_extra_param("login_hint", login_hint)
        .url();
    Ok(AuthRequest {
        url: url.to_string(),
        state: state.secret().clone(),
        redirect_uri: redirect_uri.to_string(),
        verifier,
    })
}

/// A fresh random `state` value.
pub fn new_state() -> String {
    CsrfToken::new_random().secret().clone()
}

/// What a successful token request gives.
#[derive(Debug, Clone)]
pub struct Grant {
    pub access_token: Secret,
    pub refresh_token: Option<Secret>,
    pub expires_in: Duration,
    pub scope: String,
    pub account: Option<String>,
}

impl Grant {
    /// The token set to store. `previous` keeps the consent time and account across refreshes
    /// and the old refresh token when the server did not rotate it.
    pub fn into_token_set(self, now: Timestamp, flow: Flow, previous: Option<&TokenSet>) -> TokenSet {
        let secs = i64::try_from(self.expires_in.as_secs()).unwrap_or(3600);
        TokenSet {
            access_token: self.access_token,
            refresh_token: self
                .refresh_token
                .or_else(|| previous.and_then(|p| p.refresh_token.clone())),
            issued_at: now,
            expires_at: now + SignedDuration::from_secs(secs),
            refreshed_at: now,
            consented_at: previous.map_or(now, |p| p.consented_at),
            scope: self.scope,
            account: self.account.or_else(|| previous.and_then(|p| p.account.clone())),
            flow,
            principal_id: None,
        }
    }
}

/// Redeems an authorization code (once).
pub async fn exchange_code(app: &AzureApp, request: AuthRequest, code: &str) -> Result<Grant, OAuthError> {
    let token_url = app.token_url();
    let auth = credential::client_auth(app, &token_url)?;
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("client_id", app.client_id.as_str()),
        ("code", code),
        ("redirect_uri", request.redirect_uri.as_str()),
        ("code_verifier", request.verifier.secret().as_str()),
    ];
    form.extend(auth.iter().map(|(k, v)| (*k, v.expose())));
    let answer = endpoint::post_form(&token_url, &form).await?;
    let grant = endpoint::grant_from(&answer, &SCOPES.join(" "), Some("IMAP.AccessAsUser.All"))?;
    if grant.refresh_token.is_none() {
        return Err(OAuthError::NoRefreshToken);
    }
    Ok(grant)
}

/// Refreshes; a device-code grant is refreshed without the client secret (public client).
pub async fn refresh(app: &AzureApp, refresh_token: &Secret, flow: Flow) -> Result<Grant, OAuthError> {
    let scope = format!("{IMAP_SCOPE} offline_access");
    let mut form = vec![
        ("grant_type", "refresh_token"),
        ("client_id", app.client_id.as_str()),
        ("refresh_token", refresh_token.expose()),
        ("scope", scope.as_str()),
    ];
    let token_url = app.token_url();
    let auth = if flow == Flow::AuthorizationCode {
        credential::client_auth(app, &token_url)?
    } else {
        Vec::new()
    };
    form.extend(auth.iter().map(|(k, v)| (*k, v.expose())));
    let answer = endpoint::post_form(&token_url, &form).await?;
    endpoint::grant_from(&answer, IMAP_SCOPE, Some("IMAP.AccessAsUser.All"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app() -> AzureApp {
        AzureApp {
            name: "a".into(),
            client_id: "2c7f5e1a-84b3-4d69-a0e2-9b1c3d7f6a58".into(),
            tenant: "contoso.com".into(),
            secret: Some(Secret::new("s3cret")),
            secret_expires: None,
            authority: "https://login.microsoftonline.com".into(),
            certificate: None,
            public_client: false,
            admin_consent_at: None,
        }
    }

    #[test]
    fn authorization_url_has_every_required_parameter() {
        let r = authorization_request(
            &app(),
            "http://localhost:8400/microsoft_outlook/confirm",
            "me@contoso.com",
            new_state(),
        )
        .unwrap();
        let url = url::Url::parse(&r.url).unwrap();
        assert_eq!(url.path(), "/contoso.com/oauth2/v2.0/authorize");
        let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["client_id"], "2c7f5e1a-84b3-4d69-a0e2-9b1c3d7f6a58");
        assert_eq!(
            q["redirect_uri"],
            "http://localhost:8400/microsoft_outlook/confirm"
        );
        assert_eq!(
            q["scope"],
            "https://outlook.office.com/IMAP.AccessAsUser.All offline_access openid email profile"
        );
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!(q["code_challenge"].len(), 43);
        assert_eq!(q["state"], r.state);
        assert_eq!(q["login_hint"], "me@contoso.com");
        assert_eq!(q["prompt"], "select_account");
        assert!(!r.url.contains("s3cret"));
    }

    #[test]
    fn errors_are_classified() {
        let ms = |error: &str, codes: Vec<u64>| {
            OAuthError::Microsoft(Box::new(MsError {
                error: error.into(),
                error_description: Some("AADSTS1: x\r\nTrace ID: t".into()),
                error_codes: codes,
                timestamp: None,
                trace_id: Some("t".into()),
                correlation_id: Some("c".into()),
                error_uri: None,
                suberror: None,
            }))
        };
        use crate::model::Blocker;
        assert_eq!(
            ms("invalid_grant", vec![70008]).blocker(),
            Some(Blocker::NeedsReconsent)
        );
        assert_eq!(
            ms("invalid_client", vec![7000222]).blocker(),
            Some(Blocker::SecretExpired)
        );
        assert_eq!(
            ms("invalid_client", vec![7000215]).blocker(),
            Some(Blocker::BadClient)
        );
        assert!(ms("temporarily_unavailable", vec![]).is_transient());
        assert_eq!(ms("temporarily_unavailable", vec![]).blocker(), None);
        assert!(
            OAuthError::Http {
                status: 503,
                body: String::new()
            }
            .is_transient()
        );
        assert!(OAuthError::Network("x".into()).is_transient());
        let shown = ms("invalid_grant", vec![70008]).to_string();
        assert!(shown.contains("trace ID t, correlation ID c"), "{shown}");
        assert!(!shown.contains("Trace ID: t"), "{shown}");
    }
}
