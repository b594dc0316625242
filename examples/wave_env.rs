//! The identity-provider side of `scripts/bench-serve-wave.sh`: the fake of Microsoft's token
//! endpoint and a store of N OAuth2 servers, DUE of which hold a token that `inbound serve`
//! must refresh at once (the others stay valid for hours).
//!
//! `wave_env DIR N DUE` writes `DIR/store` and then `DIR/env.sh` (`IDP_PORT=…`, by rename: its
//! presence means ready); it runs until SIGTERM or SIGINT, then writes `DIR/idp.txt` with the
//! number of refresh requests the fake answered (single flight: one per due server).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark helper, not the product

#[allow(dead_code)]
#[path = "../tests/support/fake_idp.rs"]
mod fake_idp;

use fake_idp::{DEFAULT_ACCOUNT, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, FakeIdp};
use inbound::model::{AuthKind, AzureApp, Flow, Server, ServerState, ServerType, TokenFile, TokenSet};
use inbound::secret::Secret;
use inbound::store::{Store, StoreError};
use jiff::{SignedDuration, Timestamp};
use std::path::{Path, PathBuf};
use tokio::signal::unix::{SignalKind, signal};

const TENANT: &str = "contoso.onmicrosoft.com";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let usage = "usage: wave_env DIR N DUE";
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().ok_or(usage)?);
    let n: usize = args.next().ok_or(usage)?.parse()?;
    let due: usize = args.next().ok_or(usage)?.parse()?;

    let idp = FakeIdp::start().await;
    idp.set_access_token_lifetime(6 * 3600);
    seed(&dir.join("store"), n, due, &idp)?;
    let env = format!("IDP_PORT={}\n", idp.addr().port());
    std::fs::write(dir.join("env.sh.tmp"), env)?;
    std::fs::rename(dir.join("env.sh.tmp"), dir.join("env.sh"))?;

    let mut term = signal(SignalKind::terminate())?;
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    std::fs::write(dir.join("idp.txt"), format!("{}\n", idp.refresh_requests()))?;
    Ok(())
}

fn seed(dir: &Path, n: usize, due: usize, idp: &FakeIdp) -> Result<(), StoreError> {
    let store = Store::open(Some(dir.to_path_buf()))?;
    let now = Timestamp::now();
    store.update(|c| {
        c.apps.push(AzureApp {
            name: "wave".into(),
            client_id: DEFAULT_CLIENT_ID.into(),
            tenant: TENANT.into(),
            secret: Some(Secret::new(DEFAULT_CLIENT_SECRET)),
            secret_expires: None,
            authority: idp.authority(),
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
                // Never reached: the script pushes scheduled tests out.
                host: "imap.invalid".into(),
                port: 993,
                ssl: true,
                username: DEFAULT_ACCOUNT.into(),
                sign_in_as: None,
                app: Some("wave".into()),
                password: None,
                ca_file: None,
                state: ServerState::Confirmed,
                last_test: None,
            });
        }
        Ok::<_, StoreError>(())
    })?;
    for (i, server) in store.load()?.servers.into_iter().enumerate() {
        // Due: one hour's life, two minutes left (inside the 5-minute margin). Else six hours.
        let (issued, left) = if i < due {
            (
                now - SignedDuration::from_secs(3480),
                SignedDuration::from_secs(120),
            )
        } else {
            (now, SignedDuration::from_hours(6))
        };
        let mut file = TokenFile::for_server(&server);
        file.tokens = Some(TokenSet {
            access_token: Secret::new(idp.mint_access_token(DEFAULT_ACCOUNT)),
            refresh_token: Some(Secret::new(idp.mint_refresh_token(DEFAULT_ACCOUNT, TENANT))),
            issued_at: issued,
            expires_at: now + left,
            refreshed_at: issued,
            consented_at: issued,
            scope: "https://outlook.office.com/IMAP.AccessAsUser.All".into(),
            account: Some(DEFAULT_ACCOUNT.into()),
            flow: Flow::AuthorizationCode,
            principal_id: None,
        });
        let _lock = store.lock_tokens(&server, true)?;
        store.write_tokens(&server, &file)?;
    }
    Ok(())
}
