//! When each server is next refreshed and tested: pure, from the stored data, what serve
//! remembers of its own attempts, and an injected clock.

use crate::model::health::refresh_due_at;
use crate::model::{Server, ServerState, TokenFile};
use crate::ops::tokens::{ahead_lead, backoff_until};
use jiff::{SignedDuration, Timestamp};
use sha2::{Digest, Sha256};
use std::time::Duration;

fn signed(d: Duration) -> SignedDuration {
    SignedDuration::try_from(d).unwrap_or(SignedDuration::MAX)
}

/// When the token of `server` should next be refreshed: `lead` before expiry (or the core's
/// own margin when that comes first), never before the core's back-off after a failure nor
/// before serve's own retry time. None: nothing to refresh without a person (not OAuth2, not
/// signed in, or refused and waiting for a new sign-in).
pub fn refresh_at(
    server: &Server,
    file: Option<&TokenFile>,
    lead: Duration,
    retry_at: Option<Timestamp>,
) -> Option<Timestamp> {
    if !server.auth.is_oauth() {
        return None;
    }
    let file = file.filter(|f| f.blocker.is_none())?;
    let tokens = file.tokens.as_ref()?;
    let due = refresh_due_at(tokens).min(tokens.expires_at - ahead_lead(tokens, signed(lead)));
    let due = backoff_until(file).map_or(due, |b| due.max(b));
    Some(retry_at.map_or(due, |r| due.max(r)))
}

/// A stable offset in `0..window` for a server, so that tests due at once (a first start,
/// a store of servers added together) spread over the window instead of starting together.
pub fn spread(server_id: &str, window: Duration) -> Duration {
    let window_ms = u64::try_from(window.as_millis()).unwrap_or(u64::MAX).max(1);
    let digest = Sha256::digest(server_id.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    Duration::from_millis(u64::from_le_bytes(first) % window_ms)
}

/// When `server` is next tested: `every` after its last test (or serve's last attempt); a
/// server overdue when serve started (or never tested) goes within the first sixth of
/// `every` after `started`, spread by its id. None: not Confirmed (a Draft is the person's
/// to test).
pub fn test_at(
    server: &Server,
    every: Duration,
    started: Timestamp,
    attempted: Option<Timestamp>,
) -> Option<Timestamp> {
    if server.state != ServerState::Confirmed {
        return None;
    }
    let last = match (server.last_test.as_ref().map(|t| t.at), attempted) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
    let due = last.map(|at| at + signed(every));
    match due {
        Some(d) if d >= started => Some(d),
        _ => Some(started + signed(spread(&server.id, every / 6))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AuthKind, Blocker, Flow, LastTest, ServerType, TokenSet};
    use crate::secret::Secret;

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + secs).unwrap()
    }

    fn server(state: ServerState) -> Server {
        Server {
            id: "0123456789abcdef0123456789abcdef".into(),
            name: "S".into(),
            server_type: ServerType::Imap,
            auth: AuthKind::OAuth2,
            host: "outlook.office365.com".into(),
            port: 993,
            ssl: true,
            username: "a@contoso.com".into(),
            sign_in_as: None,
            app: Some("app".into()),
            password: None,
            ca_file: None,
            state,
            last_test: None,
        }
    }

    fn file(issued: i64, life: i64) -> TokenFile {
        let mut f = TokenFile::for_server(&server(ServerState::Draft));
        f.tokens = Some(TokenSet {
            access_token: Secret::new("at"),
            refresh_token: Some(Secret::new("rt")),
            issued_at: at(issued),
            expires_at: at(issued + life),
            refreshed_at: at(issued),
            consented_at: at(issued),
            scope: "https://outlook.office.com/IMAP.AccessAsUser.All".into(),
            account: None,
            flow: Flow::AuthorizationCode,
            principal_id: None,
        });
        f
    }

    #[test]
    fn refresh_comes_a_lead_before_expiry_and_waits_for_retries() {
        let s = server(ServerState::Confirmed);
        let f = file(0, 3600);
        // The core's own margin (300 s) wins over a shorter lead.
        assert_eq!(refresh_at(&s, Some(&f), Duration::ZERO, None), Some(at(3300)));
        assert_eq!(
            refresh_at(&s, Some(&f), Duration::from_secs(900), None),
            Some(at(2700))
        );
        // A lead longer than half the lifetime would refresh on arrival: half it is.
        assert_eq!(
            refresh_at(&s, Some(&f), Duration::from_secs(9000), None),
            Some(at(1800))
        );
        assert_eq!(
            refresh_at(&s, Some(&f), Duration::ZERO, Some(at(4000))),
            Some(at(4000))
        );
        let mut refused = f.clone();
        refused.blocker = Some(Blocker::NeedsReconsent);
        assert_eq!(refresh_at(&s, Some(&refused), Duration::ZERO, None), None);
        assert_eq!(refresh_at(&s, None, Duration::ZERO, None), None);
        let mut basic = s.clone();
        basic.auth = AuthKind::Basic;
        assert_eq!(refresh_at(&basic, Some(&f), Duration::ZERO, None), None);
    }

    #[test]
    fn tests_follow_the_last_one_and_overdue_ones_are_spread() {
        let mut s = server(ServerState::Confirmed);
        let every = Duration::from_secs(600);
        let first = test_at(&s, every, at(0), None).unwrap();
        assert!(first >= at(0) && first < at(100), "{first}");
        s.last_test = Some(LastTest {
            at: at(50),
            ok: true,
            messages: None,
            summary: "ok".into(),
            needs: None,
        });
        assert_eq!(test_at(&s, every, at(0), None), Some(at(650)));
        assert_eq!(test_at(&s, every, at(0), Some(at(100))), Some(at(700)));
        assert_eq!(test_at(&server(ServerState::Draft), every, at(0), None), None);
        let spreads: std::collections::HashSet<Duration> = (0..50)
            .map(|i| spread(&format!("server-{i}"), Duration::from_secs(100)))
            .collect();
        assert!(spreads.len() > 40, "ids spread over the window");
    }
}
