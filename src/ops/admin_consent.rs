//! Admin consent: on most tenants since late 2025 users cannot consent to
//! `IMAP.AccessAsUser.All` themselves (microsoft-facts §9), so a sign-in that stops at "Need
//! admin approval" leads here. Two routes (§8): an admin grants it now through the v2 admin
//! consent page, answered to the same listener with its own `state`; or the user sends the
//! simple link to an admin. Either way the user sign-in is retried afterwards.

use super::listening::{ConsentOptions, Heard, Listening, PasteProblem, check_state, denied, link_answer};
use super::paste::{self, Pasted};
use super::{Error, Result};
use crate::model::{AzureApp, Server};
use crate::services::oauth::diagnose;
use crate::services::oauth::listener::Callback;
use crate::store::Store;
use jiff::Timestamp;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Roles that may grant tenant-wide consent to IMAP (microsoft-facts §8, [MS-GRANTADMIN]).
pub const ADMIN_ROLES: &str =
    "Cloud Application Administrator, Application Administrator or Privileged Role Administrator";

/// A sign-in that needs an admin's approval first, with both ways forward.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminConsentNeeded {
    pub server: String,
    pub app: String,
    /// The simple link to send an admin (`{authority}/{tenant}/adminconsent?client_id=…`).
    pub admin_link: String,
    /// Microsoft's words (first line, cleaned), e.g. "AADSTS90094: …".
    pub microsoft: String,
    /// Microsoft said only that consent was declined (AADSTS65004). Entra answers so both when
    /// the user pressed Cancel and when they left "Need admin approval" by "Return to the
    /// application", so both ways forward are offered: accept, or the admin's.
    pub declined: bool,
}

impl AdminConsentNeeded {
    /// `redirect`: the redirect URI as registered, where the admin link's answer comes back.
    pub(crate) fn error(server: &Server, app: &AzureApp, redirect: &str, microsoft: &str) -> Error {
        Error::NeedsAdminConsent(Box::new(Self::new(server, app, redirect, microsoft, false)))
    }

    /// A declined consent (AADSTS65004): maybe a Cancel, maybe "Need admin approval".
    pub(crate) fn declined(server: &Server, app: &AzureApp, redirect: &str, microsoft: &str) -> Error {
        Error::NeedsAdminConsent(Box::new(Self::new(server, app, redirect, microsoft, true)))
    }

    fn new(server: &Server, app: &AzureApp, redirect: &str, microsoft: &str, declined: bool) -> Self {
        Self {
            server: server.name.clone(),
            app: app.name.clone(),
            admin_link: app.admin_consent_link(redirect),
            microsoft: crate::sanitize::peer_text(microsoft),
            declined,
        }
    }

    /// Both routes in words (each face adds its way to take them: the CLI its commands, the
    /// app its admin consent screen). The link stands alone at the end, to be copied whole.
    pub fn words(&self) -> String {
        let again = if self.declined {
            "if you pressed Cancel, connect again and accept; or, if Microsoft said \"Need admin approval\", an admin must grant it: "
        } else {
            ""
        };
        format!(
            "{again}either, if you are an admin ({ADMIN_ROLES}), grant it for the organization (the sign-in follows at once), or send this link to your admin; after accepting, their browser ends on an address with admin_consent=True (the page itself may not load): paste it at the sign-in to record the grant, or just connect again:\n{}",
            self.admin_link
        )
    }
}

impl std::fmt::Display for AdminConsentNeeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.declined {
            write!(
                f,
                "\"{}\": consent to IMAP for app \"{}\" was declined in the browser: either Cancel was pressed, or Microsoft said \"Need admin approval\" (most tenants now let only an admin consent, once for the organization)",
                self.server, self.app
            )?;
        } else {
            write!(
                f,
                "\"{}\" needs admin approval: this tenant does not let users consent to IMAP for app \"{}\" themselves (most tenants now work this way), so an admin grants it once for the organization",
                self.server, self.app
            )?;
        }
        if !self.microsoft.is_empty() {
            write!(f, " (Microsoft: {})", self.microsoft)?;
        }
        Ok(())
    }
}

/// An admin consent waiting for the browser.
pub struct AdminConsent {
    pub server: Server,
    pub app: AzureApp,
    /// The v2 admin consent URL to open (copyable; show it whole).
    pub url: String,
    /// The listener, with this flow's own `state` (never the sign-in's).
    listening: Listening,
}

impl std::fmt::Debug for AdminConsent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminConsent")
            .field("server", &self.server.name)
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// What a granted admin consent recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminGranted {
    pub app: String,
    pub at: Timestamp,
    /// The tenant the browser reported: shown, never trusted for anything.
    pub reported_tenant: String,
    /// Set when the reported tenant is visibly another organization than the app's (both
    /// GUIDs, different): the admin may have signed in to the wrong directory.
    pub warning: Option<String>,
}

/// Binds the listener (with a `state` of its own) and builds the v2 admin consent URL for the
/// app of server `name`.
pub async fn begin_admin_consent(store: &Store, name: &str, opts: &ConsentOptions) -> Result<AdminConsent> {
    let config = store.load()?;
    let (server, app) = super::oauth_target(&config, name)?;
    if app.tenant.eq_ignore_ascii_case("common") {
        // Microsoft: the v2 admin consent endpoint must not be used with `common` (§8).
        return Err(Error::CommonTenant { app: app.name });
    }
    let listening = Listening::open(&config.settings, opts, &server, &app).await?;
    let url = app.admin_consent_v2_url(&listening.redirect_uri, &listening.state);
    listening.listener.set_start_target(&url);
    Ok(AdminConsent {
        server,
        app,
        url,
        listening,
    })
}

impl AdminConsent {
    pub fn port(&self) -> u16 {
        self.listening.port()
    }

    /// Waits for the admin's answer (at most `timeout`, or until `cancel`) and records the
    /// grant on the app.
    pub async fn wait(
        self,
        store: &Store,
        timeout: Duration,
        cancel: CancellationToken,
    ) -> Result<AdminGranted> {
        self.wait_any(store, timeout, cancel, None, |_| {}).await
    }

    /// Like [`AdminConsent::wait`], but also accepts the address the admin's browser ended on,
    /// pasted by the user (over SSH without a tunnel); whichever arrives first wins. A paste
    /// that cannot be used is reported through `rejected` and the wait goes on. The receiver
    /// is borrowed: the user sign-in after this reads the same pastes.
    pub async fn wait_any(
        mut self,
        store: &Store,
        timeout: Duration,
        cancel: CancellationToken,
        pasted: Option<&mut mpsc::Receiver<String>>,
        mut rejected: impl FnMut(String),
    ) -> Result<AdminGranted> {
        let state = self.listening.state.clone();
        let heard = self
            .listening
            .wait(timeout, &cancel, pasted, |text| {
                match check_pasted(text, &state) {
                    Ok(answer) => Ok(Some(answer)),
                    Err(PasteProblem::Fatal(e)) => Err(e),
                    Err(PasteProblem::Retry(msg)) => {
                        rejected(msg);
                        Ok(None)
                    }
                }
            })
            .await?;
        let (Heard::Browser(answer) | Heard::Pasted(answer)) = heard;
        self.listening.listener.shutdown().await;
        match answer {
            Callback::AdminConsented { tenant } => granted(store, &self.app, tenant),
            Callback::Denied { error, description } => Err(self.refusal(&error, &description)),
            Callback::Code { .. } => Err(Error::WrongAnswer {
                server: self.server.name.clone(),
                expected: super::Flow::AdminConsent,
            }),
        }
    }

    fn refusal(&self, error: &str, description: &str) -> Error {
        tracing::warn!(app = %self.app.name, error, description, "admin consent refused");
        let codes = diagnose::codes_in_text(description);
        let first = description.lines().next().unwrap_or("").trim();
        let refused = |reason| Error::AdminRefused {
            reason,
            detail: first.to_string(),
            link: self.app.admin_consent_link(&self.listening.registered_redirect),
        };
        if codes.contains(&65004) {
            refused(super::AdminRefusal::Cancelled)
        } else if diagnose::needs_admin_consent(&codes) {
            refused(super::AdminRefusal::NotAdmin)
        } else {
            denied(error, description)
        }
    }
}

/// A pasted address as if it had reached the listener of the admin consent with `state`.
fn check_pasted(text: &str, state: &str) -> std::result::Result<Callback, PasteProblem> {
    let pasted = paste::parse(text).map_err(PasteProblem::Retry)?;
    if let Some(tenant) = link_answer(&pasted) {
        return Ok(Callback::AdminConsented { tenant });
    }
    check_state(&pasted, state)?;
    match pasted {
        Pasted::AdminConsented { tenant, .. } => Ok(Callback::AdminConsented { tenant }),
        Pasted::Error {
            error, description, ..
        } => Ok(Callback::Denied { error, description }),
        Pasted::Code { .. } => Err(PasteProblem::Retry(
            "that is a sign-in address; paste the address the admin consent ended on (it has admin_consent=True)".into(),
        )),
    }
}

/// Records on `app` the grant the browser reported.
pub(crate) fn granted(store: &Store, app: &AzureApp, tenant: String) -> Result<AdminGranted> {
    let at = Timestamp::now();
    record(store, &app.name, at)?;
    tracing::info!(app = %app.name, reported_tenant = %tenant, "admin consent granted");
    let warning = other_tenant(&app.tenant, &tenant);
    Ok(AdminGranted {
        app: app.name.clone(),
        at,
        reported_tenant: tenant,
        warning,
    })
}

/// A warning when the reported tenant is visibly not the app's (both GUIDs, different).
fn other_tenant(app_tenant: &str, reported: &str) -> Option<String> {
    use crate::model::validate::is_guid;
    (is_guid(app_tenant) && is_guid(reported) && !reported.eq_ignore_ascii_case(app_tenant)).then(|| {
        format!(
            "the browser reported consent in tenant {reported}, but the app's tenant is {app_tenant}: if the sign-in still stops at \"Need admin approval\", the admin signed in to another organization"
        )
    })
}

/// Records on the app that an admin granted consent at `at`.
pub fn record(store: &Store, app: &str, at: Timestamp) -> Result<()> {
    store.update(|config| {
        let a = config.app_mut(app).ok_or_else(|| Error::NotFound {
            kind: "Azure app",
            name: app.into(),
        })?;
        a.admin_consent_at = Some(at);
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Config;
    use crate::ops::servers::{AppChoice, AppInput, ServerInput, validate_server};

    fn app() -> AzureApp {
        AzureApp {
            certificate: None,
            name: "Contoso mail".into(),
            client_id: "2c7f5e1a-84b3-4d69-a0e2-9b1c3d7f6a58".into(),
            tenant: "contoso.com".into(),
            secret: None,
            secret_expires: None,
            authority: "https://login.microsoftonline.com/".into(),
            public_client: true,
            admin_consent_at: None,
        }
    }

    #[test]
    fn the_v2_url_carries_every_parameter_encoded() {
        let url = app().admin_consent_v2_url("http://localhost:8400/microsoft_outlook/confirm", "st");
        let parsed = url::Url::parse(&url).unwrap();
        assert_eq!(parsed.path(), "/contoso.com/v2.0/adminconsent");
        let q: std::collections::HashMap<_, _> = parsed.query_pairs().into_owned().collect();
        assert_eq!(q["client_id"], "2c7f5e1a-84b3-4d69-a0e2-9b1c3d7f6a58");
        assert_eq!(q["scope"], crate::model::ADMIN_CONSENT_SCOPE);
        assert_eq!(
            q["redirect_uri"],
            "http://localhost:8400/microsoft_outlook/confirm"
        );
        assert_eq!(q["state"], "st");
        assert!(!url.contains(' '), "{url}");
    }

    #[test]
    fn another_organization_is_only_a_warning() {
        let a = "aaaabbbb-0000-cccc-1111-dddd2222eeee";
        let b = "bbbbbbbb-0000-cccc-1111-dddd2222eeee";
        assert!(other_tenant(a, b).is_some_and(|w| w.contains(b) && w.contains(a)));
        assert_eq!(other_tenant(a, &a.to_uppercase()), None);
        // A domain cannot be compared with a GUID: nothing said.
        assert_eq!(other_tenant("contoso.com", b), None);
        assert_eq!(other_tenant(a, ""), None);
    }

    #[test]
    fn the_need_names_both_routes() {
        let server = Server {
            id: String::new(),
            name: "Support".into(),
            server_type: Default::default(),
            auth: crate::model::AuthKind::OAuth2,
            host: "h".into(),
            port: 993,
            ssl: true,
            username: "s@contoso.com".into(),
            sign_in_as: None,
            app: Some("Contoso mail".into()),
            password: None,
            ca_file: None,
            state: Default::default(),
            last_test: None,
        };
        let Error::NeedsAdminConsent(n) = AdminConsentNeeded::error(
            &server,
            &app(),
            crate::model::LOOPBACK_REDIRECT_URI,
            "AADSTS90094: x\u{1b}[2J",
        ) else {
            panic!("not the admin consent step")
        };
        assert!(n.to_string().contains("needs admin approval") && n.to_string().contains("AADSTS90094"));
        assert!(!n.microsoft.contains('\u{1b}'));
        let routes = n.words();
        // The link brings its answer back to the registered redirect URI, to be pasted.
        assert!(
            routes.contains(
                "https://login.microsoftonline.com/contoso.com/v2.0/adminconsent?client_id=2c7f5e1a"
            ),
            "{routes}"
        );
        assert!(
            routes.contains("redirect_uri=http%3A%2F%2Flocalhost%2Fmicrosoft_outlook%2Fconfirm"),
            "{routes}"
        );
        assert!(
            routes.contains("admin_consent=True") && routes.contains("to record the grant"),
            "{routes}"
        );
    }

    fn input(public: bool, secret: Option<&str>, sign_in_as: Option<&str>) -> ServerInput {
        ServerInput {
            name: "Shared".into(),
            username: "shared@contoso.com".into(),
            sign_in_as: sign_in_as.map(str::to_string),
            app: Some(AppChoice::New(AppInput {
                client_id: "2c7f5e1a-84b3-4d69-a0e2-9b1c3d7f6a58".into(),
                tenant: "contoso.com".into(),
                secret: secret.map(crate::secret::Secret::new),
                public_client: public,
                ..AppInput::default()
            })),
            ..ServerInput::default()
        }
    }

    #[test]
    fn public_clients_and_delegates_are_validated() {
        let config = Config::default();
        let (server, app) = validate_server(&input(true, None, Some("Boss@Contoso.com")), &config).unwrap();
        let app = app.unwrap();
        assert!(app.public_client && app.secret.is_none());
        assert_eq!(server.sign_in_as.as_deref(), Some("Boss@Contoso.com"));
        assert_eq!(server.sign_in_account(), "Boss@Contoso.com");
        // The mailbox itself is no delegate.
        let (server, _) = validate_server(&input(true, None, Some("SHARED@contoso.com")), &config).unwrap();
        assert_eq!(server.sign_in_as, None);
        assert_eq!(server.sign_in_account(), "shared@contoso.com");
        let errors = validate_server(
            &input(
                true,
                Some("abc8Q~0123456789012345678901234567890123"),
                Some("nope"),
            ),
            &config,
        )
        .unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field).collect();
        assert!(
            fields.contains(&crate::model::validate::Field::Secret)
                && fields.contains(&crate::model::validate::Field::SignInAs),
            "{errors:?}"
        );
        // A confidential app still needs its secret.
        let errors = validate_server(&input(false, None, None), &config).unwrap_err();
        assert!(
            errors
                .iter()
                .any(|e| e.field == crate::model::validate::Field::Secret),
            "{errors:?}"
        );
    }
}
