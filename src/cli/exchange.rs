//! `inbound exchange-setup NAME`: the Exchange Online commands of an app-only server.

use super::exit;
use crate::ops::Error;
use crate::ops::exchange;
use crate::store::Store;

pub fn exchange_setup(store: &Store, name: &str, json: bool) -> Result<u8, Error> {
    let setup = exchange::exchange_setup(store, name)?;
    if json {
        out!("{}", super::output::pretty(&setup));
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
    for n in &setup.notes {
        say!("Note: {n}");
    }
    say!("Then: inbound test {}", crate::model::quote::arg(&setup.server));
    Ok(exit::OK)
}
