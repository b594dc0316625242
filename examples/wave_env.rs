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
#[allow(dead_code)]
#[path = "support/oauth_store.rs"]
mod oauth_store;

use fake_idp::{DEFAULT_ACCOUNT, FakeIdp};
use jiff::{SignedDuration, Timestamp};
use std::path::{Path, PathBuf};
use tokio::signal::unix::{SignalKind, signal};

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

/// Due: one hour's life, two minutes left (inside the 5-minute margin). Else six hours.
fn seed(dir: &Path, n: usize, due: usize, idp: &FakeIdp) -> Result<(), inbound::store::StoreError> {
    let servers = oauth_store::Servers {
        app: "wave",
        authority: idp.authority(),
        account: DEFAULT_ACCOUNT,
        // Never reached: the script pushes scheduled tests out.
        host: "imap.invalid".into(),
        port: 993,
        ca_file: None,
    };
    let now = Timestamp::now();
    oauth_store::seed(dir, n, &servers, idp, |i| {
        if i < due {
            (
                now - SignedDuration::from_secs(3480),
                now + SignedDuration::from_secs(120),
            )
        } else {
            (now, now + SignedDuration::from_hours(6))
        }
    })
}
