//! Answers the app's background work would send, for tests that drive its `update`.

use inbound::ops::consent::Connected;
use inbound::tui::testing::now;
use jiff::SignedDuration;

/// A finished sign-in of `mailbox` for `server` (as itself), its access token valid for an
/// hour after the fixed test clock.
pub fn signed_in(server: &str, mailbox: &str) -> Connected {
    Connected {
        server: server.into(),
        username: mailbox.into(),
        tokens: inbound::model::TokenSet {
            access_token: inbound::secret::Secret::new("at"),
            refresh_token: Some(inbound::secret::Secret::new("rt")),
            issued_at: now(),
            expires_at: now() + SignedDuration::from_mins(60),
            refreshed_at: now(),
            consented_at: now(),
            scope: "IMAP.AccessAsUser.All".into(),
            account: Some(mailbox.into()),
            flow: inbound::model::Flow::AuthorizationCode,
            principal_id: None,
        },
        mismatch: None,
    }
}
