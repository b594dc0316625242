//! The client-credentials grant (no user): the app proves itself with its secret and gets an
//! access token for one resource's `/.default` scope. Used for app-only IMAP access and, with
//! Outlook's resource, as the pre-flight proof that client ID, tenant and secret belong
//! together (microsoft-facts §3.2, §9).

use super::{Grant, OAuthError, endpoint};
use crate::model::AzureApp;

/// The app-only IMAP scope ("You must use `https://outlook.office365.com/.default`").
pub const APP_ONLY_IMAP_SCOPE: &str = "https://outlook.office365.com/.default";
/// The scope of the pre-flight request: any confidential app of the tenant may ask for it,
/// whatever permissions it has, so an answer speaks only of the credentials.
pub const PREFLIGHT_SCOPE: &str = "https://outlook.office.com/.default";

/// Requests a token for `scope` (which must end in `/.default`) with the app's secret, or
/// with a client assertion when the app has a certificate.
pub async fn client_credentials(app: &AzureApp, scope: &str) -> Result<Grant, OAuthError> {
    if !super::credential::has_credential(app) {
        return Err(OAuthError::Config(
            "the client-credentials grant needs a client secret or a certificate (this app has neither)"
                .into(),
        ));
    }
    let token_url = app.token_url();
    let auth = super::credential::client_auth(app, &token_url)?;
    let mut form = vec![
        ("grant_type", "client_credentials"),
        ("client_id", app.client_id.as_str()),
        ("scope", scope),
    ];
    form.extend(auth.iter().map(|(k, v)| (*k, v.expose())));
    let answer = endpoint::post_form(&token_url, &form).await?;
    endpoint::grant_from(&answer, scope, None)
}
