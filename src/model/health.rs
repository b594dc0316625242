//! Token health and the monitoring verdict of one server, computed from stored data and an
//! injected clock (so tests never sleep).

use super::{AuthKind, AzureApp, Blocker, LastTest, Server, ServerState, TestNeeds, TokenFile, TokenSet};
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
            // App-only: a new token is one client-credentials request away.
            Some(t) if t.refresh_token.is_some() || t.flow == super::Flow::ClientCredentials => {
                TokenHealth::Refreshable
            }
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

/// What the token line says of a server: its token state, and whether the access is
/// app-only. `list`'s table shows only this of health, so it is judged alone there, without
/// the findings (and their strings) of a whole [`assess`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenLine {
    pub token: TokenHealth,
    pub app_only: bool,
}

impl TokenLine {
    /// `server`'s token line at `now`, as [`assess`] judges it.
    pub fn of(server: &Server, file: Option<&TokenFile>, now: Timestamp) -> Self {
        Self {
            token: if server.auth == AuthKind::Basic {
                TokenHealth::NotApplicable
            } else {
                TokenHealth::of(file, now)
            },
            app_only: server.auth == AuthKind::OAuth2App,
        }
    }

    /// The line's words (after [`TokenHealth::glyph`]): see [`Health::token_words`].
    pub fn words(self, when: impl Fn(Timestamp) -> String) -> String {
        match self.token {
            // App-only: no person, so no sign-in and no re-consent; the app fetches its token.
            TokenHealth::None if self.app_only => "app-only · no token yet".into(),
            TokenHealth::Valid { until } if self.app_only => {
                format!("app-only · token until {}", when(until))
            }
            TokenHealth::Refreshable if self.app_only => "app-only · token expired".into(),
            TokenHealth::NotApplicable => "Basic authentication: no token".into(),
            TokenHealth::None => "not signed in yet".into(),
            TokenHealth::Valid { until } => format!("Outlook token is valid until {}", when(until)),
            TokenHealth::Refreshable => "expired; a refresh token is stored".into(),
            TokenHealth::NeedsReconsent => "needs re-consent: Microsoft refused the refresh".into(),
            TokenHealth::SecretExpired => "client secret expired: create a new one in the portal".into(),
            TokenHealth::BadClient => "Microsoft refuses the app's credentials".into(),
        }
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
    /// The glyph of a level, the same in the app and at the shell: the meaning without colour.
    pub fn glyph(self) -> &'static str {
        match self {
            Level::Ok => "✔",
            Level::Warning => "⚠",
            Level::Critical | Level::Unknown => "✖",
        }
    }
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub level: Level,
    pub message: String,
    pub fix: Fix,
}

/// What fixes a finding, as data: the CLI writes it as a command line (`cli::fix`), the app
/// as the key that does it or the field to go to (`tui::ui::fix`), both after the same words
/// ([`Fix::advice`]). The core never words a command: it returns one of these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fix {
    /// Sign in again (interactive consent).
    Connect { server: String },
    /// Sign in for the first time: the server never signed in ("again" would be wrong).
    SignIn { server: String },
    /// Create a new client secret in the portal, then record it (and its expiry); the app's
    /// name when known.
    NewSecret { app: Option<String> },
    /// Make a new certificate for the app and upload it.
    NewCertificate { app: String },
    /// Switch the app to its new certificate once Microsoft has it.
    UseCertificate { app: String },
    /// Upload the app's stored certificate (Microsoft does not know it, or it was replaced);
    /// the app's name when known.
    UploadCertificate { app: Option<String> },
    /// Check the client ID and paste the secret Value again.
    AppCredentials { app: String },
    /// The server names an app that is not stored: choose one.
    ChooseApp { server: String },
    /// Use the refresh token (regularly, so it does not lapse).
    Refresh { server: String, schedule: bool },
    /// Run Test & Confirm.
    Test { server: String },
    /// Run Test & Confirm again in a few minutes: what was done takes time to apply.
    RetryLater { server: String },
    /// Set the server's CA file (a private CA signed its certificate).
    CaFile { server: String },
    /// App-only: register the app's service principal in Exchange and give it the mailbox.
    ExchangeSetup { server: String },
    /// App-only: Exchange refused a valid token; the causes in order, each with its line.
    ExchangeRefused(Box<super::rejection::Rejection>),
    /// Give the app its tenant's ID or verified domain (not `common`).
    Tenant { app: String },
    /// The account that signs in lacks FullAccess to the mailbox: an Exchange admin grants it
    /// (the failed test's advice names the line), then test again.
    MailboxPermission { server: String },
    /// Store the mailbox's password (Basic).
    Password { server: String },
    /// An admin grants consent for the organization, then the sign-in follows.
    AdminConsent { server: String },
    /// Sign in as another account than the Username: the delegate of a shared mailbox.
    SignInAs { server: String, account: String },
    /// The tenant lives in another cloud: choose it (`clouds`, most likely first). `server`
    /// when the server's own cloud may be the one to change.
    ChooseCloud {
        app: Option<String>,
        server: Option<String>,
        clouds: Vec<super::Cloud>,
    },
    /// Device code cannot work here: sign in with the browser (through a tunnel, or by
    /// pasting the address it ended on).
    BrowserSignIn { server: Option<String> },
    /// Store the app as a public client (no secret): it is registered as one.
    PublicClient,
    /// Device code needs the registration's "Allow public client flows" = Yes (the portal's).
    AllowPublicClientFlows,
    /// The redirect the app is registered for: sign in behind this public URL, or (None) at
    /// localhost.
    PublicUrl { url: Option<String> },
    /// Run the setup script again and paste the setup code it ends with.
    SetupScript,
    /// Point the server at a stored Azure app, or give the app a value it lacks.
    EditServer { server: String, field: ServerField },
    /// Give the app a value it lacks (client ID, cloud).
    EditApp { app: String, field: AppField },
    /// Words only (e.g. Microsoft's hint for a transient failure).
    Advice(String),
}

/// A field of a server a fix asks to set (the CLI names its flag, the app its form field).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerField {
    Host,
    Username,
    App,
}

/// A field of an Azure app a fix asks to set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppField {
    ClientId,
    Tenant,
    Cloud,
}

impl Fix {
    /// What to do, in words, without any syntax of the CLI or keys of the app.
    pub fn advice(&self) -> String {
        match self {
            Fix::Connect { .. } => "sign in again".into(),
            Fix::SignIn { .. } => "sign in".into(),
            Fix::NewSecret { .. } => {
                "create a new secret in the portal (Certificates & secrets), then record it with its expiry"
                    .into()
            }
            Fix::NewCertificate { .. } => "upload the app's certificate under Certificates & secrets → Certificates, or make a new one and upload that".into(),
            Fix::UseCertificate { .. } => "switch the app to its new certificate".into(),
            Fix::UploadCertificate { .. } => {
                "upload the app's certificate under App registrations → the app → Certificates & secrets → Certificates, then try again".into()
            }
            Fix::AppCredentials { .. } => "check the client ID and paste the secret Value again".into(),
            Fix::ChooseApp { .. } => "choose a stored Azure app for the server".into(),
            Fix::Refresh { schedule: true, .. } => "refresh the token (and schedule a daily refresh)".into(),
            Fix::Refresh { .. } => "refresh the token".into(),
            Fix::Test { .. } => "run Test & Confirm".into(),
            Fix::RetryLater { .. } => "run Test & Confirm again in a few minutes".into(),
            Fix::CaFile { .. } => {
                "set the server's CA file to the PEM file of the CA that signed its certificate".into()
            }
            Fix::ExchangeSetup { .. } => {
                "run the Exchange Online commands that register the app and give it the mailbox".into()
            }
            Fix::ExchangeRefused(r) => r.words(),
            Fix::Tenant { .. } => "give the app its Directory (tenant) ID or a verified domain".into(),
            Fix::Password { .. } => "store the mailbox's password".into(),
            Fix::MailboxPermission { .. } => "an Exchange admin gives the account that signs in FullAccess to the mailbox (Add-MailboxPermission), then test again".into(),
            Fix::AdminConsent { .. } => "an admin grants consent for the organization, then signs in".into(),
            Fix::SignInAs { account, .. } => format!("set Sign in as to {account}"),
            Fix::ChooseCloud { clouds, .. } => format!(
                "choose the tenant's cloud ({})",
                clouds.iter().map(|c| c.key()).collect::<Vec<_>>().join(" or ")
            ),
            Fix::BrowserSignIn { .. } => "sign in with the browser instead: open the link here, through a tunnel from your own computer, or paste the address your browser ended on".into(),
            Fix::PublicClient => "store the app as a public client (without a secret)".into(),
            Fix::AllowPublicClientFlows => "in the app registration, set Authentication → Advanced settings → Allow public client flows = Yes (no client secret is sent on this path)".into(),
            Fix::PublicUrl { url: Some(url) } => format!("sign in behind the public URL {url}"),
            Fix::PublicUrl { url: None } => "sign in at localhost (no public URL)".into(),
            Fix::SetupScript => "run the setup script again and copy its last line".into(),
            Fix::EditServer { field, .. } => match field {
                ServerField::Host => "set the server's host".into(),
                ServerField::Username => "set the server's Username (the mailbox's address)".into(),
                ServerField::App => "point the server at a stored Azure app".into(),
            },
            Fix::EditApp { field, .. } => match field {
                AppField::ClientId => "set the app's Azure Client ID".into(),
                AppField::Tenant => "set the app's tenant".into(),
                AppField::Cloud => "set the app's cloud".into(),
            },
            Fix::Advice(text) => text.clone(),
        }
    }

    /// A stable name for scripts (`--json`).
    pub fn kind(&self) -> &'static str {
        match self {
            // One kind for scripts: both are a sign-in.
            Fix::Connect { .. } | Fix::SignIn { .. } => "connect",
            Fix::NewSecret { .. } => "new_secret",
            Fix::NewCertificate { .. } => "new_certificate",
            Fix::UploadCertificate { .. } => "upload_certificate",
            Fix::UseCertificate { .. } => "use_certificate",
            Fix::AppCredentials { .. } => "app_credentials",
            Fix::ChooseApp { .. } => "choose_app",
            Fix::Refresh { .. } => "refresh",
            Fix::Test { .. } => "test",
            Fix::RetryLater { .. } => "retry_later",
            Fix::CaFile { .. } => "ca_file",
            Fix::ExchangeSetup { .. } | Fix::ExchangeRefused(_) => "exchange_setup",
            Fix::Tenant { .. } => "tenant",
            Fix::Password { .. } => "password",
            Fix::MailboxPermission { .. } => "mailbox_permission",
            Fix::AdminConsent { .. } => "admin_consent",
            Fix::SignInAs { .. } => "sign_in_as",
            Fix::ChooseCloud { .. } => "choose_cloud",
            Fix::BrowserSignIn { .. } => "browser_sign_in",
            Fix::PublicClient => "public_client",
            Fix::AllowPublicClientFlows => "allow_public_client_flows",
            Fix::PublicUrl { .. } => "public_url",
            Fix::SetupScript => "setup_script",
            Fix::EditServer { .. } => "edit_server",
            Fix::EditApp { .. } => "edit_app",
            Fix::Advice(_) => "advice",
        }
    }
}

/// Steps that fix something, in order (doctor's fix of a step): each face words them, the
/// CLI joined with "; ".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remedy(pub Vec<Advice>);

impl From<Advice> for Remedy {
    fn from(a: Advice) -> Self {
        Remedy(vec![a])
    }
}

/// The shell's wording of fixes (the CLI's), given to the parts of the core whose text is
/// read at a shell (serve's alerts, the proxy's IMAP answers), so that the core itself never
/// writes a command.
#[derive(Debug, Clone, Copy)]
pub struct ShellWording {
    /// The command line that does a fix, when one does.
    pub command: fn(&Fix) -> Option<String>,
    /// The fix's words with its command line.
    pub text: fn(&Fix) -> String,
}

/// A sentence followed by the fix that ends it: each face words the fix its own way after
/// the same words (the CLI as a command in brackets, the app as its key or field).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advice {
    pub words: String,
    pub fix: Option<Fix>,
}

impl From<String> for Advice {
    fn from(words: String) -> Self {
        Advice { words, fix: None }
    }
}

impl From<&str> for Advice {
    fn from(words: &str) -> Self {
        words.to_string().into()
    }
}

/// The account that signed in is not the one the server expects, as data: the words say
/// what happens, the fix (for a server without Sign in as) records the account as the
/// delegate of a shared mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    pub account: String,
    pub mailbox: String,
    /// The server's Sign in as, when it has one.
    pub delegate: Option<String>,
    pub server: String,
}

impl Mismatch {
    /// The sentence, without how to set Sign in as (see [`Mismatch::fix`]).
    pub fn words(&self) -> String {
        let Mismatch { account, mailbox, .. } = self;
        match &self.delegate {
            Some(delegate) => format!(
                "you signed in as {account} but Sign in as is {delegate} (the delegate for the shared mailbox {mailbox}); IMAP will fail unless {account} has FullAccess to {mailbox}. Re-connect and pick {delegate}"
            ),
            None => format!(
                "you signed in as {account} but Username is {mailbox}; IMAP will fail unless {account} has FullAccess to that mailbox. Re-connect and pick {mailbox}, or, if {account} is a delegate of a shared mailbox, set Sign in as"
            ),
        }
    }

    /// Setting Sign in as, when the server has none yet.
    pub fn fix(&self) -> Option<Fix> {
        self.delegate.is_none().then(|| Fix::SignInAs {
            server: self.server.clone(),
            account: self.account.clone(),
        })
    }
}

// Here rather than in rejection.rs, which then needs nothing of this module (no import circle).
impl super::rejection::Rejection {
    /// A retry in a few minutes may pass without any change (replication).
    pub fn retry(&self) -> Fix {
        Fix::RetryLater {
            server: self.server.clone(),
        }
    }
}

/// Everything `check`, `show` and the TUI say about a server's health.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Health {
    pub server: String,
    /// App-only access (no user): the token line reads "app-only · token until …".
    pub app_only: bool,
    /// The app signs with a certificate: `secret_expires` is the certificate's expiry.
    pub certificate: bool,
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
    /// When an admin granted tenant-wide consent (recorded by inbound; unknown otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_consent_at: Option<Timestamp>,
    /// A public client: no secret, so no secret expiry to watch.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub public_client: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    pub findings: Vec<Finding>,
}

impl Health {
    /// The token line's words (after [`TokenHealth::glyph`]), one wording for both faces:
    /// the app adds the key that acts on it, the CLI nothing. `when` writes a time.
    pub fn token_words(&self, when: impl Fn(Timestamp) -> String) -> String {
        TokenLine {
            token: self.token,
            app_only: self.app_only,
        }
        .words(when)
    }

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
    let mut push = |level, message: String, fix: Fix| findings.push(Finding { level, message, fix });
    let server_name = || server.name.clone();
    let app_name = || server.app.clone().unwrap_or_else(|| "APP".into());
    let name = &server.name;

    let TokenLine { token, app_only } = TokenLine::of(server, file, now);
    let tokens = file.and_then(|f| f.tokens.as_ref());

    match token {
        TokenHealth::NeedsReconsent => push(
            Level::Critical,
            "needs re-consent: Microsoft refused the refresh token".into(),
            Fix::Connect {
                server: server_name(),
            },
        ),
        TokenHealth::SecretExpired => push(
            Level::Critical,
            "client secret expired (AADSTS7000222)".into(),
            Fix::NewSecret {
                app: server.app.clone(),
            },
        ),
        TokenHealth::BadClient if app.is_some_and(|a| a.certificate.is_some()) => push(
            Level::Critical,
            "Microsoft refused the app's certificate".into(),
            // Uploading the stored one is the usual cure; a new one is the command's.
            Fix::NewCertificate { app: app_name() },
        ),
        TokenHealth::BadClient => push(
            Level::Critical,
            "Microsoft refused the app's credentials".into(),
            Fix::AppCredentials { app: app_name() },
        ),
        TokenHealth::None if server.auth == AuthKind::OAuth2App => push(
            if server.state == ServerState::Confirmed {
                Level::Critical
            } else {
                Level::Warning
            },
            "no app-only token yet".into(),
            Fix::Test {
                server: server_name(),
            },
        ),
        TokenHealth::None if server.auth == AuthKind::OAuth2 => push(
            if server.state == ServerState::Confirmed {
                Level::Critical
            } else {
                Level::Warning
            },
            "not signed in yet".into(),
            Fix::SignIn {
                server: server_name(),
            },
        ),
        _ => {}
    }

    if server.auth.is_oauth() && app.is_none() {
        push(
            Level::Critical,
            format!("Azure app \"{}\" is missing", server.app.as_deref().unwrap_or("")),
            Fix::ChooseApp {
                server: server_name(),
            },
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
                Fix::Connect {
                    server: server_name(),
                },
            );
        } else if left < RECONSENT_WARN_DAYS {
            push(
                Level::Warning,
                format!("refresh token expires in {left} d unless used"),
                Fix::Refresh {
                    server: server_name(),
                    schedule: true,
                },
            );
        }
    }

    // Credential expiry: the certificate's own date when the app signs with one (it is what
    // token requests use), else the client secret's recorded date (a public client has no
    // secret to expire).
    let certificate = app.and_then(|a| a.certificate.as_ref());
    let secret_expires = match certificate {
        Some(c) => Some(c.not_after.to_zoned(jiff::tz::TimeZone::UTC).date()),
        None => app.filter(|a| !a.public_client).and_then(|a| a.secret_expires),
    };
    let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    let secret_days_left = secret_expires
        .and_then(|d| today.until(d).ok())
        .map(|span| i64::from(span.get_days()));
    if server.auth.is_oauth()
        && token != TokenHealth::SecretExpired
        && let (Some(left), Some(app)) = (secret_days_left, app)
    {
        let (what, fix) = if certificate.is_some() {
            (
                "certificate",
                Fix::NewCertificate {
                    app: app.name.clone(),
                },
            )
        } else {
            (
                "client secret",
                Fix::NewSecret {
                    app: Some(app.name.clone()),
                },
            )
        };
        if left < 0 {
            push(Level::Critical, format!("{what} expired {} d ago", -left), fix);
        } else if left <= SECRET_CRITICAL_DAYS {
            push(
                Level::Critical,
                format!("{what} expires in {left} d"),
                fix.clone(),
            );
        } else if left <= SECRET_WARN_DAYS {
            push(Level::Warning, format!("{what} expires in {left} d"), fix);
        }
    }

    // Last refresh problem that did not block (transient).
    let last_error = file.and_then(|f| f.last_error.as_ref());
    if let Some(err) = last_error.filter(|e| e.transient && !token.is_bad()) {
        push(
            Level::Warning,
            format!("last refresh failed: {}", err.message),
            err.hint.clone().map_or_else(
                || Fix::Refresh {
                    server: server_name(),
                    schedule: false,
                },
                Fix::Advice,
            ),
        );
    }

    // Test state. A failed test from before the last sign-in says nothing about now (its
    // cause, e.g. the wrong account, may be gone): it no longer headlines.
    let outdated = |t: &LastTest| tokens.is_some_and(|tk| tk.consented_at > t.at);
    match (&server.state, &server.last_test) {
        // Another test alone cannot fix what it needs first: that need is the fix.
        (_, Some(t)) if !t.ok && !outdated(t) => push(
            Level::Critical,
            format!("last test failed: {}", t.summary),
            match t.needs {
                Some(TestNeeds::SignIn) => Fix::Connect {
                    server: server_name(),
                },
                Some(TestNeeds::MailboxPermission) => Fix::MailboxPermission {
                    server: server_name(),
                },
                Some(TestNeeds::ExchangeSetup) => Fix::ExchangeSetup {
                    server: server_name(),
                },
                None => Fix::Test {
                    server: server_name(),
                },
            },
        ),
        (ServerState::Draft, Some(t)) if !t.ok => push(
            Level::Warning,
            "signed in again since the last failed test: test again".into(),
            Fix::Test {
                server: server_name(),
            },
        ),
        (ServerState::Draft, _) => push(
            Level::Warning,
            "not confirmed yet (Draft)".into(),
            Fix::Test {
                server: server_name(),
            },
        ),
        (ServerState::Confirmed, Some(t)) if days_between(t.at, now) > TEST_STALE_DAYS => push(
            Level::Warning,
            format!("last successful test is {} d old", days_between(t.at, now)),
            Fix::Test {
                server: server_name(),
            },
        ),
        _ => {}
    }

    let level = findings.iter().map(|f| f.level).max().unwrap_or(Level::Ok);
    Health {
        server: name.clone(),
        app_only,
        certificate: certificate.is_some(),
        state: server.state,
        token,
        level,
        access_valid_until: tokens.map(|t| t.expires_at),
        last_refresh: tokens.map(|t| t.refreshed_at),
        reconsent_by,
        secret_expires,
        secret_days_left,
        account: tokens.and_then(|t| t.account.clone()),
        admin_consent_at: app.and_then(|a| a.admin_consent_at),
        public_client: app.is_some_and(|a| a.public_client),
        last_error: last_error.map(|e| e.message.clone()),
        findings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Flow, LastTest, RecordedError, ServerType};
    use crate::secret::Secret;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    const NOW: &str = "2026-11-28T12:00:00Z";

    fn tokens(issued: &str, secs: i64) -> TokenSet {
        let issued = t(issued);
        TokenSet {
            access_token: Secret::new("at"),
            refresh_token: Some(Secret::new("rt")),
            issued_at: issued,
            expires_at: issued + SignedDuration::from_secs(secs),
            refreshed_at: issued,
            consented_at: issued,
            scope: "https://outlook.office.com/IMAP.AccessAsUser.All".into(),
            account: Some("a@contoso.com".into()),
            flow: Flow::AuthorizationCode,
            principal_id: None,
        }
    }

    fn server(state: ServerState, test_ok: Option<bool>) -> Server {
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
            last_test: test_ok.map(|ok| LastTest {
                at: t(NOW),
                ok,
                messages: Some(1),
                summary: "x".into(),
                needs: None,
            }),
        }
    }

    fn app(expires: Option<&str>) -> AzureApp {
        AzureApp {
            name: "app".into(),
            client_id: "2c7f5e1a-84b3-4d69-a0e2-9b1c3d7f6a58".into(),
            tenant: "contoso.com".into(),
            secret: Some(Secret::new("v")),
            secret_expires: expires.map(|d| d.parse().unwrap()),
            authority: "https://login.microsoftonline.com".into(),
            certificate: None,
            public_client: false,
            admin_consent_at: None,
        }
    }

    fn file(tokens: Option<TokenSet>, blocker: Option<Blocker>) -> TokenFile {
        TokenFile {
            tokens,
            blocker,
            ..TokenFile::new("S", "a@contoso.com")
        }
    }

    #[test]
    fn a_five_second_token_is_not_due_on_arrival() {
        let tk = tokens(NOW, 5);
        assert!(!needs_refresh(&tk, t(NOW)));
        assert!(needs_refresh(&tk, t(NOW) + SignedDuration::from_secs(4)));
        // an hour-long token is refreshed 5 minutes before expiry
        let hour = tokens(NOW, 3600);
        assert_eq!(refresh_due_at(&hour), t(NOW) + SignedDuration::from_secs(3300));
    }

    #[test]
    fn healthy_confirmed_server_is_ok() {
        let h = assess(
            &server(ServerState::Confirmed, Some(true)),
            Some(&app(Some("2027-06-01"))),
            Some(&file(Some(tokens(NOW, 3600)), None)),
            t(NOW),
        );
        assert_eq!(h.level, Level::Ok, "{:?}", h.findings);
        assert!(matches!(h.token, TokenHealth::Valid { .. }));
        assert_eq!(h.summary(), "healthy");
    }

    #[test]
    fn unknown_secret_expiry_is_not_a_warning() {
        let h = assess(
            &server(ServerState::Confirmed, Some(true)),
            Some(&app(None)),
            Some(&file(Some(tokens(NOW, 3600)), None)),
            t(NOW),
        );
        assert_eq!(h.level, Level::Ok);
        assert_eq!(h.secret_days_left, None);
    }

    #[test]
    fn secret_expiry_warns_at_30_and_is_critical_at_7_days() {
        let f = file(Some(tokens(NOW, 3600)), None);
        let s = server(ServerState::Confirmed, Some(true));
        assert_eq!(
            assess(&s, Some(&app(Some("2026-12-20"))), Some(&f), t(NOW)).level,
            Level::Warning
        );
        assert_eq!(
            assess(&s, Some(&app(Some("2026-12-03"))), Some(&f), t(NOW)).level,
            Level::Critical
        );
        let expired = assess(&s, Some(&app(Some("2026-11-01"))), Some(&f), t(NOW));
        assert_eq!(expired.level, Level::Critical);
        assert_eq!(expired.secret_days_left, Some(-27));
    }

    #[test]
    fn a_certificate_expiry_drives_the_warning_with_its_own_fix() {
        let f = file(Some(tokens(NOW, 3600)), None);
        let s = server(ServerState::Confirmed, Some(true));
        let mut a = app(Some("2099-01-01"));
        a.certificate = Some(crate::model::AppCertificate {
            id: "c".into(),
            thumbprint: "AB".into(),
            x5t: "x".into(),
            x5t_s256: "y".into(),
            not_after: t("2026-12-10T00:00:00Z"),
            key_file: None,
        });
        let h = assess(&s, Some(&a), Some(&f), t(NOW));
        assert_eq!(h.level, Level::Warning, "{:?}", h.findings);
        assert!(h.certificate);
        assert!(
            h.summary().starts_with("certificate expires in"),
            "{}",
            h.summary()
        );
        assert_eq!(h.findings[0].fix, Fix::NewCertificate { app: "app".into() });
    }

    #[test]
    fn refused_refresh_is_never_green() {
        let s = server(ServerState::Confirmed, Some(true));
        let h = assess(
            &s,
            Some(&app(None)),
            Some(&file(Some(tokens(NOW, 3600)), Some(Blocker::NeedsReconsent))),
            t(NOW),
        );
        assert_eq!(h.token, TokenHealth::NeedsReconsent);
        assert_eq!(h.level, Level::Critical);
        assert_eq!(h.findings[0].fix, Fix::Connect { server: "S".into() });
        let h = assess(
            &s,
            Some(&app(None)),
            Some(&file(Some(tokens(NOW, 3600)), Some(Blocker::SecretExpired))),
            t(NOW),
        );
        assert_eq!(h.token, TokenHealth::SecretExpired);
        assert_eq!(h.level, Level::Critical);
    }

    #[test]
    fn reconsent_window_closing_warns() {
        let s = server(ServerState::Confirmed, Some(true));
        // refreshed 80 days ago, access token still "valid" for the test's sake
        let mut tk = tokens("2026-09-09T12:00:00Z", 3600);
        tk.expires_at = t(NOW) + SignedDuration::from_hours(1);
        let h = assess(&s, Some(&app(None)), Some(&file(Some(tk), None)), t(NOW));
        assert_eq!(h.level, Level::Warning, "{:?}", h.findings);
        assert!(h.summary().contains("refresh token expires in"));
    }

    #[test]
    fn a_failed_test_from_before_the_last_sign_in_no_longer_headlines() {
        // Tested (and failed) at NOW - 1 h, signed in again at NOW.
        let mut srv = server(ServerState::Draft, Some(false));
        if let Some(t) = srv.last_test.as_mut() {
            t.at -= SignedDuration::from_hours(1);
        }
        let f = file(Some(tokens(NOW, 3600)), None);
        let h = assess(&srv, Some(&app(None)), Some(&f), t(NOW));
        assert_eq!(h.level, Level::Warning, "{:?}", h.findings);
        assert!(
            h.findings
                .iter()
                .all(|f| !f.message.starts_with("last test failed"))
        );
        // Failed after the sign-in: still critical.
        let srv = server(ServerState::Draft, Some(false));
        let f = file(Some(tokens("2026-11-28T11:00:00Z", 7200)), None);
        assert_eq!(
            assess(&srv, Some(&app(None)), Some(&f), t(NOW)).level,
            Level::Critical
        );
    }

    #[test]
    fn failed_test_draft_and_transient_errors() {
        let f = file(Some(tokens(NOW, 3600)), None);
        assert_eq!(
            assess(
                &server(ServerState::Confirmed, Some(false)),
                Some(&app(None)),
                Some(&f),
                t(NOW)
            )
            .level,
            Level::Critical
        );
        assert_eq!(
            assess(
                &server(ServerState::Draft, None),
                Some(&app(None)),
                Some(&f),
                t(NOW)
            )
            .level,
            Level::Warning
        );
        let mut f2 = f.clone();
        f2.last_error = Some(RecordedError {
            at: t(NOW),
            message: "HTTP 503".into(),
            hint: None,
            transient: true,
        });
        let h = assess(
            &server(ServerState::Confirmed, Some(true)),
            Some(&app(None)),
            Some(&f2),
            t(NOW),
        );
        assert_eq!(h.level, Level::Warning);
        assert!(matches!(h.token, TokenHealth::Valid { .. }));
        // expired access token with a refresh token: refreshable, not critical
        let f3 = file(Some(tokens("2026-11-28T08:00:00Z", 3600)), None);
        let h = assess(
            &server(ServerState::Confirmed, Some(true)),
            Some(&app(None)),
            Some(&f3),
            t(NOW),
        );
        assert_eq!(h.token, TokenHealth::Refreshable);
        assert_eq!(h.level, Level::Ok);
        // confirmed but never signed in
        let h = assess(
            &server(ServerState::Confirmed, Some(true)),
            Some(&app(None)),
            None,
            t(NOW),
        );
        assert_eq!(h.level, Level::Critical);
    }
}
