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
#[path = "../support/oauth_store.rs"]
mod oauth_store;

/// What `dovecot.rs` expects from the harness root.
fn tls_fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/tls")
        .join(name)
}

mod proxy;

use dovecot::{Dovecot, OAUTH_USER};
use fake_idp::FakeIdp;
use jiff::{SignedDuration, Timestamp};
use std::path::PathBuf;
use std::time::Duration;
use tokio::signal::unix::{SignalKind, signal};

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
    let servers = oauth_store::Servers {
        app: "bench",
        authority,
        account: OAUTH_USER,
        host: "127.0.0.1".into(),
        port: server_port,
        ca_file: Some(dovecot.ca_file.clone()),
    };
    let now = Timestamp::now();
    oauth_store::seed(&dir.join("store"), n, &servers, &idp, |_| {
        (now, now + SignedDuration::from_hours(6))
    })?;
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
