//! `inbound edit`: a server, or with --app and no NAME, an Azure app.

use super::input::{auth_kind, read_secret};
use crate::cli::EditArgs;
use crate::exit;
use crate::model::quote::arg;
use crate::ops::Error;
use crate::ops::servers::{self, AppPatch, ServerPatch};
use crate::store::Store;

pub(super) async fn edit(store: &Store, a: EditArgs) -> Result<u8, Error> {
    let secret = read_secret(a.secret_stdin, a.secret_file.as_deref(), "client secret")?;
    let Some(name) = a.name else {
        let Some(app) = a.app else {
            return Err(Error::from(crate::model::validate::FieldError::new(
                crate::model::validate::Field::Target,
                "name a server (inbound edit NAME …) or an app (inbound edit --app APP …)",
            )));
        };
        let patch = AppPatch {
            client_id: a.client_id,
            tenant: a.tenant,
            secret,
            secret_expires: a.secret_expires,
            authority: a.authority.or_else(|| a.cloud.map(|c| c.authority().to_string())),
            public_client: a.public_client,
        };
        let proof = if a.no_check {
            crate::ops::credentials::Proof::Skip
        } else {
            crate::ops::credentials::Proof::Required
        };
        let rotated = patch.secret.is_some();
        let app = crate::cli::checks::replace_credentials(store, &app, &patch, proof).await?;
        say!("Updated Azure app \"{}\".", app.name);
        if rotated {
            say!("New secret saved; servers using it recover on their next refresh (inbound refresh --all).");
        }
        if a.public_client {
            say!(
                "Now a public client: its secret was deleted. In the portal register http://localhost/microsoft_outlook/confirm under Mobile and desktop applications (not Web) and set Allow public client flows = Yes; then sign in again (inbound connect NAME)."
            );
        }
        return Ok(exit::OK);
    };
    if a.client_id.is_some()
        || a.tenant.is_some()
        || a.public_client
        || secret.is_some()
        || a.authority.is_some()
        || a.secret_expires.is_some()
    {
        // Name the server's own app in the command when there is one.
        let app = store
            .load()
            .ok()
            .and_then(|c| c.server(&name).and_then(|s| s.app.clone()))
            .map_or_else(|| "APP".to_string(), |a| arg(&a));
        return Err(Error::from(crate::model::validate::FieldError::new(
            crate::model::validate::Field::Target,
            format!("app settings belong to the app: inbound edit --app {app} --secret-stdin …"),
        )));
    }
    let password = if a.password_stdin {
        read_secret(true, None, "password")?
    } else {
        None
    };
    let patch = ServerPatch {
        rename: a.rename,
        host: a.host.or_else(|| a.cloud.map(|c| c.imap_host().to_string())),
        port: a.port,
        username: a.username,
        sign_in_as: if a.no_sign_in_as {
            Some(None)
        } else {
            a.sign_in_as.map(Some)
        },
        app: a.app,
        auth: a.auth.map(auth_kind),
        password,
        ca_file: if a.no_ca_file {
            Some(None)
        } else {
            a.ca_file.map(Some)
        },
    };
    let server = servers::edit_server(store, &name, &patch)?;
    say!("Updated \"{}\" ({}).", server.name, server.state.label());
    Ok(exit::OK)
}
