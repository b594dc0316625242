//! `inbound demo`: the whole flow without a tenant. Stand-ins for the two far ends — a
//! sign-in service shaped like Entra's v2.0 endpoints ([`entra`]) and an IMAP server over TLS
//! ([`imap`]) with a certificate made at start-up ([`cert`]) — run inside the process on
//! loopback ports; everything between them is the real product on a temporary store.

pub mod browser;
pub mod cert;
pub mod entra;
pub mod imap;
mod run;
mod seed;

pub use run::{Options, run};

use crate::store::Store;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use thiserror::Error;

/// The demo's app registration (shaped like real ones; known only to the stand-in).
pub const CLIENT_ID: &str = "2c7f5e1a-84b3-4d69-a0e2-9b1c3d7f6a58";
pub const CLIENT_SECRET: &str = "Dm8Q~demo.Secret.Value-only.for.the.stand-in";
pub const TENANT: &str = "contoso.onmicrosoft.com";
/// The app a newcomer registers in the demo's wizard (by the portal or Cloud Shell): new to
/// the tenant, so no admin has approved it yet.
pub const NEW_CLIENT_ID: &str = "8d3b6f0e-5a21-4c7e-9f48-1e2d7c9b0a63";
pub const NEW_CLIENT_SECRET: &str = "Nw5Q~demo.Secret.of.the.app.you.register";
/// The account that signs in at the wizard's Connect step.
pub const USER: &str = "support@contoso.com";
/// A second account, whose seeded server is Confirmed and whose app's secret expires soon.
pub const HELPDESK: &str = "helpdesk@contoso.com";
/// A mailbox no demo account may open: its seeded server fails Test & Confirm.
pub const SHARED: &str = "sales@contoso.com";
/// The host the demo servers use (the certificate names it).
pub const HOST: &str = "127.0.0.1";

#[derive(Debug, Error)]
pub enum DemoError {
    #[error("cannot make the demo certificate: {0}")]
    Cert(#[from] openssl::error::ErrorStack),
    #[error("cannot start the demo IMAP server: {0}")]
    Imap(#[from] imap::ImapError),
    #[error("{0}")]
    Io(String),
    #[error("setting up the demo servers: {0}")]
    Seed(#[from] crate::ops::Error),
    #[error("setting up the demo servers: {0}")]
    Browser(#[from] browser::BrowserError),
}

fn io(what: &str, path: &Path, e: std::io::Error) -> DemoError {
    DemoError::Io(format!("{what} {}: {e}", path.display()))
}

/// The stand-ins, running until dropped.
pub struct StandIns {
    pub entra: entra::Shared,
    pub idp: entra::Running,
    pub imap: imap::DemoImap,
    /// The PEM file that trusts the IMAP server's certificate.
    pub ca_file: PathBuf,
}

impl StandIns {
    /// Starts both on `127.0.0.1` (random ports) and writes the CA file into `dir`.
    pub async fn start(dir: &Path) -> Result<Self, DemoError> {
        let tls = cert::make()?;
        let ca_file = dir.join("demo-ca.pem");
        std::fs::write(&ca_file, &tls.ca_pem).map_err(|e| io("cannot write", &ca_file, e))?;
        // The verification URI names the port, which exists only once bound: set it after.
        let entra = entra::Shared::new(entra::Entra::new(entra::Settings {
            client_id: CLIENT_ID.into(),
            client_secret: CLIENT_SECRET.into(),
            accounts: vec![USER.into(), HELPDESK.into()],
            tenant: Some(TENANT.into()),
            granted_scope: entra::GRANTED_SCOPE.into(),
            access_lifetime: 3599,
            device_interval: 2,
            device_expires_in: 900,
            verification_uri: String::new(),
            sign_in_page: true,
            app_roles: Vec::new(),
            certificates: Vec::new(),
            // Microsoft's default since late 2025: only an admin may consent to IMAP, so the
            // wizard's new app meets "Need admin approval" and the admin consent screen.
            user_consent_allowed: false,
            signed_in_user_is_admin: true,
            public_client: false,
            redirect_uris: entra::redirect::default_registered(),
        }));
        let idp = entra::serve(Arc::new(entra.clone()))
            .await
            .map_err(|e| DemoError::Io(format!("cannot start the demo sign-in service: {e}")))?;
        {
            let mut e = entra.lock();
            e.settings.verification_uri = format!("{}{}", idp.authority(), entra::DEVICE_LOGIN_PATH);
            e.register_app(NEW_CLIENT_ID, NEW_CLIENT_SECRET);
            // The seeded servers' app was approved for the organization long ago.
            e.grant_admin_consent(CLIENT_ID);
        }
        let check_entra = entra.clone();
        let check: imap::TokenCheck = Arc::new(move |token: &str| {
            let e = check_entra.lock();
            e.access_grant(token)
                .filter(|g| g.live() && g.scope.contains(entra::IMAP_SCOPE))
                .map(|g| g.account.clone())
        });
        let mailboxes = HashMap::from([(USER.to_string(), 3), (HELPDESK.to_string(), 12)]);
        let imap = imap::DemoImap::start(&tls, mailboxes, check).await?;
        Ok(Self {
            entra,
            idp,
            imap,
            ca_file,
        })
    }

    pub fn authority(&self) -> String {
        self.idp.authority()
    }
}

/// The setup code the setup script would print in Cloud Shell for the app it registered at
/// the stand-in (its client ID, tenant and secret; the secret expires on `secret_expires`,
/// `YYYY-MM-DD`): the demo plays Cloud Shell with it. Admin consent is left to the sign-in,
/// as when the one who ran the script is no admin.
pub fn setup_code(s: &StandIns, secret_expires: &str) -> crate::secret::Secret {
    let secret = s
        .entra
        .lock()
        .secret_of(NEW_CLIENT_ID)
        .unwrap_or_default()
        .to_owned();
    crate::ops::setup::SetupCode {
        tenant: TENANT.into(),
        client_id: NEW_CLIENT_ID.into(),
        secret: Some(crate::secret::Secret::new(secret)),
        secret_expires: secret_expires.parse().ok(),
        redirect_uri: Some(crate::model::registered_redirect_uri(
            &crate::model::Settings::default(),
        )),
        public_client: false,
        admin_consent: false,
        app_only: false,
        mailboxes: Vec::new(),
    }
    .encode()
}

/// Where the demo keeps its files: a temporary directory removed on drop, or `--keep DIR`.
enum Root {
    Temp(tempfile::TempDir),
    Kept(PathBuf),
}

impl Root {
    fn path(&self) -> &Path {
        match self {
            Root::Temp(t) => t.path(),
            Root::Kept(p) => p,
        }
    }
}

/// A running demo: stand-ins, and a seeded store of its own.
pub struct Demo {
    pub stand_ins: StandIns,
    pub store: Store,
    pub store_dir: PathBuf,
    root: Root,
}

impl Demo {
    /// Starts the stand-ins and seeds a fresh store (in `keep`, which must be empty or
    /// missing, else in a temporary directory).
    pub async fn start(keep: Option<PathBuf>) -> Result<Self, DemoError> {
        let root = match keep {
            Some(dir) => {
                let used = std::fs::read_dir(&dir)
                    .map(|mut d| d.next().is_some())
                    .unwrap_or(false);
                if used {
                    return Err(DemoError::Io(format!(
                        "--keep {}: the directory is not empty; name a new or empty one",
                        dir.display()
                    )));
                }
                // Private like any store: it holds the demo's secrets and tokens.
                crate::store::atomic::create_private_dir(&dir).map_err(|e| io("cannot create", &dir, e))?;
                {
                    use std::os::unix::fs::PermissionsExt as _;
                    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
                        .map_err(|e| io("cannot make private", &dir, e))?;
                }
                // The store records the CA file's path: relative would depend on the cwd.
                let dir = std::path::absolute(&dir).map_err(|e| io("cannot resolve", &dir, e))?;
                Root::Kept(dir)
            }
            None => Root::Temp(
                tempfile::Builder::new()
                    .prefix("inbound-demo-")
                    .tempdir()
                    .map_err(|e| DemoError::Io(format!("cannot make a temporary directory: {e}")))?,
            ),
        };
        let stand_ins = StandIns::start(root.path()).await?;
        let store_dir = root.path().join("store");
        let store = Store::open(Some(store_dir.clone())).map_err(|e| DemoError::Io(e.to_string()))?;
        seed::seed(&store, &stand_ins).await?;
        Ok(Self {
            stand_ins,
            store,
            store_dir,
            root,
        })
    }

    /// The directory that holds everything (removed on drop unless kept).
    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// True when `--keep` asked to leave the files.
    pub fn kept(&self) -> bool {
        matches!(self.root, Root::Kept(_))
    }
}
