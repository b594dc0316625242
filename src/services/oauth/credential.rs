//! How an app proves itself at the token endpoint: a client assertion signed with its
//! certificate's key when it has one, else its client secret (client_secret_post), else
//! nothing (a public client).

use super::OAuthError;
use crate::model::AzureApp;
use crate::secret::Secret;
use crate::services::cert::{self, AssertionFor};
use std::io::Read as _;
use std::os::unix::fs::PermissionsExt as _;

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
            "the private key of app \"{}\"'s certificate {why}; make a new one: inbound cert new \"{}\" (then upload it)",
            app.name, app.name
        ))
    };
    let path = app
        .certificate
        .as_ref()
        .and_then(|c| c.key_file.clone())
        .ok_or_else(|| missing("is not known".into()))?;
    let file = std::fs::File::open(&path)
        .map_err(|e| missing(format!("cannot be read ({}: {e})", path.display())))?;
    let meta = file
        .metadata()
        .map_err(|e| missing(format!("cannot be read ({e})")))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(OAuthError::Config(format!(
            "{} is readable by other users (mode {mode:o}); it is a private key. Run: chmod 600 {}",
            path.display(),
            path.display()
        )));
    }
    let mut text = String::new();
    file.take(MAX_KEY)
        .read_to_string(&mut text)
        .map_err(|e| missing(format!("cannot be read ({e})")))?;
    Ok(Secret::new(text))
}
