//! `inbound exchange-setup NAME`: the Exchange Online commands of an app-only server.

use super::exit;
use crate::ops::Error;
use crate::ops::exchange;
use crate::store::Store;
use serde::Serialize;

/// `--json`: the core's setup and the notes in the shell's words (docs/json.md).
#[derive(Serialize)]
struct Json<'a> {
    #[serde(flatten)]
    setup: &'a exchange::ExchangeSetup,
    notes: &'a [String],
}

/// Where to find a value shown as a placeholder, and which command fills it in.
fn notes(setup: &exchange::ExchangeSetup) -> Vec<String> {
    if setup.principal_id.is_some() {
        return Vec::new();
    }
    vec![format!(
        "{} inbound fills it in after the first token (inbound token {}).",
        exchange::principal_where(&setup.app, &setup.client_id),
        crate::model::quote::arg(&setup.server)
    )]
}

pub fn exchange_setup(store: &Store, name: &str, json: bool) -> Result<u8, Error> {
    let setup = exchange::exchange_setup(store, name)?;
    let notes = notes(&setup);
    if json {
        out!(
            "{}",
            super::output::pretty(&Json {
                setup: &setup,
                notes: &notes
            })
        );
        return Ok(exit::OK);
    }
    say!(
        "Exchange Online PowerShell for \"{}\" (mailbox {}, app {} · {}){}:",
        setup.server,
        setup.mailbox,
        setup.app,
        setup.client_id,
        if setup.only_mailbox_permission {
            "; the app's service principal is already set up, so only the mailbox permission is new"
        } else {
            ""
        }
    );
    // Commands on stdout (copyable, pipeable), explanations on stderr.
    for c in &setup.commands {
        say!("  # {}", c.why);
        out!("{}", c.line);
    }
    for n in &notes {
        say!("Note: {n}");
    }
    say!("Then: inbound test {}", crate::model::quote::arg(&setup.server));
    Ok(exit::OK)
}
