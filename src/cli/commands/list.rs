//! `inbound list`.

use super::views::{exiting, table, views};
use crate::cli::output;
use crate::exit;
use crate::ops::Error;
use crate::store::Store;
use std::io::Write;

pub(super) fn list(store: &Store, json: bool) -> Result<u8, Error> {
    let mut out = std::io::stdout().lock();
    if json {
        let views = views(store, None)?;
        let _ = writeln!(out, "{}", output::pretty(&views));
        exiting(views);
        return Ok(exit::OK);
    }
    match table(store)? {
        // Every cell of the table is made safe for the terminal already.
        Some(table) => {
            let _ = write!(out, "{table}");
        }
        None => {
            let _ = writeln!(
                out,
                "No servers yet. Add one: inbound add NAME --username U --client-id C --tenant T --secret-stdin"
            );
        }
    }
    Ok(exit::OK)
}
