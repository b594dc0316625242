//! Stores written straight through the library, for tests that need many servers or exact
//! stored values rather than the commands that would make them.

use inbound::model::{AuthKind, AzureApp, Server, ServerState, ServerType};
use inbound::store::{Store, StoreError};
use std::path::{Path, PathBuf};

/// The app name of [`contoso_app`].
pub const APP: &str = "Contoso mail";

/// The Azure app these tests store: the client ID and secret of `inbound::tui::testing`,
/// tenant contoso.com, signing in at `authority`.
pub fn contoso_app(authority: &str) -> AzureApp {
    AzureApp {
        authority: authority.into(),
        ..inbound::tui::testing::app(APP, "")
    }
}

/// A Draft OAuth2 server of [`contoso_app`] for `username` on a closed loopback port
/// (127.0.0.1:1): a test of it fails fast at "connect" and nothing leaves the machine.
pub fn closed_port_server(name: &str, username: &str) -> Server {
    Server {
        id: inbound::model::new_server_id(),
        name: name.into(),
        server_type: ServerType::Imap,
        auth: AuthKind::OAuth2,
        host: "127.0.0.1".into(),
        port: 1,
        ssl: true,
        username: username.into(),
        sign_in_as: None,
        app: Some(APP.into()),
        password: None,
        ca_file: None,
        state: ServerState::Draft,
        last_test: None,
    }
}

/// [`contoso_app`] (at an authority never reached) and `count` servers `mailbox-000`, … for
/// `box0@contoso.com`, …, each a [`closed_port_server`].
pub fn seed_mailboxes(store: &Store, count: usize) {
    store
        .update(|c| {
            c.apps.push(contoso_app("http://127.0.0.1:9"));
            for i in 0..count {
                c.servers.push(closed_port_server(
                    &format!("mailbox-{i:03}"),
                    &format!("box{i}@contoso.com"),
                ));
            }
            Ok::<_, StoreError>(())
        })
        .expect("seed the store");
}

/// The temporary files in the store `dir` and its `tokens/` (`.tmp-*`): every finished or
/// killed write must leave none behind.
pub fn temp_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for d in [dir.to_path_buf(), dir.join("tokens")] {
        if let Ok(entries) = std::fs::read_dir(&d) {
            out.extend(entries.flatten().map(|e| e.path()).filter(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with(".tmp-"))
            }));
        }
    }
    out
}
