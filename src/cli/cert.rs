//! `inbound cert new|show APP`: certificate credentials.

use super::{CertCommand, CertNewArgs, exit};
use crate::ops::Error;
use crate::ops::cert::{self, CertSource, NewApp};
use crate::services::input;
use crate::store::Store;

fn invalid(message: String) -> Error {
    Error::from(crate::model::validate::FieldError::new(
        crate::model::validate::Field::Certificate,
        message,
    ))
}

pub fn run(store: &Store, command: CertCommand) -> Result<u8, Error> {
    match command {
        CertCommand::New(a) => new(store, a),
        CertCommand::Show(a) => {
            let (c, pem) = cert::certificate_of(store, &a.app)?;
            out!("{}", pem.trim_end());
            say!(
                "Thumbprint {} · expires {}",
                c.thumbprint,
                crate::timefmt::local(c.not_after)
            );
            Ok(exit::OK)
        }
    }
}

fn new(store: &Store, a: CertNewArgs) -> Result<u8, Error> {
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
    let done = cert::install_certificate(store, &a.app, &source, new_app.as_ref())?;
    // The public certificate on stdout (to save or pipe); what to do with it on stderr.
    out!("{}", done.cert_pem.trim_end());
    say!(
        "{} app \"{}\" now signs its token requests with this certificate (thumbprint {}, expires {}); the private key stays in the store and is never shown.",
        if done.created_app { "New" } else { "The" },
        done.app.name,
        done.thumbprint,
        crate::timefmt::local(done.not_after)
    );
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
