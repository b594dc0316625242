//! A store of N OAuth2 servers of one app, each with a live token from the fake identity
//! provider: the set-up shared by the benchmark helpers (`bench_env`, `wave_env`). Included by
//! `#[path]` beside `tests/support/fake_idp.rs`, which the including helper names `fake_idp`.

use crate::fake_idp::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, FakeIdp};
use inbound::model::{AuthKind, AzureApp, Flow, Server, ServerState, ServerType, TokenFile, TokenSet};
use inbound::secret::Secret;
use inbound::store::{Store, StoreError};
use jiff::Timestamp;
use std::path::{Path, PathBuf};

pub const TENANT: &str = "contoso.onmicrosoft.com";

/// What the servers share.
pub struct Servers<'a> {
    pub app: &'a str,
    pub authority: String,
    /// The mailbox each server opens and its token names.
    pub account: &'a str,
    pub host: String,
    pub port: u16,
    pub ca_file: Option<PathBuf>,
}

/// Writes `n` servers named `server-0` … and their tokens; `times(i)` gives server i's token
/// its issue and expiry times.
pub fn seed(
    dir: &Path,
    n: usize,
    servers: &Servers,
    idp: &FakeIdp,
    times: impl Fn(usize) -> (Timestamp, Timestamp),
) -> Result<(), StoreError> {
    let store = Store::open(Some(dir.to_path_buf()))?;
    store.update(|c| {
        c.apps.push(AzureApp {
            name: servers.app.into(),
            client_id: DEFAULT_CLIENT_ID.into(),
            tenant: TENANT.into(),
            secret: Some(Secret::new(DEFAULT_CLIENT_SECRET)),
            secret_expires: None,
            authority: servers.authority.clone(),
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
                host: servers.host.clone(),
                port: servers.port,
                ssl: true,
                username: servers.account.into(),
                sign_in_as: None,
                app: Some(servers.app.into()),
                password: None,
                ca_file: servers.ca_file.clone(),
                state: ServerState::Confirmed,
                last_test: None,
            });
        }
        Ok::<_, StoreError>(())
    })?;
    for (i, server) in store.load()?.servers.into_iter().enumerate() {
        let (issued, expires) = times(i);
        let mut file = TokenFile::for_server(&server);
        file.tokens = Some(TokenSet {
            access_token: Secret::new(idp.mint_access_token(servers.account)),
            refresh_token: Some(Secret::new(idp.mint_refresh_token(servers.account, TENANT))),
            issued_at: issued,
            expires_at: expires,
            refreshed_at: issued,
            consented_at: issued,
            scope: "https://outlook.office.com/IMAP.AccessAsUser.All".into(),
            account: Some(servers.account.into()),
            flow: Flow::AuthorizationCode,
            principal_id: None,
        });
        let _lock = store.lock_tokens(&server, true)?;
        store.write_tokens(&server, &file)?;
    }
    Ok(())
}
