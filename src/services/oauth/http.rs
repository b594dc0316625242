//! One HTTP client per runtime, so requests share reqwest's connection pool (one TLS connection
//! per authority: `refresh --all` pays one handshake, not one per server) and the process's one
//! TLS setup. Keyed by runtime because pooled connections are driven by the runtime that opened
//! them.

use super::{CONNECT_TIMEOUT, HTTP_TIMEOUT, OAuthError};
use crate::services::tls;
use oauth2::reqwest::Client;
use std::sync::Mutex;
use tokio::runtime::{Handle, Id};

static CLIENT: Mutex<Option<(Id, Client)>> = Mutex::new(None);

/// The HTTP client: no redirects (token endpoints never redirect; following them invites SSRF),
/// bounded timeouts.
pub(crate) async fn http_client() -> Result<Client, OAuthError> {
    let runtime = Handle::current().id();
    if let Some(c) = current(runtime) {
        return Ok(c);
    }
    let tls = tls::http_connector()
        .await
        .map_err(|e| OAuthError::Config(e.to_string()))?;
    // No await below: concurrent first callers all end up with the one client.
    let mut slot = CLIENT.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((id, c)) = slot.as_ref()
        && *id == runtime
    {
        return Ok(c.clone());
    }
    let client = oauth2::reqwest::ClientBuilder::new()
        .use_preconfigured_tls(tls)
        .redirect(oauth2::reqwest::redirect::Policy::none())
        .timeout(HTTP_TIMEOUT)
        .connect_timeout(CONNECT_TIMEOUT)
        .build()
        .map_err(|e| OAuthError::Config(e.to_string()))?;
    *slot = Some((runtime, client.clone()));
    Ok(client)
}

fn current(runtime: Id) -> Option<Client> {
    let slot = CLIENT.lock().unwrap_or_else(|p| p.into_inner());
    slot.as_ref()
        .filter(|(id, _)| *id == runtime)
        .map(|(_, c)| c.clone())
}
