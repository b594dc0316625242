//! `inbound list`.

use super::views::views;
use crate::cli::output;
use crate::exit;
use crate::ops::Error;
use crate::store::Store;
use std::io::Write;

pub(super) fn list(store: &Store, json: bool) -> Result<u8, Error> {
    let views = views(store, None)?;
    let mut out = std::io::stdout().lock();
    if json {
        let _ = writeln!(out, "{}", output::pretty(&views));
    } else if views.is_empty() {
        let _ = writeln!(
            out,
            "No servers yet. Add one: inbound add NAME --username U --client-id C --tenant T --secret-stdin"
        );
    } else {
        let _ = write!(out, "{}", crate::sanitize::terminal(&output::table(&views)));
    }
    Ok(exit::OK)
}
