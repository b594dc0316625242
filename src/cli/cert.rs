//! `inbound cert new|show|use APP`: certificate credentials.

use super::{CertCommand, CertNewArgs, CertUseArgs, exit};
use crate::model::quote::arg;
use crate::ops::Error;
use crate::ops::cert::{self, CertProof, CertSource, CertStatus, NewApp};
use crate::ops::credentials::Proof;
use crate::ops::preflight::Progress;
use crate::services::input;
use crate::store::Store;

fn invalid(message: String) -> Error {
    Error::from(crate::model::validate::FieldError::new(
        crate::model::validate::Field::Certificate,
        message,
    ))
}

pub async fn run(store: &Store, command: CertCommand) -> Result<u8, Error> {
    match command {
        CertCommand::New(a) => new(store, a).await,
        CertCommand::Use(a) => use_pending(store, a).await,
        CertCommand::Show(a) => {
            let waiting = cert::waiting_certificate_of(store, &a.app)?;
            let (c, pem) = match (cert::certificate_of(store, &a.app), &waiting) {
                (Ok(current), _) => current,
                // Only a new one, waiting: that is the one to upload.
                (Err(_), Some(w)) => w.clone(),
                (Err(e), None) => return Err(e),
            };
            out!("{}", pem.trim_end());
            say!(
                "Thumbprint {} · expires {}",
                c.thumbprint,
                crate::timefmt::local(c.not_after)
            );
            if let Some((w, _)) = waiting {
                let which = if w.id == c.id {
                    "This certificate"
                } else {
                    "A new certificate"
                };
                say!(
                    "{which} (thumbprint {}) waits to be proven before it replaces the app's credential: upload it, then run inbound cert use {}.",
                    w.thumbprint,
                    arg(&a.app)
                );
            }
            Ok(exit::OK)
        }
    }
}

fn proof(no_check: bool) -> CertProof {
    CertProof {
        proof: if no_check { Proof::Skip } else { Proof::Required },
        ..CertProof::default()
    }
}

/// Says each replication wait; the checks themselves are summed up after.
fn waits(p: Progress) {
    if let Progress::Waiting(w) = p {
        say!("  {}", w.message());
    }
}

/// Prints what Microsoft said when it did not accept the certificate, then passes the error on.
fn checked(e: Error) -> Error {
    if let Error::Preflight(list) | Error::Unverified(list) = &e {
        say!("  {}", list.line());
    }
    e
}

async fn new(store: &Store, a: CertNewArgs) -> Result<u8, Error> {
    let source = match &a.certificate {
        Some(path) => {
            // Bounded (a PEM pair is a few KiB), and never waited on for good: a FIFO is
            // read with a deadline, one nobody writes to is refused at once.
            let bytes = input::read_all(
                input::Source::Path(path),
                64 * 1024,
                "a key and certificate",
                input::PIPE_WAIT,
            )
            .map_err(|e| invalid(e.to_string()))?;
            let text = String::from_utf8(bytes)
                .map_err(|_| invalid(format!("{} is not PEM text", path.display())))?;
            CertSource::Import(crate::secret::Secret::new(text))
        }
        None => CertSource::New { months: a.months },
    };
    let new_app = a.client_id.map(|client_id| NewApp {
        client_id,
        tenant: a.tenant.unwrap_or_default(),
        authority: a.authority,
    });
    if !a.no_check && matches!(source, CertSource::Import(_)) {
        say!(
            "Checking the certificate with Microsoft before it replaces a working credential (skip with --no-check) …"
        );
    }
    let done = cert::install_certificate(
        store,
        &a.app,
        &source,
        new_app.as_ref(),
        &proof(a.no_check),
        waits,
    )
    .await
    .map_err(checked)?;
    // The public certificate on stdout (to save or pipe); what to do with it on stderr.
    out!("{}", done.cert_pem.trim_end());
    let facts = format!(
        "thumbprint {}, expires {}",
        done.thumbprint,
        crate::timefmt::local(done.not_after)
    );
    let old = if done.app.certificate.is_some() {
        "certificate"
    } else {
        "secret"
    };
    match &done.status {
        CertStatus::Pending => say!(
            "App \"{}\" keeps signing in with its {old} until this certificate is proven ({facts}): upload it as below, then run inbound cert use {} (it asks Microsoft first). The private key stays in the store and is never shown.",
            done.app.name,
            arg(&done.app.name)
        ),
        CertStatus::Proven(list) => {
            say!("  {}", list.line());
            say!(
                "✔ Microsoft accepted the certificate: app \"{}\" now signs its token requests with it ({facts}); the private key stays in the store and is never shown.",
                done.app.name
            );
        }
        CertStatus::Unchecked => say!(
            "App \"{}\" now signs its token requests with this certificate, unchecked (--no-check: until Microsoft knows it, every server of the app fails) ({facts}); the private key stays in the store and is never shown.",
            done.app.name
        ),
        CertStatus::InUse => say!(
            "{} app \"{}\" now signs its token requests with this certificate ({facts}); the private key stays in the store and is never shown.",
            if done.created_app { "New" } else { "The" },
            done.app.name
        ),
    }
    say!(
        "Upload it: App registrations → the app → Certificates & secrets → Certificates → Upload certificate (the lines above, saved as a .pem/.crt file), or with the Azure CLI where this file is (copy it to Cloud Shell first):"
    );
    say!(
        "  az ad app credential reset --id {} --cert @{} --append",
        done.app.client_id,
        done.cert_path.display()
    );
    Ok(exit::OK)
}

async fn use_pending(store: &Store, a: CertUseArgs) -> Result<u8, Error> {
    if !a.no_check {
        say!(
            "Checking the new certificate with Microsoft before it replaces the app's credential (skip with --no-check) …"
        );
    }
    let done = cert::use_pending(store, &a.app, &proof(a.no_check), waits)
        .await
        .map_err(checked)?;
    if let Some(list) = &done.checklist {
        say!("  {}", list.line());
    }
    say!(
        "{}App \"{}\" now signs its token requests with its new certificate (thumbprint {}, expires {}); servers using it recover on their next refresh (inbound refresh --all).",
        if done.checklist.is_some() {
            "✔ Microsoft accepted it. "
        } else {
            "Unchecked (--no-check). "
        },
        done.app.name,
        done.thumbprint,
        crate::timefmt::local(done.not_after)
    );
    Ok(exit::OK)
}
