//! Device-code sign-in (microsoft-facts §7): for machines where no browser can reach the
//! listener. Polling is written here rather than with `oauth2`'s device flow because the UI
//! needs each poll's outcome (pending, slow down) as an event and must be able to cancel.
//! A device-code token request carries **no** client secret (the app acts as a public client).

use super::endpoint::{self, Answer};
use super::{Grant, OAuthError, SCOPES};
use crate::model::AzureApp;
use crate::model::health::Fix;
use crate::secret::Secret;
use serde::Deserialize;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// Added to the interval on `slow_down` (RFC 8628 §3.5).
const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Deserialize)]
pub struct DeviceAuthorization {
    pub device_code: Secret,
    pub user_code: String,
    pub verification_uri: String,
    pub expires_in: u64,
    #[serde(default = "default_interval")]
    pub interval: u64,
    #[serde(default)]
    pub message: Option<String>,
}

fn default_interval() -> u64 {
    5
}

impl DeviceAuthorization {
    /// Cleans the peer's text and bounds its numbers: an interval of 0 would poll in a tight
    /// loop, an absurd `expires_in` would wait for ever.
    fn sanitized(self) -> Self {
        use crate::sanitize::{peer_opt, peer_text};
        Self {
            device_code: self.device_code,
            user_code: peer_text(&self.user_code),
            verification_uri: peer_text(&self.verification_uri),
            expires_in: self.expires_in.clamp(1, 3600),
            interval: self.interval.clamp(1, 60),
            message: peer_opt(self.message),
        }
    }
}

/// Progress while polling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollEvent {
    Pending,
    SlowDown { interval: Duration },
}

#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    #[error("the sign-in was declined on the device-login page")]
    Declined,
    #[error("the code expired before sign-in finished; start again")]
    Expired,
    #[error("Microsoft did not recognise the device code; start again")]
    BadCode,
    /// AADSTS53003 (Conditional Access) or 530035 (security defaults) while polling: the
    /// tenant blocks device-code sign-in (microsoft-facts §9: a Microsoft-managed policy does
    /// so on tenants that have not used it lately). Only the browser paths are left.
    #[error("the tenant's Conditional Access blocks device-code sign-in ({0})")]
    BlockedByPolicy(Box<super::MsError>),
    #[error("cancelled")]
    Cancelled,
    #[error(transparent)]
    OAuth(#[from] OAuthError),
}

impl DeviceError {
    pub fn hint(&self) -> Option<String> {
        match self {
            DeviceError::OAuth(OAuthError::Microsoft(e)) if e.codes().iter().any(|c| matches!(c, 7000218 | 700025)) => Some(
                "device-code sign-in needs the app registration's Authentication → Advanced settings → Allow public client flows = Yes (no client secret is sent on this path)".into(),
            ),
            DeviceError::BlockedByPolicy(_) => Some(super::diagnose::DEVICE_CODE_BLOCKED.into()),
            DeviceError::OAuth(e) => e.hint(),
            DeviceError::Declined => Some("start device-code sign-in again and choose Continue".into()),
            _ => None,
        }
    }

    /// What fixes it, as data (each face says how to act on it).
    pub fn fix(&self, server: &str) -> Option<Fix> {
        match self {
            DeviceError::OAuth(OAuthError::Microsoft(e))
                if e.codes().iter().any(|c| matches!(c, 7000218 | 700025)) =>
            {
                Some(Fix::AllowPublicClientFlows)
            }
            DeviceError::BlockedByPolicy(_) => Some(Fix::BrowserSignIn {
                server: Some(server.into()),
            }),
            DeviceError::OAuth(e) => e.fix(),
            _ => None,
        }
    }
}

fn error_from(answer: &Answer) -> OAuthError {
    endpoint::error_from(answer)
}

/// A poll error that means the tenant's policy forbids this path gets its own kind.
fn classify(err: OAuthError) -> DeviceError {
    match err {
        OAuthError::Microsoft(e) if super::diagnose::blocks_device_code(&e.codes()) => {
            DeviceError::BlockedByPolicy(e)
        }
        other => DeviceError::OAuth(other),
    }
}

/// Asks for a user code.
pub async fn start(app: &AzureApp) -> Result<DeviceAuthorization, OAuthError> {
    let scope = SCOPES.join(" ");
    let answer = endpoint::post_form(
        &app.devicecode_url(),
        &[("client_id", &app.client_id), ("scope", &scope)],
    )
    .await?;
    if answer.status != 200 {
        return Err(error_from(&answer));
    }
    let auth: DeviceAuthorization =
        serde_json::from_slice(&answer.body).map_err(|e| OAuthError::BadAnswer {
            status: answer.status,
            problem: format!("a devicecode answer that does not parse ({e})"),
        })?;
    Ok(auth.sanitized())
}

/// Polls until the user signs in, declines, the code expires or `cancel` fires.
pub async fn poll(
    app: &AzureApp,
    auth: &DeviceAuthorization,
    cancel: &CancellationToken,
    mut on_event: impl FnMut(PollEvent),
) -> Result<Grant, DeviceError> {
    let mut interval = Duration::from_secs(auth.interval);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(auth.expires_in);
    loop {
        tokio::select! {
            () = cancel.cancelled() => return Err(DeviceError::Cancelled),
            () = tokio::time::sleep_until(deadline) => return Err(DeviceError::Expired),
            () = tokio::time::sleep(interval) => {}
        }
        let form = [
            ("grant_type", GRANT_TYPE),
            ("client_id", app.client_id.as_str()),
            ("device_code", auth.device_code.expose()),
        ];
        let answer = endpoint::post_form(&app.token_url(), &form).await?;
        if answer.status == 200 {
            return Ok(endpoint::grant_from(
                &answer,
                &SCOPES.join(" "),
                Some("IMAP.AccessAsUser.All"),
            )?);
        }
        let err = error_from(&answer);
        let code = match &err {
            OAuthError::Microsoft(e) => e.error.clone(),
            _ => String::new(),
        };
        match code.as_str() {
            "authorization_pending" => on_event(PollEvent::Pending),
            "slow_down" => {
                interval += SLOW_DOWN_STEP;
                on_event(PollEvent::SlowDown { interval });
            }
            "authorization_declined" | "access_denied" => return Err(DeviceError::Declined),
            "expired_token" => return Err(DeviceError::Expired),
            "bad_verification_code" => return Err(DeviceError::BadCode),
            _ => return Err(classify(err)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(error: &str, codes: Vec<u64>) -> OAuthError {
        OAuthError::Microsoft(Box::new(super::super::MsError {
            error: error.into(),
            error_description: Some(
                "AADSTS53003: Access has been blocked by Conditional Access policies.".into(),
            ),
            error_codes: codes,
            timestamp: None,
            trace_id: None,
            correlation_id: Some("c0ffee".into()),
            error_uri: None,
            suberror: None,
        }))
    }

    #[test]
    fn conditional_access_while_polling_has_its_own_kind_and_advice() {
        for code in [53003, 530035] {
            let e = classify(ms("invalid_grant", vec![code]));
            assert!(matches!(e, DeviceError::BlockedByPolicy(_)), "{e:?}");
            assert!(e.to_string().contains("blocks device-code sign-in"), "{e}");
            assert!(matches!(e.fix("S"), Some(Fix::BrowserSignIn { .. })), "{e:?}");
        }
        assert!(matches!(
            classify(ms("invalid_client", vec![7000218])),
            DeviceError::OAuth(_)
        ));
    }
}
