//! Certificate credentials for an app: make a key pair and a self-signed certificate (or
//! import one), keep the key in the store, and reference it from the app record. From then
//! on every token request of the app sends a client assertion instead of the secret.

use super::{Error, Result};
use crate::model::validate::{self, FieldError};
use crate::model::{AppCertificate, AzureApp, Blocker, DEFAULT_AUTHORITY};
use crate::services::cert::{self, NewCertificate};
use crate::store::Store;
use jiff::Timestamp;
use std::path::PathBuf;

/// Default lifetime of `cert new`: the admin may choose any up to [`cert::MAX_MONTHS`].
pub const DEFAULT_MONTHS: u32 = 24;

/// Where the certificate comes from.
#[derive(Debug, Clone)]
pub enum CertSource {
    /// A new RSA key and self-signed certificate valid this many months.
    New { months: u32 },
    /// An existing key and certificate, both in this PEM text.
    Import(crate::secret::Secret),
}

/// For an app not stored yet (a tenant that forbids secrets never had one to add it with).
#[derive(Debug, Clone, Default)]
pub struct NewApp {
    pub client_id: String,
    pub tenant: String,
    pub authority: Option<String>,
}

/// What was installed.
#[derive(Debug, Clone)]
pub struct Installed {
    pub app: AzureApp,
    pub created_app: bool,
    /// The public certificate to upload (Certificates & secrets → Certificates).
    pub cert_pem: String,
    /// The same certificate as a file in the store, for `az ad app credential reset --cert @FILE`.
    pub cert_path: PathBuf,
    pub thumbprint: String,
    pub not_after: Timestamp,
}

fn made(source: &CertSource, app_name: &str) -> Result<NewCertificate> {
    let r = match source {
        CertSource::New { months } => cert::generate(&format!("inbound {app_name}"), *months),
        CertSource::Import(pem) => cert::import(pem.expose()),
    };
    r.map_err(|e| match e {
        cert::CertError::Input(m) => FieldError::new(crate::model::validate::Field::Certificate, m).into(),
        other => Error::Io(other.to_string()),
    })
}

/// The app record `new_app` describes, validated (name, client ID, tenant, authority).
fn new_app_record(app_name: &str, n: &NewApp) -> Result<AzureApp> {
    let name = validate::server_name(app_name)
        .map_err(|e| FieldError::new(crate::model::validate::Field::AppName, e.message))?;
    Ok(AzureApp {
        public_client: false,
        admin_consent_at: None,
        name,
        client_id: validate::client_id(&n.client_id)?,
        tenant: validate::tenant(&n.tenant)?,
        secret: None,
        secret_expires: None,
        authority: validate::authority(n.authority.as_deref().unwrap_or(DEFAULT_AUTHORITY))?,
        certificate: None,
    })
}

/// The app to create, when `app_name` is not stored: `Ok(None)` when it is, an error when it
/// is not and `new_app` does not describe a valid one.
fn app_to_create(
    config: &crate::model::Config,
    app_name: &str,
    new_app: Option<&NewApp>,
) -> Result<Option<AzureApp>> {
    match (config.app(app_name).is_some(), new_app) {
        (true, _) => Ok(None),
        (false, Some(n)) => new_app_record(app_name, n).map(Some),
        (false, None) => Err(FieldError::new(
            crate::model::validate::Field::AzureApp,
            format!("no Azure app named \"{app_name}\": give its --client-id and --tenant to create it with this certificate"),
        )
        .into()),
    }
}

/// Installs a certificate for app `app_name` (creating the app from `new_app` when given
/// and no such app exists). Servers that were blocked on the old credential recover.
///
/// Everything the user gave is checked before a key is made, so a refusal leaves nothing;
/// the key is written in the same store transaction that makes the app reference it, and
/// that transaction's sweep removes the key it replaces.
pub fn install_certificate(
    store: &Store,
    app_name: &str,
    source: &CertSource,
    new_app: Option<&NewApp>,
) -> Result<Installed> {
    // Checked first, outside the lock: the app, or what creates it.
    app_to_create(&store.load()?, app_name, new_app)?;
    // Key generation takes a moment: done before any lock is taken.
    let made = made(source, app_name)?;
    let id = crate::model::new_server_id();
    let record = AppCertificate {
        id: id.clone(),
        thumbprint: made.info.thumbprint.clone(),
        x5t: made.info.x5t.clone(),
        x5t_s256: made.info.x5t_s256.clone(),
        not_after: made.info.not_after,
        key_file: Some(store.certificate_key_path(&id)),
    };
    let committed = store.update(|config| {
        // Again under the lock: the store may have changed while the key was made.
        let created = match app_to_create(config, app_name, new_app)? {
            Some(app) => {
                config.apps.push(app);
                true
            }
            None => false,
        };
        let users: Vec<crate::model::Server> = config
            .servers
            .iter()
            .filter(|s| s.app.as_deref() == Some(app_name))
            .cloned()
            .collect();
        let app = config.app_mut(app_name).ok_or_else(|| Error::NotFound {
            kind: "Azure app",
            name: app_name.into(),
        })?;
        app.certificate = Some(record.clone());
        let app = app.clone();
        // Last, so that nothing after it in this closure can fail.
        store.write_certificate(&id, &made.key_pem, &made.cert_pem)?;
        Ok::<_, Error>((app, created, users))
    });
    let (app, created_app, users) = match committed {
        Ok(v) => v,
        Err(e) => {
            // Not referenced by any app: nothing may keep it.
            store.discard_certificate(&id);
            return Err(e);
        }
    };
    for server in users {
        store.update_tokens(&server, |f| {
            if matches!(f.blocker, Some(Blocker::SecretExpired | Blocker::BadClient)) {
                f.blocker = None;
                f.last_error = None;
            }
            Ok::<_, Error>(())
        })?;
    }
    tracing::info!(app = app_name, thumbprint = %made.info.thumbprint, "certificate installed");
    Ok(Installed {
        app,
        created_app,
        cert_pem: made.cert_pem,
        cert_path: store.certificate_path(&id),
        thumbprint: made.info.thumbprint,
        not_after: made.info.not_after,
    })
}

/// The public certificate of an app (to upload again, or to compare thumbprints).
pub fn certificate_of(store: &Store, app_name: &str) -> Result<(AppCertificate, String)> {
    let config = store.load()?;
    let app = config.app(app_name).ok_or_else(|| Error::NotFound {
        kind: "Azure app",
        name: app_name.into(),
    })?;
    let c = app.certificate.clone().ok_or_else(|| {
        Error::from(FieldError::new(
            crate::model::validate::Field::Certificate,
            format!("app \"{app_name}\" has no certificate: inbound cert new \"{app_name}\""),
        ))
    })?;
    let pem = store.read_certificate(&c.id)?.ok_or_else(|| {
        Error::Io(format!(
            "the certificate file of app \"{app_name}\" is missing: inbound cert new \"{app_name}\""
        ))
    })?;
    Ok((c, pem))
}
