//! A store with N OAuth2 servers and valid tokens (shared by the benches and
//! `examples/seed_store.rs`).

use inbound::model::{AuthKind, AzureApp, Flow, Server, ServerState, ServerType, TokenFile, TokenSet};
use inbound::secret::Secret;
use inbound::store::{Store, StoreError};
use jiff::{SignedDuration, Timestamp};
use std::path::Path;

pub fn seed(dir: &Path, n: usize) -> Result<Store, StoreError> {
    let store = Store::open(Some(dir.to_path_buf()))?;
    let now = Timestamp::now();
    store.update(|c| {
        c.apps.push(AzureApp {
            name: "bench".into(),
            client_id: "2c7f5e1a-84b3-4d69-a0e2-9b1c3d7f6a58".into(),
            tenant: "contoso.com".into(),
            secret: Some(Secret::new("bench~secret")),
            secret_expires: None,
            authority: "https://login.microsoftonline.com".into(),
            certificate: None,
            public_client: false,
            admin_consent_at: None,
        });
        for i in 0..n {
            c.servers.push(Server {
                id: inbound::model::new_server_id(),
                name: format!("server-{i}"),
                server_type: ServerType::Imap,
                auth: AuthKind::OAuth2,
                host: "outlook.office365.com".into(),
                port: 993,
                ssl: true,
                username: format!("mailbox{i}@contoso.com"),
                sign_in_as: None,
                app: Some("bench".into()),
                password: None,
                ca_file: None,
                state: ServerState::Confirmed,
                last_test: None,
            });
        }
        Ok::<_, StoreError>(())
    })?;
    for server in store.load()?.servers {
        let i = server.name.trim_start_matches("server-").to_string();
        let mut file = TokenFile::for_server(&server);
        file.tokens = Some(TokenSet {
            access_token: Secret::new(format!("eyJ0eXAiOiJKV1QiLCJub25jZSI6Ij{i:0>1200}")),
            refresh_token: Some(Secret::new(format!("0.AR{i:0>800}"))),
            issued_at: now,
            expires_at: now + SignedDuration::from_hours(2),
            refreshed_at: now,
            consented_at: now,
            scope: "https://outlook.office.com/IMAP.AccessAsUser.All".into(),
            account: Some(format!("mailbox{i}@contoso.com")),
            flow: Flow::AuthorizationCode,
            principal_id: None,
        });
        let _lock = store.lock_tokens(&server, true)?;
        store.write_tokens(&server, &file)?;
    }
    Ok(store)
}
