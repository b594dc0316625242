//! The operations both faces (CLI and TUI) call. No terminal I/O here.

pub mod admin_consent;
pub mod cert;
pub mod consent;
pub mod credentials;
pub mod doctor;
pub mod exchange;
pub mod import;
pub mod listening;
pub mod paste;
pub mod preflight;
pub mod proxy;
pub mod serve;
pub mod servers;
pub mod settings;
pub mod setup;
pub mod similar;
pub mod snapshot;
pub mod test;
pub mod tokens;
pub mod tunnel;
pub mod upstream;

use crate::model::health::Fix;
use crate::model::validate::FieldError;
use crate::model::{AuthKind, AzureApp, Blocker, Config, Server};
use crate::services::imap::ProbeError;
use crate::services::oauth::OAuthError;
use crate::store::StoreError;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum Error {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Every field that is wrong, not just the first (the form marks them all).
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    #[error("no {kind} named \"{}\"", crate::sanitize::echo(name))]
    NotFound { kind: &'static str, name: String },
    #[error(
        "a {kind} named \"{}\" already exists; choose another name or edit it",
        crate::sanitize::echo(name)
    )]
    Exists { kind: &'static str, name: String },
    #[error("Azure app \"{app}\" is used by {}; remove or re-point those servers first", servers.join(", "))]
    AppInUse { app: String, servers: Vec<String> },
    #[error("\"{server}\": {source}")]
    OAuth { server: String, source: OAuthError },
    #[error("\"{server}\" {}: {message}", blocker_text(*blocker))]
    Blocked {
        server: String,
        /// The server's Azure app, so the fix names it.
        app: String,
        blocker: Blocker,
        message: String,
    },
    #[error("\"{server}\" is not signed in yet: connect it first")]
    NotSignedIn { server: String },
    #[error("\"{server}\" uses Basic authentication; tokens exist only for OAuth2.0")]
    NotOAuth { server: String },
    #[error(
        "\"{server}\" uses app-only access (OAuth2.0 app-only): there is no one to sign in; its tokens come from the app's own credentials"
    )]
    AppOnly { server: String },
    #[error("Test & Confirm of \"{server}\" failed at {}: {source}", source.stage())]
    Probe { server: String, source: ProbeError },
    #[error(
        "\"{server}\" has a proxy password already: a new one replaces it (the old one stops working), or remove it"
    )]
    ProxyPasswordSet { server: String },
    /// The tunnel's or the proxy's login to the real server failed.
    #[error("\"{server}\": the IMAP login failed at {}: {source}", source.stage())]
    Upstream { server: String, source: ProbeError },
    #[error("\"{server}\": device-code sign-in failed: {message}")]
    Device {
        server: String,
        message: String,
        hint: Option<String>,
        /// What fixes it: the browser instead (Conditional Access blocks device code in this
        /// tenant), or the registration's public client flows.
        fix: Option<Box<Fix>>,
    },
    /// Microsoft redirected back with an error (consent refused, a wrong redirect …).
    #[error("sign-in: Microsoft answered {error}{}", if first_line(description).is_empty() { String::new() } else { format!(": {}", first_line(description)) })]
    Refused {
        error: String,
        description: String,
        /// What the AADSTS code means for us, when we know it.
        hint: Option<String>,
    },
    /// The browser never came back to the listener.
    #[error("sign-in: no answer from the browser within {} s", timeout.as_secs())]
    NoAnswer {
        timeout: std::time::Duration,
        /// The redirect URI as it must be registered.
        registered: String,
        public_client: bool,
        /// The server signing in (for the admin consent that may be missing).
        server: String,
    },
    /// An answer of the other flow arrived on this flow's listener (it cannot come from
    /// Microsoft: each flow has its own `state`).
    #[error("sign-in: {}", match expected {
        Flow::SignIn => "an admin consent answer arrived where a sign-in was expected",
        Flow::AdminConsent => "a sign-in code arrived where the admin consent answer was expected",
    })]
    WrongAnswer { server: String, expected: Flow },
    /// A sign-in's code is redeemed once; this one was.
    #[error("sign-in: this sign-in was already used")]
    SignInUsed { server: String },
    #[error("admin consent needs the tenant's ID or domain, not \"common\" (app \"{app}\")")]
    CommonTenant { app: String },
    /// The admin consent page answered with a refusal we can explain.
    #[error("sign-in: {}", match reason {
        AdminRefusal::Cancelled => format!("the admin consent was cancelled ({detail})"),
        AdminRefusal::NotAdmin => format!("the account that signed in cannot grant consent for the organization ({detail})"),
    })]
    AdminRefused {
        reason: AdminRefusal,
        /// Microsoft's first line (with its AADSTS code).
        detail: String,
        /// The link to send an admin.
        link: String,
    },
    #[error(
        "\"{server}\" signs in as a person (delegated OAuth2.0): Exchange needs no service principal for it"
    )]
    NotAppOnly { server: String },
    #[error("\"{server}\" uses Basic authentication but has no password stored")]
    NoPassword { server: String },
    #[error(
        "app \"{app}\" has no client secret or certificate, and it is not a public client: a browser sign-in with a Web redirect needs one of them"
    )]
    NoCredential { app: String },
    /// Sign-in stopped at "Need admin approval": a step to take, not a fault (most tenants
    /// since late 2025 keep users from consenting to IMAP themselves; microsoft-facts §9).
    #[error("{0}")]
    NeedsAdminConsent(Box<admin_consent::AdminConsentNeeded>),
    #[error(
        "\"{server}\" was removed or now names another mailbox while signing in; nothing was stored. Sign in again if it still needs tokens"
    )]
    Changed { server: String },
    #[error(
        "Test & Confirm of \"{server}\" passed (INBOX has {messages} messages), but saving the result failed: {reason}. The server was not marked Confirmed; {}",
        if *read_only {
            "test again from a copy of the store you may write, or once it is writable"
        } else {
            "free space or fix the store, then test again"
        }
    )]
    PassedUnsaved {
        server: String,
        messages: u32,
        reason: String,
        /// The store is read-only (a snapshot, a mounted secret): nothing is wrong with the
        /// server, only nothing can be written.
        read_only: bool,
    },
    #[error("port {port} for the sign-in listener is busy{}{}", holder.as_ref().map(|h| format!(" ({h} listens there)")).unwrap_or_default(), match chosen {
        consent::PortChoice::PublicUrl => "; the reverse proxy forwards to this port, so no other port would do: stop the other program",
        consent::PortChoice::Setting => "; it is the port in your settings, so it was not replaced: stop the other program, or choose another port in the settings",
        consent::PortChoice::Flag => "; it was asked for explicitly, so it was not replaced: stop the other program, or choose another port",
    })]
    PortBusy {
        port: u16,
        chosen: consent::PortChoice,
        holder: Option<String>,
    },
    /// Pre-flight proved the credentials wrong; nothing was saved.
    #[error("pre-flight: {}; nothing was saved", preflight_text(.0))]
    Preflight(Box<preflight::Checklist>),
    /// A stored value (a hand-edited store or token file) that is not what it should be, so it
    /// is not put into a command line for someone to paste.
    #[error("\"{server}\": {what} cannot go into the commands to paste: {message}")]
    UnsafeValue {
        server: String,
        what: &'static str,
        message: String,
    },
    /// New credentials Microsoft could not be asked about (offline): they do not replace the
    /// old ones unless the person chooses to save them unchecked.
    #[error("the new credentials could not be checked: {}; nothing was saved and the old ones stay", unverified_text(.0))]
    Unverified(Box<preflight::Checklist>),
    /// The app's certificate is not there to use.
    #[error("{}", cert_missing_text(app, *why))]
    NoCertificate { app: String, why: CertMissing },
    #[error("cancelled")]
    Cancelled,
    #[error("{0}")]
    Io(String),
}

/// Why an app's certificate cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertMissing {
    /// `use` without a new certificate waiting.
    NoneWaiting,
    /// The waiting one was replaced while Microsoft checked it.
    Replaced,
    /// The app has no certificate at all.
    NoneStored,
    /// The store names a certificate whose file is gone.
    FileMissing,
}

fn cert_missing_text(app: &str, why: CertMissing) -> String {
    match why {
        CertMissing::NoneWaiting => format!("app \"{app}\" has no new certificate waiting: make one first"),
        CertMissing::Replaced => format!(
            "the new certificate of app \"{app}\" was replaced while Microsoft checked it: use the new one"
        ),
        CertMissing::NoneStored => format!("app \"{app}\" has no certificate: make one"),
        CertMissing::FileMissing => {
            format!("the certificate file of app \"{app}\" is missing: make a new one")
        }
    }
}

/// Which flow a listener was waiting for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    SignIn,
    AdminConsent,
}

/// Why the admin consent page said no.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminRefusal {
    /// AADSTS65004: the admin declined or closed the page.
    Cancelled,
    /// The account that signed in holds no role that may grant consent.
    NotAdmin,
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("").trim()
}

fn preflight_text(list: &preflight::Checklist) -> String {
    match list.failure() {
        Some(c) => match &c.outcome {
            preflight::Outcome::Failed { headline, reason, .. } => {
                format!("{} {headline}: {reason}", c.item.label())
            }
            _ => list.line(),
        },
        None => list.line(),
    }
}

fn unverified_text(list: &preflight::Checklist) -> String {
    list.checks
        .iter()
        .find_map(|c| match &c.outcome {
            preflight::Outcome::Unknown { why } => Some(why.clone()),
            _ => None,
        })
        .unwrap_or_else(|| list.line())
}

fn blocker_text(b: Blocker) -> &'static str {
    match b {
        Blocker::NeedsReconsent => "needs re-consent",
        Blocker::SecretExpired => "has an expired client secret",
        Blocker::BadClient => "has app credentials Microsoft refuses",
    }
}

impl Error {
    /// The app credential this error is about, if Microsoft named one (wrong secret, client
    /// ID not in the tenant, unknown tenant).
    pub fn credential_field(&self) -> Option<crate::services::oauth::CredentialField> {
        match self {
            Error::OAuth { source, .. } => source.credential_field(),
            Error::Preflight(list) => list.field_to_fix(),
            _ => None,
        }
    }

    /// What to do next, in words (no command syntax: the CLI adds [`Error::fix`]'s command
    /// line, the app the key that does it).
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::OAuth { source, .. } => source.hint(),
            Error::Blocked {
                blocker: Blocker::BadClient,
                ..
            } => Some(
                "a secret: paste its Value again; a certificate: upload it under Certificates & secrets → Certificates".to_string(),
            ),
            Error::Blocked { .. } | Error::NotSignedIn { .. } => self.fix().map(|f| f.advice()),
            Error::Probe { source, .. } | Error::Upstream { source, .. } => Some(source.hint()),
            Error::Device { hint, .. } => hint.clone(),
            Error::Preflight(list) => list.failure().and_then(|c| match &c.outcome {
                preflight::Outcome::Failed { fix, .. } => Some(fix.words.clone()),
                _ => None,
            }),
            // Only a sign-in meets this: the app-only steps are the answer (each face words them).
            Error::AppOnly { .. } => Some(
                "get a token, test it with Test & Confirm, and do the Exchange side (the Exchange setup)".into(),
            ),
            Error::NeedsAdminConsent(n) => Some(n.words()),
            Error::Refused { error, hint, .. } => hint.clone().or_else(|| {
                (error == "access_denied")
                    .then(|| "the sign-in was cancelled or consent refused: connect again and accept".to_string())
            }),
            Error::NoAnswer {
                registered,
                public_client,
                ..
            } => Some(format!(
                "if Microsoft's page showed AADSTS50011, register {registered} under Authentication → {} (changes take 3–5 minutes); if it said \"Need admin approval\", an admin grants consent first; over SSH use the tunnel or paste the address the browser ended on",
                if *public_client {
                    "Mobile and desktop applications"
                } else {
                    "Web"
                }
            )),
            Error::WrongAnswer {
                expected: Flow::SignIn,
                ..
            }
            | Error::SignInUsed { .. } => Some("start the sign-in again".into()),
            Error::WrongAnswer {
                expected: Flow::AdminConsent,
                ..
            } => Some("run the admin consent again".into()),
            Error::CommonTenant { .. } => self.fix().map(|f| f.advice()),
            Error::AdminRefused {
                reason: AdminRefusal::Cancelled,
                link,
                ..
            } => Some(format!("run it again and accept, or send this link to an admin: {link}")),
            Error::AdminRefused {
                reason: AdminRefusal::NotAdmin,
                link,
                ..
            } => Some(format!(
                "sign in as a {}, or send this link to one: {link}",
                admin_consent::ADMIN_ROLES
            )),
            Error::NotAppOnly { .. } => Some(
                "only app-only servers (OAuth2.0 app-only: the app's own credentials, no sign-in) need the Exchange setup".into(),
            ),
            Error::NoPassword { .. } => Some("Basic logs in with the mailbox's password: store it".into()),
            _ => None,
        }
    }

    /// The action that fixes this, when one does.
    pub fn fix(&self) -> Option<Fix> {
        match self {
            Error::Device { fix, .. } => fix.as_deref().cloned(),
            Error::NoCertificate {
                app,
                why: CertMissing::Replaced,
            } => Some(Fix::UseCertificate { app: app.clone() }),
            Error::NoCertificate { app, .. } => Some(Fix::NewCertificate { app: app.clone() }),
            Error::OAuth { source, .. } => source.fix(),
            Error::AppOnly { server } => Some(Fix::Test {
                server: server.clone(),
            }),
            Error::NeedsAdminConsent(n) => Some(Fix::AdminConsent {
                server: n.server.clone(),
            }),
            Error::Preflight(list) => list.failure().and_then(|c| match &c.outcome {
                preflight::Outcome::Failed { fix, .. } => fix.fix.clone(),
                _ => None,
            }),
            Error::NotSignedIn { server } => Some(Fix::SignIn {
                server: server.clone(),
            }),
            Error::Blocked {
                server,
                blocker: Blocker::NeedsReconsent,
                ..
            } => Some(Fix::Connect {
                server: server.clone(),
            }),
            Error::Blocked {
                blocker: Blocker::BadClient,
                app,
                ..
            } => Some(Fix::AppCredentials { app: app.clone() }),
            Error::Blocked { app, .. } => Some(Fix::NewSecret {
                app: Some(app.clone()),
            }),
            Error::NoCredential { app } => Some(Fix::AppCredentials { app: app.clone() }),
            Error::WrongAnswer {
                server,
                expected: Flow::SignIn,
            }
            | Error::SignInUsed { server } => Some(Fix::Connect {
                server: server.clone(),
            }),
            Error::WrongAnswer {
                server,
                expected: Flow::AdminConsent,
            } => Some(Fix::AdminConsent {
                server: server.clone(),
            }),
            Error::CommonTenant { app } => Some(Fix::Tenant { app: app.clone() }),
            Error::NoPassword { server } => Some(Fix::Password {
                server: server.clone(),
            }),
            Error::Probe {
                source: ProbeError::AppOnlyRejected { rejection, .. },
                ..
            } => Some(Fix::ExchangeRefused(rejection.clone())),
            Error::Probe {
                server,
                source: ProbeError::Tls { .. } | ProbeError::CaFile { .. },
            } => Some(Fix::CaFile {
                server: server.clone(),
            }),
            _ => None,
        }
    }
}

impl From<FieldError> for Error {
    fn from(e: FieldError) -> Self {
        Error::Invalid(vec![e])
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A stored server by name.
pub fn server_named(config: &Config, name: &str) -> Result<Server> {
    config.server(name).cloned().ok_or_else(|| Error::NotFound {
        kind: "server",
        name: name.into(),
    })
}

/// An OAuth2 server together with its Azure app.
pub fn oauth_target(config: &Config, name: &str) -> Result<(Server, AzureApp)> {
    let server = server_named(config, name)?;
    if !server.auth.is_oauth() {
        return Err(Error::NotOAuth { server: name.into() });
    }
    let app = config.app_of(&server).cloned().ok_or_else(|| Error::NotFound {
        kind: "Azure app",
        name: server.app.clone().unwrap_or_default(),
    })?;
    Ok((server, app))
}

/// A server someone can sign in for: delegated OAuth2 only (app-only has no user).
pub fn signin_target(config: &Config, name: &str) -> Result<(Server, AzureApp)> {
    let (server, app) = oauth_target(config, name)?;
    if server.auth == AuthKind::OAuth2App {
        return Err(Error::AppOnly { server: name.into() });
    }
    Ok((server, app))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sign-in errors that once were one `Consent(String)`: words in the message and the
    /// hint (the TUI shows both), a command only in `fix()`.
    #[test]
    fn sign_in_errors_keep_commands_in_their_fix() {
        let server = || "S".to_string();
        let errors = [
            Error::Refused {
                error: "access_denied".into(),
                description: "AADSTS65004: declined\nTrace ID: x".into(),
                hint: None,
            },
            Error::NoAnswer {
                timeout: std::time::Duration::from_secs(1),
                registered: "http://localhost/microsoft_outlook/confirm".into(),
                public_client: false,
                server: server(),
            },
            Error::WrongAnswer {
                server: server(),
                expected: Flow::SignIn,
            },
            Error::WrongAnswer {
                server: server(),
                expected: Flow::AdminConsent,
            },
            Error::SignInUsed { server: server() },
            Error::CommonTenant { app: "A".into() },
            Error::AdminRefused {
                reason: AdminRefusal::NotAdmin,
                detail: "AADSTS90094".into(),
                link: "https://login.example/adminconsent".into(),
            },
            Error::NotAppOnly { server: server() },
            Error::NoPassword { server: server() },
        ];
        for e in &errors {
            let words = format!("{e} {}", e.hint().unwrap_or_default());
            assert!(!words.contains("inbound ") && !words.contains("--"), "{words}");
        }
        assert_eq!(
            errors[0].to_string(),
            "sign-in: Microsoft answered access_denied: AADSTS65004: declined"
        );
        assert_eq!(errors[5].fix(), Some(Fix::Tenant { app: "A".into() }));
        assert_eq!(errors[3].fix(), Some(Fix::AdminConsent { server: server() }));
    }
}
