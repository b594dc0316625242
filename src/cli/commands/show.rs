//! `inbound show`.

use super::views::views;
use crate::cli::output;
use crate::exit;
use crate::ops::Error;
use crate::store::Store;
use std::io::Write;

pub(super) fn show(store: &Store, name: &str, json: bool) -> Result<u8, Error> {
    let views = views(store, Some(&[name.to_string()]))?;
    let Some(v) = views.first() else {
        return Err(Error::NotFound {
            kind: "server",
            name: name.into(),
        });
    };
    let mut out = std::io::stdout().lock();
    if json {
        let _ = writeln!(out, "{}", output::pretty(v));
    } else {
        let _ = write!(out, "{}", crate::sanitize::terminal(&output::details(v)));
    }
    Ok(exit::OK)
}
