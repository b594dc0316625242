//! Setup codes as the Cloud Shell script prints them, for the fake's default app.

use super::fake_idp::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET};
use inbound::ops::setup::code::SetupCode;
use inbound::secret::Secret;

/// A delegated app in `tenant` with admin consent granted and the loopback redirect
/// registered; its `secret` expires on `expires` (`YYYY-MM-DD`).
pub fn delegated(tenant: &str, secret: &str, expires: &str) -> String {
    SetupCode {
        tenant: tenant.into(),
        client_id: DEFAULT_CLIENT_ID.into(),
        secret: Some(Secret::new(secret)),
        secret_expires: expires.parse().ok(),
        redirect_uri: Some("http://localhost/microsoft_outlook/confirm".into()),
        public_client: false,
        admin_consent: true,
        app_only: false,
        mailboxes: Vec::new(),
    }
    .encode()
    .expose()
    .to_string()
}

/// An app-only app in `tenant` granted `mailboxes`, with the fake's secret for a year.
pub fn app_only(tenant: &str, mailboxes: &[&str]) -> String {
    SetupCode {
        tenant: tenant.into(),
        client_id: DEFAULT_CLIENT_ID.into(),
        secret: Some(Secret::new(DEFAULT_CLIENT_SECRET)),
        secret_expires: super::months_ahead(12).parse().ok(),
        redirect_uri: None,
        public_client: false,
        admin_consent: true,
        app_only: true,
        mailboxes: mailboxes.iter().map(|m| m.to_string()).collect(),
    }
    .encode()
    .expose()
    .to_string()
}
