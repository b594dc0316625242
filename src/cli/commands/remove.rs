//! `inbound remove`: a server and its tokens, or an unused app.

use crate::cli::RemoveArgs;
use crate::exit;
use crate::ops::Error;
use crate::ops::servers;
use crate::store::Store;

pub(super) fn remove(store: &Store, a: RemoveArgs) -> Result<u8, Error> {
    // The server is gone either way; a token file left behind is a failure to report.
    let mut code = exit::OK;
    if let Some(name) = a.name {
        let removed = servers::remove_server(store, &name)?;
        match &removed.tokens_left {
            None => say!("Removed \"{name}\" and its tokens."),
            Some((path, why)) => {
                code = exit::FAILED;
                say!(
                    "Removed \"{name}\", but its token file {} could not be deleted ({why}); delete it by hand (the next write to a writable store also removes it).",
                    path.display()
                );
            }
        }
        if let Some(app) = removed.unused_app.filter(|u| a.app.as_deref() != Some(u)) {
            say!(
                "Azure app \"{app}\" is used by no server now; it stays stored with its secret. Remove it: inbound remove --app \"{app}\""
            );
        }
    }
    if let Some(app) = a.app {
        servers::remove_app(store, &app)?;
        say!("Removed Azure app \"{app}\".");
    }
    Ok(code)
}
