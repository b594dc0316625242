//! The network side of `benches/run.sh`: the test Dovecot (validating tokens at the fake
//! identity provider), a delaying proxy in front of it, and a store of N servers that reach
//! Dovecot through the proxy with live tokens.
//!
//! `bench_env DIR N RTT_MS` writes `DIR/store`, `DIR/env.sh` (ports, CA, user, a token for
//! the Python peer) and appends each proxied connection's turns to `DIR/turns.log`; it runs
//! until SIGTERM or SIGINT, then stops Dovecot.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark helper, not the product

// The test harness's Dovecot and identity provider (not its CLI helpers, which need a test
// build).
#[allow(dead_code)]
#[path = "../../tests/support/dovecot.rs"]
mod dovecot;
#[allow(dead_code)]
#[path = "../../tests/support/fake_idp.rs"]
mod fake_idp;

/// What `dovecot.rs` expects from the harness root.
fn tls_fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/tls")
        .join(name)
}

mod proxy;

use dovecot::{Dovecot, OAUTH_USER};
use fake_idp::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, FakeIdp};
use inbound::model::{AuthKind, AzureApp, Flow, Server, ServerState, ServerType, TokenFile, TokenSet};
use inbound::secret::Secret;
use inbound::store::{Store, StoreError};
use jiff::{SignedDuration, Timestamp};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::signal::unix::{SignalKind, signal};

const TENANT: &str = "contoso.onmicrosoft.com";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let usage = "usage: bench_env DIR N RTT_MS";
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().ok_or(usage)?);
    let n: usize = args.next().ok_or(usage)?.parse()?;
    let rtt = Duration::from_millis(args.next().ok_or(usage)?.parse()?);

    let idp = FakeIdp::start().await;
    idp.set_account(OAUTH_USER);
    idp.set_access_token_lifetime(6 * 3600);
    let dovecot = Dovecot::start(&idp.introspection_url()).ok_or("dovecot is not installed")?;
    let proxy_port = proxy::start(dovecot.port, rtt, dir.join("turns.log")).await?;
    // The token endpoint gets the same delay; its log counts connections (one line each).
    let idp_port = proxy::start(idp.addr().port(), rtt, dir.join("idp-turns.log")).await?;
    let authority = format!("http://127.0.0.1:{idp_port}");
    // BENCH_DIRECT=1: the servers reach Dovecot without the delaying proxy (scripts/bench-proxy.sh
    // compares relays, which a relay of its own in front would blur).
    let server_port = if std::env::var("BENCH_DIRECT").is_ok_and(|v| v == "1") {
        dovecot.port
    } else {
        proxy_port
    };
    seed(
        &dir.join("store"),
        n,
        server_port,
        &dovecot.ca_file,
        &idp,
        &authority,
    )?;
    let env = format!(
        "PROXY_PORT={proxy_port}\nDOVECOT_PORT={}\nCA_FILE={}\nIMAP_USER={OAUTH_USER}\nTOKEN={}\n",
        dovecot.port,
        dovecot.ca_file.display(),
        idp.mint_access_token(OAUTH_USER),
    );
    // Written last, by rename: its presence means ready.
    std::fs::write(dir.join("env.sh.tmp"), env)?;
    std::fs::rename(dir.join("env.sh.tmp"), dir.join("env.sh"))?;

    let mut term = signal(SignalKind::terminate())?;
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    drop(dovecot);
    Ok(())
}

fn seed(
    dir: &Path,
    n: usize,
    port: u16,
    ca: &Path,
    idp: &FakeIdp,
    authority: &str,
) -> Result<(), StoreError> {
    let store = Store::open(Some(dir.to_path_buf()))?;
    let now = Timestamp::now();
    store.update(|c| {
        c.apps.push(AzureApp {
            name: "bench".into(),
            client_id: DEFAULT_CLIENT_ID.into(),
            tenant: TENANT.into(),
            secret: Some(Secret::new(DEFAULT_CLIENT_SECRET)),
            secret_expires: None,
            authority: authority.to_string(),
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
                host: "127.0.0.1".into(),
                port,
                ssl: true,
                username: OAUTH_USER.into(),
                sign_in_as: None,
                app: Some("bench".into()),
                password: None,
                ca_file: Some(ca.to_path_buf()),
                state: ServerState::Confirmed,
                last_test: None,
            });
        }
        Ok::<_, StoreError>(())
    })?;
    for server in store.load()?.servers {
        let mut file = TokenFile::for_server(&server);
        file.tokens = Some(TokenSet {
            access_token: Secret::new(idp.mint_access_token(OAUTH_USER)),
            refresh_token: Some(Secret::new(idp.mint_refresh_token(OAUTH_USER, TENANT))),
            issued_at: now,
            expires_at: now + SignedDuration::from_hours(6),
            refreshed_at: now,
            consented_at: now,
            scope: "https://outlook.office.com/IMAP.AccessAsUser.All".into(),
            account: Some(OAUTH_USER.into()),
            flow: Flow::AuthorizationCode,
            principal_id: None,
        });
        let _lock = store.lock_tokens(&server, true)?;
        store.write_tokens(&server, &file)?;
    }
    Ok(())
}
