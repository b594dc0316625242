//! Certificate credentials for an app: make a key pair and a self-signed certificate (or
//! import one), keep the key in the store, and reference it from the app record. From then
//! on every token request of the app sends a client assertion instead of the secret.

use super::credentials::{self, Proof};
use super::preflight::{self, Checklist, PreflightOptions, Progress};
use super::{Error, Result};
use crate::model::validate::{self, FieldError};
use crate::model::{AppCertificate, AzureApp, Blocker, DEFAULT_AUTHORITY, PendingCertificate};
use crate::services::cert::{self, NewCertificate};
use crate::services::oauth::credential;
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
    pub status: CertStatus,
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
            format!("no Azure app named \"{app_name}\": give its client ID and tenant to create it with this certificate"),
        )
        .instead(&[crate::model::validate::Field::ClientId, crate::model::validate::Field::Tenant])
        .into()),
    }
}

/// How a new certificate took effect.
#[derive(Debug, Clone)]
pub enum CertStatus {
    /// In use now: nothing working could be lost (a new app, one no server uses, no
    /// credential stored, or one Microsoft refuses).
    InUse,
    /// Microsoft accepted it, and then it replaced the app's working credential.
    Proven(Checklist),
    /// In use now without asking Microsoft (the person chose to, `--no-check`).
    Unchecked,
    /// Kept aside until it is proven ([`use_pending`]): a new key cannot be known to
    /// Microsoft before its certificate is uploaded, and the app keeps signing in with the
    /// credential that works meanwhile.
    Pending,
}

/// How much proof a new certificate needs, and how to ask for it.
#[derive(Debug, Clone)]
pub struct CertProof {
    pub proof: Proof,
    pub preflight: PreflightOptions,
}

impl Default for CertProof {
    fn default() -> Self {
        Self {
            proof: Proof::Required,
            preflight: PreflightOptions::default(),
        }
    }
}

/// Installs a certificate for app `app_name` (creating the app from `new_app` when given
/// and no such app exists). Servers that were blocked on the old credential recover.
///
/// Everything the user gave is checked before a key is made, so a refusal leaves nothing;
/// the key is written in the same store transaction that makes the store reference it, and
/// that transaction's sweep removes the key it replaces.
///
/// A certificate never replaces a working credential unproven (the same rule as a new
/// secret, [`super::credentials`]): when servers use the app and it has a secret or
/// certificate Microsoft accepts (or cannot be asked about), a new key waits as
/// [`CertStatus::Pending`] until [`use_pending`] proves it, and an imported one is proven at
/// once (it may be uploaded already) and kept only when Microsoft accepts it. `Proof::Skip`
/// installs it at once.
pub async fn install_certificate(
    store: &Store,
    app_name: &str,
    source: &CertSource,
    new_app: Option<&NewApp>,
    how: &CertProof,
    mut progress: impl FnMut(Progress),
) -> Result<Installed> {
    let config = store.load()?;
    // Checked first, outside the lock: the app, or what creates it.
    app_to_create(&config, app_name, new_app)?;
    // Key generation takes a moment: done before any lock is taken.
    let made = made(source, app_name)?;
    let stored = config.app(app_name).cloned();
    // Only servers can lose anything: an app no server uses takes the certificate at once.
    let in_use = !config.servers_using(app_name).is_empty();
    let working = match &stored {
        Some(app) if in_use && how.proof == Proof::Required && credential::has_credential(app) => {
            works(app, &how.preflight, &mut progress).await
        }
        _ => false,
    };
    let id = crate::model::new_server_id();
    let record = AppCertificate {
        id: id.clone(),
        thumbprint: made.info.thumbprint.clone(),
        x5t: made.info.x5t.clone(),
        x5t_s256: made.info.x5t_s256.clone(),
        not_after: made.info.not_after,
        key_file: Some(store.certificate_key_path(&id)),
    };
    let installed = |app: AzureApp, created_app: bool, status: CertStatus| Installed {
        app,
        created_app,
        cert_pem: made.cert_pem.clone(),
        cert_path: store.certificate_path(&id),
        thumbprint: made.info.thumbprint.clone(),
        not_after: made.info.not_after,
        status,
    };
    if !working {
        let (app, created_app) = commit_in_use(store, app_name, new_app, &record, &made)?;
        tracing::info!(app = app_name, thumbprint = %made.info.thumbprint, "certificate installed");
        let status = match (&stored, how.proof) {
            (Some(a), Proof::Skip) if credential::has_credential(a) => CertStatus::Unchecked,
            _ => CertStatus::InUse,
        };
        return Ok(installed(app, created_app, status));
    }
    let app = commit_pending(store, app_name, &record, &made)?;
    match source {
        CertSource::New { .. } => {
            tracing::info!(app = app_name, thumbprint = %made.info.thumbprint, "certificate made, waiting to be proven");
            Ok(installed(app, false, CertStatus::Pending))
        }
        // An imported certificate may be uploaded already: proven now, kept only if accepted.
        CertSource::Import(_) => match prove(&app, &record, &how.preflight, &mut progress).await {
            Ok(list) => {
                let app = promote(store, app_name, &id)?;
                Ok(installed(app, false, CertStatus::Proven(list)))
            }
            Err(e) => {
                drop_pending(store, app_name, &id);
                Err(e)
            }
        },
    }
}

/// What [`use_pending`] switched to.
#[derive(Debug, Clone)]
pub struct Switched {
    pub app: AzureApp,
    pub thumbprint: String,
    pub not_after: Timestamp,
    /// What Microsoft said (`None` when not asked).
    pub checklist: Option<Checklist>,
}

/// Proves app `app_name`'s waiting certificate with Microsoft and, once accepted (or when
/// `how.proof` is `Skip`), makes it the app's credential. A refusal or no answer keeps
/// everything as it was: the certificate keeps waiting, the app its old credential.
pub async fn use_pending(
    store: &Store,
    app_name: &str,
    how: &CertProof,
    mut progress: impl FnMut(Progress),
) -> Result<Switched> {
    let config = store.load()?;
    let app = config.app(app_name).cloned().ok_or_else(|| Error::NotFound {
        kind: "Azure app",
        name: app_name.into(),
    })?;
    let pending = config
        .pending_certificates
        .iter()
        .find(|p| p.app == app_name)
        .map(|p| p.certificate.clone())
        .ok_or_else(|| Error::NoCertificate {
            app: app_name.into(),
            why: super::CertMissing::NoneWaiting,
        })?;
    let checklist = match how.proof {
        Proof::Required => Some(prove(&app, &pending, &how.preflight, &mut progress).await?),
        Proof::Skip => None,
    };
    let app = promote(store, app_name, &pending.id)?;
    Ok(Switched {
        app,
        thumbprint: pending.thumbprint,
        not_after: pending.not_after,
        checklist,
    })
}

/// Whether Microsoft accepts (or could not be asked about) the app's stored credential: a
/// credential that is refused anyway has nothing to lose.
async fn works(app: &AzureApp, opts: &PreflightOptions, progress: &mut impl FnMut(Progress)) -> bool {
    preflight::run(app, opts, progress).await.passed()
}

/// The app as it would be with `certificate`, checked with Microsoft: only an accepted
/// certificate passes ([`credentials::judge`], as for a new secret).
async fn prove(
    app: &AzureApp,
    certificate: &AppCertificate,
    opts: &PreflightOptions,
    progress: &mut impl FnMut(Progress),
) -> Result<Checklist> {
    let mut candidate = app.clone();
    candidate.certificate = Some(certificate.clone());
    credentials::judge(preflight::run(&candidate, opts, progress).await)
}

/// Writes the key and makes the app use it, in one store transaction (creating the app
/// first when `new_app` says so).
fn commit_in_use(
    store: &Store,
    app_name: &str,
    new_app: Option<&NewApp>,
    record: &AppCertificate,
    made: &NewCertificate,
) -> Result<(AzureApp, bool)> {
    let committed = store.update(|config| {
        // Again under the lock: the store may have changed while the key was made.
        let created = match app_to_create(config, app_name, new_app)? {
            Some(app) => {
                config.apps.push(app);
                true
            }
            None => false,
        };
        let app = config.app_mut(app_name).ok_or_else(|| Error::NotFound {
            kind: "Azure app",
            name: app_name.into(),
        })?;
        app.certificate = Some(record.clone());
        let app = app.clone();
        // A certificate waiting for this app is superseded by the one in use.
        config.pending_certificates.retain(|p| p.app != app_name);
        // Last, so that nothing after it in this closure can fail.
        store.write_certificate(&record.id, &made.key_pem, &made.cert_pem)?;
        Ok::<_, Error>((app, created))
    });
    let (app, created) = committed.inspect_err(|_| store.discard_certificate(&record.id))?;
    unblock(store, app_name)?;
    Ok((app, created))
}

/// Writes the key as app `app_name`'s waiting certificate (replacing one that waited).
fn commit_pending(
    store: &Store,
    app_name: &str,
    record: &AppCertificate,
    made: &NewCertificate,
) -> Result<AzureApp> {
    store
        .update(|config| {
            let app = config.app(app_name).cloned().ok_or_else(|| Error::NotFound {
                kind: "Azure app",
                name: app_name.into(),
            })?;
            config.pending_certificates.retain(|p| p.app != app_name);
            config.pending_certificates.push(PendingCertificate {
                app: app_name.into(),
                certificate: record.clone(),
            });
            store.write_certificate(&record.id, &made.key_pem, &made.cert_pem)?;
            Ok::<_, Error>(app)
        })
        .inspect_err(|_| store.discard_certificate(&record.id))
}

/// Makes the waiting certificate `id` app `app_name`'s credential (the sweep then removes
/// the key it replaces).
fn promote(store: &Store, app_name: &str, id: &str) -> Result<AzureApp> {
    let app = store.update(|config| {
        let Some(at) = config
            .pending_certificates
            .iter()
            .position(|p| p.app == app_name && p.certificate.id == id)
        else {
            return Err(Error::NoCertificate {
                app: app_name.into(),
                why: super::CertMissing::Replaced,
            });
        };
        let pending = config.pending_certificates.remove(at);
        let app = config.app_mut(app_name).ok_or_else(|| Error::NotFound {
            kind: "Azure app",
            name: app_name.into(),
        })?;
        app.certificate = Some(pending.certificate);
        Ok(app.clone())
    })?;
    tracing::info!(app = app_name, "certificate proven and in use");
    unblock(store, app_name)?;
    Ok(app)
}

/// Forgets a waiting certificate Microsoft did not accept (its files go with the sweep).
fn drop_pending(store: &Store, app_name: &str, id: &str) {
    let dropped = store.update(|config| {
        config
            .pending_certificates
            .retain(|p| !(p.app == app_name && p.certificate.id == id));
        Ok::<_, Error>(())
    });
    if dropped.is_err() {
        store.discard_certificate(id);
    }
}

/// Servers blocked on the app's old credential may try again with the new one.
fn unblock(store: &Store, app_name: &str) -> Result<()> {
    let users: Vec<crate::model::Server> = store
        .load()?
        .servers
        .iter()
        .filter(|s| s.app.as_deref() == Some(app_name))
        .cloned()
        .collect();
    for server in users {
        store.update_tokens(&server, |f| {
            if matches!(f.blocker, Some(Blocker::SecretExpired | Blocker::BadClient)) {
                f.blocker = None;
                f.last_error = None;
            }
            Ok::<_, Error>(())
        })?;
    }
    Ok(())
}

/// The new certificate waiting to be proven for an app, and its PEM (to upload it again).
pub fn waiting_certificate_of(store: &Store, app_name: &str) -> Result<Option<(AppCertificate, String)>> {
    let config = store.load()?;
    let Some(c) = config
        .pending_certificates
        .iter()
        .find(|p| p.app == app_name)
        .map(|p| p.certificate.clone())
    else {
        return Ok(None);
    };
    Ok(store.read_certificate(&c.id)?.map(|pem| (c, pem)))
}

/// The public certificate of an app (to upload again, or to compare thumbprints).
pub fn certificate_of(store: &Store, app_name: &str) -> Result<(AppCertificate, String)> {
    let config = store.load()?;
    let app = config.app(app_name).ok_or_else(|| Error::NotFound {
        kind: "Azure app",
        name: app_name.into(),
    })?;
    let missing = |why| Error::NoCertificate {
        app: app_name.into(),
        why,
    };
    let c = app
        .certificate
        .clone()
        .ok_or_else(|| missing(super::CertMissing::NoneStored))?;
    let pem = store
        .read_certificate(&c.id)?
        .ok_or_else(|| missing(super::CertMissing::FileMissing))?;
    Ok((c, pem))
}
