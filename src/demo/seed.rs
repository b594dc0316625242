//! The demo store's first contents, made through the real core: two servers on one app whose
//! client secret expires soon — one signed in and Confirmed, one whose Test & Confirm fails
//! (the signed-in account may not open that mailbox) — so the review screen has something to
//! review before the wizard adds a third.

use super::{DemoError, HELPDESK, HOST, SHARED, StandIns, browser};
use crate::model::AuthKind;
use crate::ops::consent::{self, ConsentOptions};
use crate::ops::servers::{AppChoice, AppInput, ServerInput, add_server};
use crate::ops::test::test_server;
use crate::secret::Secret;
use crate::services::imap::Timeouts;
use crate::store::Store;
use jiff::{Timestamp, ToSpan, tz::TimeZone};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub const APP: &str = "Contoso mail";
pub const CONFIRMED: &str = "Helpdesk";
pub const FAILING: &str = "Sales (shared)";
/// The seeded app's secret expires this many days from today (a warning, not yet critical).
const EXPIRES_IN_DAYS: i64 = 12;

pub(super) async fn seed(store: &Store, s: &StandIns) -> Result<(), DemoError> {
    let expires = days_from_today(EXPIRES_IN_DAYS);
    let server = |name: &str, user: &str, app: AppChoice| ServerInput {
        name: name.into(),
        auth: AuthKind::OAuth2,
        host: HOST.into(),
        port: s.imap.port().to_string(),
        username: user.into(),
        sign_in_as: None,
        app: Some(app),
        password: None,
        ca_file: Some(s.ca_file.clone()),
    };
    let app = AppChoice::New(AppInput {
        name: Some(APP.into()),
        client_id: super::CLIENT_ID.into(),
        tenant: super::TENANT.into(),
        secret: Some(Secret::new(super::CLIENT_SECRET)),
        secret_expires: Some(expires),
        authority: Some(s.authority()),
        public_client: false,
    });
    add_server(store, &server(CONFIRMED, HELPDESK, app))?;
    add_server(store, &server(FAILING, SHARED, AppChoice::Existing(APP.into())))?;
    for name in [CONFIRMED, FAILING] {
        sign_in(store, name).await?;
        // The failing one records its diagnosis; that is the point, not an error here.
        let _ = test_server(store, name, Timeouts::default(), |_| {}).await;
    }
    Ok(())
}

/// The real sign-in, with the demo browser pressing "Sign in and accept".
async fn sign_in(store: &Store, name: &str) -> Result<(), DemoError> {
    let opts = ConsentOptions {
        listen_port: Some(0),
        ..ConsentOptions::default()
    };
    let c = consent::begin(store, name, &opts).await?;
    let url = c.auth_url.clone();
    let wait = c.wait(store, Duration::from_secs(30), CancellationToken::new());
    let (done, visit) = tokio::join!(wait, browser::sign_in(&url));
    visit?;
    done?;
    Ok(())
}

/// `YYYY-MM-DD`, `days` after today here.
pub fn days_from_today(days: i64) -> String {
    let today = Timestamp::now().to_zoned(TimeZone::system()).date();
    today.checked_add(days.days()).unwrap_or(today).to_string()
}
