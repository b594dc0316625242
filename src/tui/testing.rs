//! Fixed data for tests and snapshots: a store snapshot with every badge, a fixed clock and
//! time zone. Not used by the app itself.

use crate::model::{
    AuthKind, AzureApp, Blocker, Config, LastTest, Server, ServerState, ServerType, TokenFile, TokenSet,
};
use crate::secret::Secret;
use crate::services::browser::Situation;
use crate::tui::state::msg::Snapshot;
use crate::tui::state::{Env, Model};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

pub const NOW: &str = "2026-11-28T12:00:00Z";
pub const CLIENT_ID: &str = "2c7f5e1a-84b3-4d69-a0e2-9b1c3d7f6a58";
pub const SECRET: &str = "abc8Q~defghijklmnopqrstuvwxyz0123456789";

pub fn now() -> Timestamp {
    NOW.parse().unwrap_or(Timestamp::UNIX_EPOCH)
}

fn at(mins: i64) -> Timestamp {
    now() + SignedDuration::from_mins(mins)
}

pub fn app(name: &str, expires: &str) -> AzureApp {
    AzureApp {
        name: name.into(),
        client_id: CLIENT_ID.into(),
        tenant: "contoso.com".into(),
        secret: Some(Secret::new(SECRET)),
        secret_expires: expires.parse().ok(),
        authority: crate::model::DEFAULT_AUTHORITY.into(),
        certificate: None,
        public_client: false,
        admin_consent_at: None,
    }
}

pub fn server(name: &str, auth: AuthKind, state: ServerState, username: &str, app: Option<&str>) -> Server {
    Server {
        id: crate::store::token_file_stem(name),
        name: name.into(),
        server_type: ServerType::Imap,
        auth,
        host: crate::model::DEFAULT_HOST.into(),
        port: crate::model::DEFAULT_PORT,
        ssl: true,
        username: username.into(),
        sign_in_as: None,
        app: app.map(String::from),
        password: (auth == AuthKind::Basic).then(|| Secret::new("hunter2")),
        ca_file: None,
        state,
        last_test: None,
    }
}

pub fn tokens(server: &str, username: &str, expires_in_mins: i64, account: &str) -> TokenFile {
    let mut f = TokenFile::new(server, username);
    f.tokens = Some(TokenSet {
        access_token: Secret::new("access-token-never-shown"),
        refresh_token: Some(Secret::new("refresh-token-never-shown")),
        issued_at: at(expires_in_mins - 60),
        expires_at: at(expires_in_mins),
        refreshed_at: at(expires_in_mins - 60),
        consented_at: at(-24 * 60),
        scope: "https://outlook.office.com/IMAP.AccessAsUser.All openid profile email".into(),
        account: Some(account.into()),
        flow: crate::model::Flow::AuthorizationCode,
        principal_id: None,
    });
    f
}

/// No servers at all.
pub fn empty() -> Snapshot {
    Snapshot::default()
}

/// One server of each kind: Confirmed + valid token, Draft never signed in, needs
/// re-consent, expired but refreshable, Basic with a failed test.
pub fn populated() -> Snapshot {
    let mut config = Config::default();
    config.apps.push(app("Contoso mail", "2027-05-01"));
    config.apps.push(app("Old app", "2026-12-03"));
    let mut support = server(
        "Support inbox",
        AuthKind::OAuth2,
        ServerState::Confirmed,
        "support@contoso.com",
        Some("Contoso mail"),
    );
    support.last_test = Some(LastTest {
        at: at(-118),
        ok: true,
        messages: Some(1204),
        summary: "INBOX has 1204 messages".into(),
        needs: None,
    });
    let sales = server(
        "Sales",
        AuthKind::OAuth2,
        ServerState::Draft,
        "sales@contoso.com",
        Some("Contoso mail"),
    );
    let mut billing = server(
        "Billing",
        AuthKind::OAuth2,
        ServerState::Confirmed,
        "billing@contoso.com",
        Some("Old app"),
    );
    billing.last_test = Some(LastTest {
        at: at(-3 * 24 * 60),
        ok: true,
        messages: Some(12),
        summary: "INBOX has 12 messages".into(),
        needs: None,
    });
    let helpdesk = server(
        "Helpdesk",
        AuthKind::OAuth2,
        ServerState::Confirmed,
        "help@contoso.com",
        Some("Contoso mail"),
    );
    let mut legacy = server(
        "Legacy",
        AuthKind::Basic,
        ServerState::Draft,
        "old@contoso.com",
        None,
    );
    legacy.host = "imap.example.net".into();
    legacy.last_test = Some(LastTest {
        at: at(-30),
        ok: false,
        messages: None,
        summary: "authenticate: the server refused the login: NO LOGIN failed".into(),
        needs: None,
    });
    config.servers = vec![support, sales, billing, helpdesk, legacy];
    let mut snap = Snapshot {
        config,
        ..Snapshot::default()
    };
    snap.tokens.insert(
        "Support inbox".into(),
        tokens("Support inbox", "support@contoso.com", 41, "support@contoso.com"),
    );
    let mut b = tokens("Billing", "billing@contoso.com", -600, "billing@contoso.com");
    b.blocker = Some(Blocker::NeedsReconsent);
    snap.tokens.insert("Billing".into(), b);
    snap.tokens.insert(
        "Helpdesk".into(),
        tokens("Helpdesk", "help@contoso.com", -5, "help@contoso.com"),
    );
    snap
}

/// A model at the fixed time, UTC, no colour, no hyperlinks, no display.
pub fn model(data: Snapshot) -> Model {
    let env = Env {
        situation: Situation {
            ssh: false,
            display: false,
            ssh_target: None,
        },
        log_path: "/home/admin/.config/inbound/logs/inbound.log".into(),
        color: false,
        hyperlinks: false,
        demo: None,
    };
    let mut m = Model::new(data, now(), TimeZone::UTC, env);
    // The screens before the list had orders were drawn in the store's order; they stay so.
    // `model_default_order` shows the order the app starts with (worst first when anything
    // needs attention).
    m.set_sort(crate::tui::state::review::sort::SortKey::Stored);
    m.select(0);
    m
}

/// [`model`] in the order the app starts with.
pub fn model_default_order(data: Snapshot) -> Model {
    let mut m = model(data);
    m.view.sort_chosen = false;
    m.resort();
    m.select_row(0);
    m
}

/// Pre-flight answers for tests: every check passed.
pub fn checklist_passed() -> crate::ops::preflight::Checklist {
    use crate::ops::preflight::{Check, CheckItem, Checklist, Outcome};
    let pass = |item, detail: &str| Check {
        item,
        outcome: Outcome::Passed {
            detail: detail.into(),
        },
    };
    Checklist {
        checks: vec![
            pass(CheckItem::Tenant, "contoso.com = 6f1e…"),
            pass(CheckItem::App, "found"),
            pass(CheckItem::Secret, "accepted"),
        ],
        tenant_id: Some("6f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b".into()),
    }
}

/// Pre-flight: the Secret ID was pasted instead of its Value (AADSTS7000215).
pub fn checklist_secret_id() -> crate::ops::preflight::Checklist {
    use crate::ops::preflight::{CheckItem, Outcome};
    use crate::services::oauth::CredentialField;
    let mut list = checklist_passed();
    if let Some(c) = list.checks.iter_mut().find(|c| c.item == CheckItem::Secret) {
        c.outcome = Outcome::Failed {
            headline: "refused".into(),
            reason: "AADSTS7000215: Invalid client secret provided.".into(),
            fix: "paste the secret's Value (shown once, when it was created), not its Secret ID".into(),
            field: Some(CredentialField::Secret),
        };
    }
    list
}

/// Pre-flight offline: nothing answered.
pub fn checklist_offline() -> crate::ops::preflight::Checklist {
    use crate::ops::preflight::{Check, CheckItem, Checklist, Outcome};
    let why = "login.microsoftonline.com did not answer (offline?); sign-in will check again";
    Checklist {
        checks: [CheckItem::Tenant, CheckItem::App, CheckItem::Secret]
            .into_iter()
            .map(|item| Check {
                item,
                outcome: Outcome::Unknown { why: why.into() },
            })
            .collect(),
        tenant_id: None,
    }
}

/// The Object ID of the app-only fixture's enterprise application (from its token).
pub const PRINCIPAL_ID: &str = "6a1d9e4b-2f70-4c3a-b8e5-0d9c7f1a2b34";

/// An app-only token, as client credentials give it: no refresh token, no account.
pub fn app_only_tokens(server: &str, username: &str, expires_in_mins: i64) -> TokenFile {
    let mut f = TokenFile::new(server, username);
    f.tokens = Some(TokenSet {
        access_token: Secret::new("access-token-never-shown"),
        refresh_token: None,
        issued_at: at(expires_in_mins - 60),
        expires_at: at(expires_in_mins),
        refreshed_at: at(expires_in_mins - 60),
        consented_at: at(expires_in_mins - 60),
        scope: "https://outlook.office365.com/.default".into(),
        account: None,
        flow: crate::model::Flow::ClientCredentials,
        principal_id: Some(PRINCIPAL_ID.into()),
    });
    f
}

/// App-only servers: "Archive" (app "Robot", a secret, no token yet, no other server of its
/// app), "Shared robot" (app "Mail robot", a certificate, Confirmed, a token) and "Later box"
/// (a Draft of the same app, added later).
pub fn app_only() -> Snapshot {
    let mut config = Config::default();
    config.apps.push(app("Robot", "2027-05-01"));
    let mut cert_app = app("Mail robot", "");
    cert_app.secret = None;
    cert_app.certificate = Some(crate::model::AppCertificate {
        id: "mail-robot".into(),
        thumbprint: "3F2A9C0B7D41E6F58A2B9C0D1E2F3A4B5C6D7E8F".into(),
        x5t: String::new(),
        x5t_s256: String::new(),
        not_after: at(200 * 24 * 60),
        key_file: None,
    });
    config.apps.push(cert_app);
    let archive = server(
        "Archive",
        AuthKind::OAuth2App,
        ServerState::Draft,
        "archive@contoso.com",
        Some("Robot"),
    );
    let mut shared = server(
        "Shared robot",
        AuthKind::OAuth2App,
        ServerState::Confirmed,
        "shared@contoso.com",
        Some("Mail robot"),
    );
    shared.last_test = Some(LastTest {
        at: at(-30),
        ok: true,
        messages: Some(87),
        summary: "INBOX has 87 messages".into(),
        needs: None,
    });
    let later = server(
        "Later box",
        AuthKind::OAuth2App,
        ServerState::Draft,
        "later@contoso.com",
        Some("Mail robot"),
    );
    config.servers = vec![archive, shared, later];
    let mut snap = Snapshot {
        config,
        ..Snapshot::default()
    };
    snap.tokens.insert(
        "Shared robot".into(),
        app_only_tokens("Shared robot", "shared@contoso.com", 50),
    );
    snap
}
