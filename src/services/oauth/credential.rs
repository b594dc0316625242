//! How an app proves itself at the token endpoint: a client assertion signed with its
//! certificate's key when it has one, else its client secret (client_secret_post), else
//! nothing (a public client).

use super::OAuthError;
use crate::model::AzureApp;
use crate::secret::Secret;
use crate::services::cert::{self, AssertionFor};

/// RFC 7523's client assertion type.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// A PEM key is a few KiB; anything larger is not one.
const MAX_KEY: u64 = 64 * 1024;

/// The form fields that authenticate `app` at `token_url`.
pub fn client_auth(app: &AzureApp, token_url: &str) -> Result<Vec<(&'static str, Secret)>, OAuthError> {
    if let Some(c) = &app.certificate {
        let key = read_key(app)?;
        let assertion = cert::client_assertion(
            &key,
            &AssertionFor {
                client_id: &app.client_id,
                token_url,
                x5t: &c.x5t,
                x5t_s256: &c.x5t_s256,
            },
            jiff::Timestamp::now(),
        )
        .map_err(|e| OAuthError::Config(format!("certificate of app \"{}\": {e}", app.name)))?;
        return Ok(vec![
            ("client_assertion_type", Secret::new(JWT_BEARER)),
            ("client_assertion", assertion),
        ]);
    }
    Ok(app.secret.iter().map(|s| ("client_secret", s.clone())).collect())
}

/// Whether the app can authenticate as a confidential client.
pub fn has_credential(app: &AzureApp) -> bool {
    app.certificate.is_some() || app.secret.is_some()
}

fn read_key(app: &AzureApp) -> Result<Secret, OAuthError> {
    let missing = |why: String| {
        OAuthError::Config(format!(
            "the private key of app \"{}\"'s certificate {why}; make a new certificate (then upload it)",
            app.name
        ))
    };
    let path = app
        .certificate
        .as_ref()
        .and_then(|c| c.key_file.clone())
        .ok_or_else(|| missing("is not known".into()))?;
    // A store file like any other: regular (a FIFO here must not hang `token`), private,
    // bounded.
    match crate::store::read_private_file(&path, MAX_KEY) {
        Ok(Some(bytes)) => Ok(Secret::new(String::from_utf8_lossy(&bytes).into_owned())),
        Ok(None) => Err(missing(format!("is missing ({})", path.display()))),
        Err(e @ crate::store::StoreError::LooseMode { .. }) => {
            Err(OAuthError::Config(format!("{e} (it is a private key)")))
        }
        Err(e) => Err(missing(format!("cannot be used ({e})"))),
    }
}
