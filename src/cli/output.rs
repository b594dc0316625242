//! What `list` and `show` print: a view of a server without secrets.

use crate::model::health::{self, Health};
use crate::model::{Server, registered_redirect_uri};
use crate::ops::snapshot::Snapshot;
use crate::textwidth::{cols, pad, truncate};
use crate::timefmt;
use jiff::Timestamp;
use serde::Serialize;
use std::fmt::Write as _;

/// Widest cell of the `list` table, in columns.
const MAX_CELL: usize = 60;

#[derive(Debug, Serialize)]
pub struct AppView {
    pub name: String,
    pub client_id: String,
    pub tenant: String,
    pub authority: String,
    /// The national cloud of the authority (`global`, `usgov`, `china`); absent for another
    /// identity provider.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloud: Option<&'static str>,
    /// Masked: never the value.
    pub secret: String,
    pub secret_expires: Option<String>,
    /// A public client: no secret at all, so none to expire.
    pub public_client: bool,
    /// When an admin granted consent through inbound (unknown otherwise).
    pub admin_consent_at: Option<String>,
    /// A certificate credential (used instead of the secret): its thumbprint and expiry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate: Option<CertView>,
}

#[derive(Debug, Serialize)]
pub struct CertView {
    pub thumbprint: String,
    pub expires: String,
}

#[derive(Debug, Serialize)]
pub struct LastTestView {
    pub at: String,
    pub ok: bool,
    pub messages: Option<u32>,
    pub summary: String,
}

#[derive(Debug, Serialize)]
pub struct ServerView {
    pub name: String,
    pub server_type: &'static str,
    pub state: &'static str,
    pub auth: &'static str,
    pub host: String,
    pub port: u16,
    pub ssl: bool,
    pub username: String,
    /// Shared mailbox: the delegate who signs in.
    pub sign_in_as: Option<String>,
    pub password: Option<String>,
    pub ca_file: Option<String>,
    pub app: Option<AppView>,
    pub redirect_url: Option<String>,
    pub last_test: Option<LastTestView>,
    pub health: Health,
    /// How a mail program reaches this server through `inbound proxy`.
    pub proxy: ProxyView,
}

#[derive(Debug, Serialize)]
pub struct ProxyView {
    /// A local proxy password is set (`inbound proxy password NAME`); never the password.
    pub password_set: bool,
    #[serde(flatten)]
    pub client: crate::ops::proxy::ClientSettings,
}

impl ServerView {
    /// Server `s` of `snapshot`, with its health at `now` (as the app judges it).
    pub fn new(snapshot: &Snapshot, s: &Server, now: Timestamp) -> Self {
        let health = snapshot.health(s, now);
        let app = snapshot.config.app_of(s);
        let settings = &snapshot.config.settings;
        Self {
            name: s.name.clone(),
            server_type: "IMAP",
            state: s.state.label(),
            auth: s.auth.label(),
            host: s.host.clone(),
            port: s.port,
            ssl: s.ssl,
            username: s.username.clone(),
            sign_in_as: s.sign_in_as.clone(),
            password: s.password.as_ref().map(crate::secret::Secret::masked),
            ca_file: s.ca_file.as_ref().map(|p| p.display().to_string()),
            app: app.map(|a| AppView {
                name: a.name.clone(),
                client_id: a.client_id.clone(),
                tenant: a.tenant.clone(),
                authority: a.authority.clone(),
                cloud: a.cloud().map(crate::model::Cloud::key),
                secret: a
                    .secret
                    .as_ref()
                    .map(crate::secret::Secret::masked)
                    .unwrap_or_else(|| {
                        if a.public_client {
                            "no secret (public client)".into()
                        } else {
                            "(none)".into()
                        }
                    }),
                secret_expires: a.secret_expires.map(|d| d.to_string()),
                certificate: a.certificate.as_ref().map(|c| CertView {
                    thumbprint: c.thumbprint.clone(),
                    expires: c.not_after.to_string(),
                }),
                public_client: a.public_client,
                admin_consent_at: a.admin_consent_at.map(|t| t.to_string()),
            }),
            redirect_url: (s.auth == crate::model::AuthKind::OAuth2)
                .then(|| registered_redirect_uri(settings)),
            last_test: s.last_test.as_ref().map(|t| LastTestView {
                at: t.at.to_string(),
                ok: t.ok,
                messages: t.messages,
                summary: t.summary.clone(),
            }),
            health,
            proxy: ProxyView {
                password_set: snapshot.has_proxy_password(s),
                client: crate::ops::proxy::client_settings(settings, &s.name),
            },
        }
    }
}

/// The proxy line of `show`: the mail program's settings, or how to get a password.
pub fn proxy_text(p: &ProxyView) -> String {
    let c = &p.client;
    if p.password_set {
        format!(
            "host {} · port {} · encryption {} · user \"{}\" · the proxy password (inbound proxy)",
            c.host,
            c.port,
            c.security.client_setting(),
            c.user
        )
    } else {
        format!(
            "no proxy password (for a mail program that only knows LOGIN: inbound proxy password \"{}\")",
            c.user
        )
    }
}

/// The token line of `show` and `list`: the model's glyph, then its words.
pub fn token_text(h: &Health, now: Timestamp) -> String {
    let line = health::TokenLine {
        token: h.token,
        app_only: h.app_only,
    };
    token_line_text(line, now, &jiff::tz::TimeZone::system())
}

/// [`token_text`] of a token line, its times in `tz`.
fn token_line_text(line: health::TokenLine, now: Timestamp, tz: &jiff::tz::TimeZone) -> String {
    let words = line.words(|t| {
        let mut when = String::with_capacity(32);
        timefmt::push_in_zone(&mut when, t, tz);
        when.push_str(" (");
        timefmt::push_relative(&mut when, t, now);
        when.push(')');
        when
    });
    let glyph = line.token.glyph();
    let mut text = String::with_capacity(glyph.len() + 1 + words.len());
    text.push_str(glyph);
    text.push(' ');
    text.push_str(&words);
    text
}

/// `list`'s token cell: [`measured_cell`] of [`token_text`], measured and cut without a look
/// at each character. The glyph is the only character that is not printable ASCII in most of
/// these cells (the words and times are), so the cell is the glyph's width plus a column a
/// byte, and it is cut where that count reaches the limit; that this is what
/// [`measured_cell`] makes of every glyph's cells is tested.
fn token_cell(line: health::TokenLine, now: Timestamp, tz: &jiff::tz::TimeZone) -> (String, usize) {
    let mut text = token_line_text(line, now, tz);
    let glyph = line.token.glyph();
    let rest = &text.as_bytes()[glyph.len()..];
    let glyph_cols = cols(glyph);
    if rest.iter().all(|b| (0x20..0x7f).contains(b)) && glyph_cols < MAX_CELL {
        let width = glyph_cols + rest.len();
        if width <= MAX_CELL {
            return (text, width);
        }
        // A valid token's cell ("✔ Outlook token is valid until … (in 1 h 59 min)") is
        // longer than a cell may be: cut as `measured_cell` cuts, at MAX_CELL - 1 columns.
        text.truncate(glyph.len() + (MAX_CELL - 1 - glyph_cols));
        text.push('…');
        return (text, MAX_CELL - 1 + cols("…"));
    }
    measured_cell(&text)
}

/// A table cell: hostile characters made visible before the width is measured (so the
/// columns stay aligned), and cut.
fn cell(c: &str) -> String {
    truncate(&crate::sanitize::terminal(c), MAX_CELL)
}

/// `inbound apps`: each Azure app, who uses it, and its secret's expiry.
pub fn apps_table(config: &crate::model::Config) -> String {
    let head = ["APP", "CLIENT ID", "TENANT", "SECRET EXPIRES", "SERVERS"];
    let rows: Vec<[String; 5]> = config
        .apps
        .iter()
        .map(|a| {
            let users = config.servers_using(&a.name);
            [
                a.name.clone(),
                a.short_client_id(),
                a.tenant.clone(),
                match &a.certificate {
                    Some(c) => format!(
                        "certificate {}",
                        c.not_after.to_zoned(jiff::tz::TimeZone::UTC).date()
                    ),
                    None => a.secret_expires.map_or_else(
                        || {
                            if a.secret.is_some() {
                                "not recorded".into()
                            } else if a.public_client {
                                "no secret (public client)".into()
                            } else {
                                "no secret".into()
                            }
                        },
                        |d| d.to_string(),
                    ),
                },
                if users.is_empty() {
                    "(none: inbound remove --app NAME)".into()
                } else {
                    users.join(", ")
                },
            ]
            .map(|c| cell(&c))
        })
        .collect();
    let mut widths = head.map(cols);
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(cols(c));
        }
    }
    let mut out = String::new();
    for cells in std::iter::once(head.map(String::from)).chain(rows) {
        let parts: Vec<String> = cells.iter().zip(widths).map(|(c, w)| pad(c, w)).collect();
        let _ = writeln!(out, "{}", parts.join("  ").trim_end());
    }
    out
}

/// One line of `list`'s table: borrowed from the store's snapshot, not a whole [`ServerView`].
pub struct Row<'a> {
    pub name: &'a str,
    pub state: &'a str,
    /// All the table shows of health.
    pub token: health::TokenLine,
    pub username: &'a str,
    pub host: &'a str,
    pub port: u16,
}

/// A row of [`table`]: each cell made safe for the terminal, cut, and its width in columns.
pub type Cells = [(String, usize); 5];

/// The cells of one row of `list`'s table. Each cell is made safe, cut and measured once (at
/// 10,000 servers this table was a fifth of `list`'s time when every cell was scanned five
/// times); rows are made apart from the table so that a large store's are made on two threads.
/// Times are shown in `tz` (the system's, asked once per table rather than once per row).
pub fn row_cells(v: &Row<'_>, now: Timestamp, tz: &jiff::tz::TimeZone) -> Cells {
    [
        measured_cell(v.name),
        measured_cell(v.state),
        token_cell(v.token, now, tz),
        measured_cell(v.username),
        measured_cell(&format!("{}:{}", v.host, v.port)),
    ]
}

/// `list`'s table from its rows' [`row_cells`].
pub fn table(rows: &[Cells]) -> String {
    let head = ["NAME", "STATE", "TOKEN", "USERNAME", "SERVER"];
    let mut widths = head.map(cols);
    for r in rows {
        for (w, (_, c)) in widths.iter_mut().zip(r) {
            *w = (*w).max(*c);
        }
    }
    let mut out = String::with_capacity((rows.len() + 1) * (widths.iter().sum::<usize>() + 9));
    let mut line = |cells: [(&str, usize); 5]| {
        let start = out.len();
        for (i, ((text, width), w)) in cells.into_iter().zip(widths).enumerate() {
            if i > 0 {
                out.push_str("  ");
            }
            out.push_str(text);
            push_spaces(&mut out, w.saturating_sub(width));
        }
        let kept = out[start..].trim_end().len();
        out.truncate(start + kept);
        out.push('\n');
    };
    line(head.map(|h| (h, cols(h))));
    for r in rows {
        line([0, 1, 2, 3, 4].map(|i| (r[i].0.as_str(), r[i].1)));
    }
    out
}

/// `n` spaces, a slice at a time rather than a character at a time.
fn push_spaces(out: &mut String, mut n: usize) {
    const SPACES: &str = "                                                                ";
    while n > 0 {
        let k = n.min(SPACES.len());
        out.push_str(&SPACES[..k]);
        n -= k;
    }
}

/// [`cell`] with its width in columns.
fn measured_cell(c: &str) -> (String, usize) {
    let safe = crate::sanitize::terminal(c);
    let width = cols(&safe);
    if width <= MAX_CELL {
        return (safe.into_owned(), width);
    }
    // As `truncate` cuts, without measuring the whole cell once more.
    let cut = format!("{}…", &safe[..crate::textwidth::cut_at(&safe, MAX_CELL - 1)]);
    let width = cols(&cut);
    (cut, width)
}

pub fn details(v: &ServerView) -> String {
    let now = Timestamp::now();
    let mut o = String::new();
    let mut kv = |k: &str, val: &str| {
        let _ = writeln!(o, "{}{val}", pad(k, 16));
    };
    kv("Name", &v.name);
    kv("State", v.state);
    kv(
        "Health",
        &format!("{} · {}", v.health.level.label(), v.health.summary()),
    );
    kv("Server Type", v.server_type);
    kv("Authentication", v.auth);
    kv("Server Name", &v.host);
    kv("Port", &v.port.to_string());
    kv("SSL/TLS", if v.ssl { "on" } else { "off" });
    kv("Username", &v.username);
    if let Some(d) = &v.sign_in_as {
        kv(
            "Sign in as",
            &format!("{d} (delegate with FullAccess on {})", v.username),
        );
    }
    if let Some(p) = &v.password {
        kv("Password", p);
    }
    if let Some(ca) = &v.ca_file {
        kv("CA file", ca);
    }
    if let Some(a) = &v.app {
        kv("Azure app", &a.name);
        kv("Azure Client ID", &a.client_id);
        kv("Tenant", &a.tenant);
        if let Some(c) = &a.certificate {
            let left = v
                .health
                .secret_days_left
                .map(|d| format!(" ({d} d left)"))
                .unwrap_or_default();
            kv(
                "Certificate",
                &format!("{} · expires {}{left}", c.thumbprint, c.expires),
            );
        }
        kv("Secret", &a.secret);
        let expiry = match (&a.secret_expires, v.health.secret_days_left) {
            _ if a.certificate.is_some() => "not used (the certificate signs the token requests)".to_string(),
            _ if a.public_client => "never (public client, no secret)".into(),
            (Some(d), Some(left)) if left >= 0 => format!("{d} ({left} d left)"),
            (Some(d), Some(left)) => format!("{d} (expired {} d ago)", -left),
            _ => format!(
                "unknown (record it: inbound edit --app \"{}\" --secret-expires YYYY-MM-DD)",
                a.name
            ),
        };
        kv("Secret expires", &expiry);
        kv(
            "Admin consent",
            &match v.health.admin_consent_at {
                Some(t) => format!("granted {}", timefmt::local(t)),
                // No one signs in to an app-only server: its token request is what needs it.
                None if v.auth == crate::model::AuthKind::OAuth2App.label() => format!(
                    "unknown (IMAP.AccessAsApp needs it: an admin grants it in the portal, or runs inbound connect {} --admin-consent)",
                    crate::model::quote::arg(&v.name)
                ),
                None => format!(
                    "unknown (if sign-in stops at \"Need admin approval\": inbound connect {} --admin-consent)",
                    crate::model::quote::arg(&v.name)
                ),
            },
        );
        kv("Authority", &a.authority);
        if let Some(c) = a.cloud.and_then(crate::model::Cloud::parse) {
            kv("Cloud", c.label());
        }
    }
    if let Some(r) = &v.redirect_url {
        kv("Redirect URL", r);
    }
    if v.auth != "Basic" {
        kv("Token", &token_text(&v.health, now));
        if let Some(acc) = &v.health.account {
            kv("Signed in", acc);
        }
        if let Some(t) = v.health.last_refresh {
            kv("Last refresh", &timefmt::local(t));
        }
        if let Some(t) = v.health.reconsent_by {
            kv(
                "Re-consent by",
                &format!("{} (if never refreshed until then)", timefmt::local(t)),
            );
        }
        if let Some(e) = &v.health.last_error {
            kv("Last error", e);
        }
    }
    kv("Proxy", &proxy_text(&v.proxy));
    match &v.last_test {
        Some(t) => kv(
            "Last test",
            &format!(
                "{} · {} · {}",
                t.at,
                if t.ok { "passed" } else { "FAILED" },
                t.summary
            ),
        ),
        None => kv(
            "Last test",
            &format!("never (inbound test {})", crate::model::quote::arg(&v.name)),
        ),
    }
    for f in &v.health.findings {
        let _ = writeln!(
            o,
            "{}{} → {}",
            pad(f.level.label(), 16),
            f.message,
            super::fix::text(&f.fix)
        );
    }
    o
}

// What `--json` prints: each command's rows as structs, so the fields are the schema
// documented in docs/json.md (and kept by a test against it).

/// `inbound apps --json`: one Azure app (the secret itself never appears).
#[derive(Debug, Serialize)]
pub struct AppRow {
    pub name: String,
    pub client_id: String,
    pub tenant: String,
    pub authority: String,
    pub cloud: Option<&'static str>,
    pub has_secret: bool,
    pub public_client: bool,
    pub admin_consent_at: Option<String>,
    pub secret_expires: Option<String>,
    /// The servers that use it.
    pub servers: Vec<String>,
}

impl AppRow {
    pub fn new(a: &crate::model::AzureApp, config: &crate::model::Config) -> Self {
        Self {
            name: a.name.clone(),
            client_id: a.client_id.clone(),
            tenant: a.tenant.clone(),
            authority: a.authority.clone(),
            cloud: a.cloud().map(crate::model::Cloud::key),
            has_secret: a.secret.is_some(),
            public_client: a.public_client,
            admin_consent_at: a.admin_consent_at.map(|t| t.to_string()),
            secret_expires: a.secret_expires.map(|d| d.to_string()),
            servers: config
                .servers_using(&a.name)
                .into_iter()
                .map(String::from)
                .collect(),
        }
    }
}

/// A failure as `--json` rows carry it: the message, what to do, and the command that fixes it.
#[derive(Debug, Serialize)]
pub struct ErrorFields {
    pub error: String,
    pub hint: Option<String>,
    pub fix: Option<String>,
}

impl ErrorFields {
    pub fn new(e: &crate::ops::Error) -> Self {
        Self {
            error: super::fix::message(e),
            hint: super::fix::hint(e),
            fix: super::fix::runnable(e),
        }
    }
}

/// `inbound test --json`: one server's Test & Confirm.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum TestRow {
    Passed {
        server: String,
        ok: bool,
        state: &'static str,
        messages: u32,
    },
    Failed {
        server: String,
        ok: bool,
        /// The IMAP stage that failed; null when it failed before connecting.
        stage: Option<&'static str>,
        #[serde(flatten)]
        error: ErrorFields,
    },
}

/// `inbound refresh --json`: one server's refresh.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum RefreshRow {
    Refreshed {
        server: String,
        ok: bool,
        expires_at: String,
    },
    /// Microsoft answered, but the token could not be kept (e.g. the store is full).
    Warning { server: String, ok: bool, error: String },
    Failed {
        server: String,
        ok: bool,
        #[serde(flatten)]
        error: ErrorFields,
    },
}

/// `inbound token NAME --format json`.
#[derive(Serialize)]
pub struct TokenJson<'a> {
    pub server: &'a str,
    pub username: &'a str,
    pub access_token: &'a str,
    pub expires_at: String,
    pub xoauth2: String,
}

/// `inbound check --json`.
#[derive(Debug, Serialize)]
pub struct CheckJson<'a> {
    pub status: health::Level,
    pub servers: Vec<&'a Health>,
}

/// `inbound connect NAME --device-code --json`, first line: the code to show.
#[derive(Debug, Serialize)]
pub struct DeviceCodeJson<'a> {
    pub verification_uri: &'a str,
    pub user_code: &'a str,
    pub expires_in: u64,
    pub interval: u64,
}

/// `inbound connect NAME --device-code --json`, last line: who signed in.
#[derive(Debug, Serialize)]
pub struct ConnectedJson<'a> {
    pub server: &'a str,
    pub account: Option<&'a str>,
    pub access_token_expires_at: String,
    pub mismatch: Option<&'a str>,
}

/// Pretty JSON of a value, or nothing (these structs cannot fail to serialize).
pub fn pretty<T: Serialize + ?Sized>(value: &T) -> String {
    crate::sanitize::json(serde_json::to_string_pretty(value).unwrap_or_default())
}

/// One-line JSON (for line-by-line readers).
pub fn line<T: Serialize + ?Sized>(value: &T) -> String {
    crate::sanitize::json(serde_json::to_string(value).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::health::TokenHealth;

    /// `show`/`list` and the app's details word the token the same way (the core's words).
    #[test]
    fn the_token_line_has_the_same_words_as_the_app() {
        let data = crate::tui::testing::populated();
        let now = crate::tui::testing::now();
        for name in ["Support inbox", "Sales", "Billing", "Helpdesk", "Legacy"] {
            let server = data.config.server(name).unwrap();
            let health = data.health(server, now);
            let line = token_text(&health, now);
            let words = health.token_words(|_| String::new());
            let (head, _) = words.split_once("until").unwrap_or((&words, ""));
            assert!(line.contains(head.trim_end()), "{name}: {line} / {words}");
        }
        // `list`'s cell measures the glyph and counts the rest, and cuts a long one there:
        // as the Unicode width of the whole measures and cuts it.
        let secs = |n: i64| now + jiff::SignedDuration::from_secs(n);
        let mut cut = 0;
        for token in [
            TokenHealth::NotApplicable,
            TokenHealth::None,
            TokenHealth::Valid { until: now },
            TokenHealth::Valid { until: secs(7_170) },
            TokenHealth::Valid { until: secs(-7_170) },
            TokenHealth::Valid {
                until: secs(-3_600 * 30_000),
            },
            TokenHealth::Valid {
                until: secs(3_600 * 1_000_000),
            },
            TokenHealth::Refreshable,
            TokenHealth::NeedsReconsent,
            TokenHealth::SecretExpired,
            TokenHealth::BadClient,
        ] {
            for app_only in [false, true] {
                let line = crate::model::health::TokenLine { token, app_only };
                let tz = jiff::tz::TimeZone::system();
                let cell = token_cell(line, now, &tz);
                assert_eq!(cell, measured_cell(&token_line_text(line, now, &tz)));
                assert_eq!(cell.1, unicode_width::UnicodeWidthStr::width(cell.0.as_str()));
                cut += usize::from(cell.0.ends_with('…'));
            }
        }
        assert!(cut >= 2, "long cells were cut");
        let mut billing = data.health(data.config.server("Billing").unwrap(), now);
        billing.token = TokenHealth::NeedsReconsent;
        assert_eq!(
            token_text(&billing, now),
            "✖ needs re-consent: Microsoft refused the refresh"
        );
    }
}
