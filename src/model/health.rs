//! Token health and the monitoring verdict of one server, computed from stored data and an
//! injected clock (so tests never sleep).

use super::{AuthKind, AzureApp, Blocker, Server, ServerState, TokenFile, TokenSet};
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

/// Refresh tokens die after 90 days without use (microsoft-facts §1.6).
pub const REFRESH_INACTIVITY_DAYS: i64 = 90;
/// Warn this many days before the client secret expires; critical at [`SECRET_CRITICAL_DAYS`].
pub const SECRET_WARN_DAYS: i64 = 30;
pub const SECRET_CRITICAL_DAYS: i64 = 7;
/// Warn when the re-consent deadline is this close.
pub const RECONSENT_WARN_DAYS: i64 = 14;
/// A successful test older than this is reported as stale.
pub const TEST_STALE_DAYS: i64 = 30;
/// Largest margin kept before expiry when refreshing ahead.
pub const MAX_REFRESH_MARGIN_SECS: i64 = 300;

/// When a token should be refreshed: a fifth of its lifetime before expiry, at most
/// [`MAX_REFRESH_MARGIN_SECS`] — so a 5-second token is not "about to expire" on arrival.
pub fn refresh_due_at(tokens: &TokenSet) -> Timestamp {
    let life = tokens
        .expires_at
        .duration_since(tokens.issued_at)
        .as_secs()
        .max(0);
    let margin = (life / 5).min(MAX_REFRESH_MARGIN_SECS);
    tokens.expires_at - SignedDuration::from_secs(margin)
}

pub fn needs_refresh(tokens: &TokenSet, now: Timestamp) -> bool {
    now >= refresh_due_at(tokens)
}

pub fn access_token_usable(tokens: &TokenSet, now: Timestamp) -> bool {
    now < tokens.expires_at
}

/// The token state shown next to every OAuth2 server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum TokenHealth {
    /// Basic authentication: no token.
    NotApplicable,
    /// Never signed in.
    None,
    /// The access token is valid until `until`.
    Valid {
        until: Timestamp,
    },
    /// The access token expired, a refresh token is stored.
    Refreshable,
    NeedsReconsent,
    SecretExpired,
    BadClient,
}

impl TokenHealth {
    pub fn of(file: Option<&TokenFile>, now: Timestamp) -> Self {
        let Some(file) = file else {
            return TokenHealth::None;
        };
        match file.blocker {
            Some(Blocker::NeedsReconsent) => return TokenHealth::NeedsReconsent,
            Some(Blocker::SecretExpired) => return TokenHealth::SecretExpired,
            Some(Blocker::BadClient) => return TokenHealth::BadClient,
            None => {}
        }
        match &file.tokens {
            None => TokenHealth::None,
            Some(t) if access_token_usable(t, now) => TokenHealth::Valid { until: t.expires_at },
            Some(t) if t.refresh_token.is_some() => TokenHealth::Refreshable,
            Some(_) => TokenHealth::NeedsReconsent,
        }
    }

    /// A glyph that carries the meaning without colour (NO_COLOR).
    pub fn glyph(self) -> &'static str {
        match self {
            TokenHealth::NotApplicable => "–",
            TokenHealth::None => "○",
            TokenHealth::Valid { .. } => "✔",
            TokenHealth::Refreshable => "↻",
            TokenHealth::NeedsReconsent | TokenHealth::SecretExpired | TokenHealth::BadClient => "✖",
        }
    }

    pub fn is_bad(self) -> bool {
        matches!(
            self,
            TokenHealth::NeedsReconsent | TokenHealth::SecretExpired | TokenHealth::BadClient
        )
    }
}

/// Monitoring-plugin levels (exit codes 0..3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Level {
    Ok = 0,
    Warning = 1,
    Critical = 2,
    Unknown = 3,
}

impl Level {
    pub fn label(self) -> &'static str {
        match self {
            Level::Ok => "OK",
            Level::Warning => "WARNING",
            Level::Critical => "CRITICAL",
            Level::Unknown => "UNKNOWN",
        }
    }
}

/// One finding with its fix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub level: Level,
    pub message: String,
    pub fix: String,
}

/// Everything `check`, `show` and the TUI say about a server's health.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Health {
    pub server: String,
    pub state: ServerState,
    pub token: TokenHealth,
    pub level: Level,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_valid_until: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_refresh: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reconsent_by: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_expires: Option<jiff::civil::Date>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_days_left: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    pub findings: Vec<Finding>,
}

impl Health {
    /// The first line of the most serious finding, or "healthy".
    pub fn summary(&self) -> String {
        self.findings
            .iter()
            .max_by_key(|f| f.level)
            .map_or_else(|| "healthy".to_string(), |f| f.message.clone())
    }
}

fn days_between(from: Timestamp, to: Timestamp) -> i64 {
    to.duration_since(from).as_secs().div_euclid(86_400)
}

/// Computes the health of one server at `now`.
pub fn assess(server: &Server, app: Option<&AzureApp>, file: Option<&TokenFile>, now: Timestamp) -> Health {
    let mut findings = Vec::new();
    let mut push = |level, message: String, fix: String| findings.push(Finding { level, message, fix });
    let name = &server.name;

    let token = if server.auth == AuthKind::Basic {
        TokenHealth::NotApplicable
    } else {
        TokenHealth::of(file, now)
    };
    let tokens = file.and_then(|f| f.tokens.as_ref());

    match token {
        TokenHealth::NeedsReconsent => push(
            Level::Critical,
            "needs re-consent: Microsoft refused the refresh token".into(),
            format!("sign in again: inbound connect \"{name}\""),
        ),
        TokenHealth::SecretExpired => push(
            Level::Critical,
            "client secret expired (AADSTS7000222)".into(),
            format!(
                "create a new secret in the portal (Certificates & secrets), then: inbound edit --app \"{}\" --secret-stdin --secret-expires YYYY-MM-DD",
                server.app.as_deref().unwrap_or("APP")
            ),
        ),
        TokenHealth::BadClient => push(
            Level::Critical,
            "Microsoft refused the app's credentials".into(),
            format!(
                "check the client ID and paste the secret Value again: inbound edit --app \"{}\" --secret-stdin",
                server.app.as_deref().unwrap_or("APP")
            ),
        ),
        TokenHealth::None if server.auth == AuthKind::OAuth2 => push(
            if server.state == ServerState::Confirmed {
                Level::Critical
            } else {
                Level::Warning
            },
            "not signed in yet".into(),
            format!("inbound connect \"{name}\""),
        ),
        _ => {}
    }

    if server.auth == AuthKind::OAuth2 && app.is_none() {
        push(
            Level::Critical,
            format!("Azure app \"{}\" is missing", server.app.as_deref().unwrap_or("")),
            format!("inbound edit \"{name}\" --app APP"),
        );
    }

    // Re-consent window: 90 days of inactivity from the last successful grant.
    let reconsent_by = tokens
        .filter(|t| t.refresh_token.is_some())
        .map(|t| t.refreshed_at + SignedDuration::from_hours(24 * REFRESH_INACTIVITY_DAYS));
    if let Some(deadline) = reconsent_by.filter(|_| !token.is_bad()) {
        let left = days_between(now, deadline);
        if now >= deadline {
            push(
                Level::Critical,
                "refresh token unused for 90 days: Microsoft will refuse it".into(),
                format!("inbound connect \"{name}\""),
            );
        } else if left < RECONSENT_WARN_DAYS {
            push(
                Level::Warning,
                format!("refresh token expires in {left} d unless used"),
                format!("inbound refresh \"{name}\" (schedule refresh --all daily)"),
            );
        }
    }

    // Client secret expiry.
    let secret_expires = app.and_then(|a| a.secret_expires);
    let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    let secret_days_left = secret_expires
        .and_then(|d| today.until(d).ok())
        .map(|span| i64::from(span.get_days()));
    if server.auth == AuthKind::OAuth2
        && token != TokenHealth::SecretExpired
        && let (Some(left), Some(app)) = (secret_days_left, app)
    {
        let fix = format!(
            "create a new secret in the portal, then: inbound edit --app \"{}\" --secret-stdin --secret-expires YYYY-MM-DD",
            app.name
        );
        if left < 0 {
            push(
                Level::Critical,
                format!("client secret expired {} d ago", -left),
                fix,
            );
        } else if left <= SECRET_CRITICAL_DAYS {
            push(Level::Critical, format!("client secret expires in {left} d"), fix);
        } else if left <= SECRET_WARN_DAYS {
            push(Level::Warning, format!("client secret expires in {left} d"), fix);
        }
    }

    // Last refresh problem that did not block (transient).
    let last_error = file.and_then(|f| f.last_error.as_ref());
    if let Some(err) = last_error.filter(|e| e.transient && !token.is_bad()) {
        push(
            Level::Warning,
            format!("last refresh failed: {}", err.message),
            err.hint
                .clone()
                .unwrap_or_else(|| format!("inbound refresh \"{name}\"")),
        );
    }

    // Test state.
    match (&server.state, &server.last_test) {
        (_, Some(t)) if !t.ok => push(
            Level::Critical,
            format!("last test failed: {}", t.summary),
            format!("inbound test \"{name}\""),
        ),
        (ServerState::Draft, _) => push(
            Level::Warning,
            "not confirmed yet (Draft)".into(),
            format!("inbound test \"{name}\""),
        ),
        (ServerState::Confirmed, Some(t)) if days_between(t.at, now) > TEST_STALE_DAYS => push(
            Level::Warning,
            format!("last successful test is {} d old", days_between(t.at, now)),
            format!("inbound check --test \"{name}\""),
        ),
        _ => {}
    }

    let level = findings.iter().map(|f| f.level).max().unwrap_or(Level::Ok);
    Health {
        server: name.clone(),
        state: server.state,
        token,
        level,
        access_valid_until: tokens.map(|t| t.expires_at),
        last_refresh: tokens.map(|t| t.refreshed_at),
        reconsent_by,
        secret_expires,
        secret_days_left,
        account: tokens.and_then(|t| t.account.clone()),
        last_error: last_error.map(|e| e.message.clone()),
        findings,
    }
}
