//! `inbound add`.

use super::input::{auth_kind, read_secret};
use crate::cli::AddArgs;
use crate::cli::report::renewal_note;
use crate::exit;
use crate::model::AuthKind;
use crate::model::quote::arg;
use crate::ops::Error;
use crate::ops::servers::{self, AppChoice, AppInput, ServerInput};
use crate::store::Store;

pub(super) async fn add(store: &Store, a: AddArgs) -> Result<u8, Error> {
    if a.setup_code.is_some() {
        return crate::cli::setup::add_with_code(store, a).await;
    }
    if let Some(other) = &a.like {
        let password = if a.password_stdin {
            read_secret(true, None, "password")?
        } else {
            None
        };
        let mut input = servers::like(&store.load()?, other, &a.name, &a.username)?;
        input.sign_in_as = a.sign_in_as.clone();
        input.password = password;
        // The app is stored and in use already: no pre-flight of its credentials.
        let server = servers::add_server(store, &input)?;
        say!("Added \"{}\" (Draft), like \"{other}\".", server.name);
        say!(
            "Next: inbound connect \"{}\", then inbound test \"{}\"",
            server.name,
            server.name
        );
        return Ok(exit::OK);
    }
    let auth = auth_kind(a.auth);
    let password = if a.password_stdin {
        read_secret(true, None, "password")?
    } else {
        None
    };
    let secret = read_secret(a.secret_stdin, a.secret_file.as_deref(), "client secret")?;
    let app = if auth == AuthKind::Basic {
        None
    } else if a.client_id.is_none() && a.tenant.is_none() && secret.is_none() && !a.public_client {
        a.app.clone().map(AppChoice::Existing)
    } else {
        Some(AppChoice::New(AppInput {
            name: a.app.clone(),
            client_id: a.client_id.clone().unwrap_or_default(),
            tenant: a.tenant.clone().unwrap_or_default(),
            secret,
            secret_expires: a.secret_expires.clone(),
            authority: a
                .authority
                .clone()
                .or_else(|| a.cloud.map(|c| c.authority().to_string())),
            public_client: a.public_client,
        }))
    };
    let host = a.host.clone().unwrap_or_else(|| {
        a.cloud
            .map_or(crate::model::DEFAULT_HOST, crate::model::Cloud::imap_host)
            .to_string()
    });
    let input = ServerInput {
        name: a.name,
        auth,
        host,
        port: a.port.to_string(),
        username: a.username,
        sign_in_as: a.sign_in_as,
        app,
        password,
        ca_file: a.ca_file,
    };
    // The same registration with a new secret renews the stored app (never dropped silently).
    let renewing = servers::renews(&input, &store.load()?);
    if !a.no_check
        && let Some(app) = crate::ops::preflight::app_for_input(store, &input)?
    {
        if renewing.is_some() {
            crate::cli::checks::preflight_replacing(&app, &Default::default()).await?;
        } else {
            let list = crate::cli::checks::preflight(&app, &Default::default()).await;
            if !list.passed() {
                return Err(Error::Preflight(Box::new(list)));
            }
        }
    }
    let server = servers::add_server(store, &input)?;
    let config = store.load()?;
    say!("Added \"{}\" (Draft).", server.name);
    if let Some((app, users)) = &renewing {
        say!("{}", renewal_note(app, users, &server.name, a.no_check));
    }
    if server.auth == AuthKind::OAuth2App {
        say!(
            "App-only: no sign-in. The app needs the application permission IMAP.AccessAsApp with admin consent, and Exchange needs its service principal and a mailbox permission:"
        );
        say!("  inbound exchange-setup {}", arg(&server.name));
        say!("Then test it: inbound test {}", arg(&server.name));
    } else if server.auth == AuthKind::OAuth2 {
        let public = config.app_of(&server).is_some_and(|a| a.public_client);
        if public {
            say!(
                "Public client (no secret stored): in the Azure portal add the platform Mobile and desktop applications with the custom redirect URI\n  {}\nand set Authentication → Allow public client flows = Yes. Do not register the same URI under Web too.",
                crate::model::registered_redirect_uri(&config.settings)
            );
        } else {
            say!(
                "Register this redirect URL under Authentication → Web in the Azure portal:\n  {}",
                crate::model::registered_redirect_uri(&config.settings)
            );
        }
        if let Some(d) = &server.sign_in_as {
            say!(
                "{}",
                crate::ops::consent::shared_mailbox_note(d, &server.username)
            );
        }
        say!(
            "Most tenants now need an admin to consent to IMAP once; if sign-in stops at \"Need admin approval\", an admin runs: inbound connect {} --admin-consent",
            arg(&server.name)
        );
        say!("Then sign in: inbound connect {}", arg(&server.name));
    } else {
        say!("Then test it: inbound test {}", arg(&server.name));
    }
    Ok(exit::OK)
}
