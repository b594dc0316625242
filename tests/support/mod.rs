//! Shared harness for the integration tests (`crate::support` in `tests/testsuite/`; also
//! `examples/bench_env` includes two of its files).
//!
//! * [`fake_idp`]: a local fake of Microsoft's Entra v2.0 endpoints plus token introspection.
//! * [`dovecot`]: a real Dovecot 2.3 (imaps on 127.0.0.1) that validates bearer tokens against
//!   the fake IdP.
//! * [`imap`]: a tiny raw IMAP-over-TLS client for checking servers from tests.
//! * [`mail`]: the usual end-to-end set-up (fake IdP, Dovecot, a store) and bounded waits.
//! * [`store`], [`setup_code`], [`tui`]: stored values, setup codes and the app's answers
//!   that several modules use.
//!
//! Some of it serves only `examples/bench_env` (which includes dovecot.rs and fake_idp.rs),
//! hence the `dead_code` allowance.
#![allow(dead_code)]

pub mod cli;
pub mod dovecot;
pub mod fake_idp;
pub mod hostile;
pub mod imap;
pub mod mail;
pub mod setup_code;
pub mod store;
pub mod tmux;
pub mod tui;

use std::path::PathBuf;

/// `tests/fixtures/` of this crate.
pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("fixtures")
}

/// A file under `tests/fixtures/tls/` (`ca.pem`, `other-ca.pem`, `server.pem`, ...).
pub fn tls_fixture(name: &str) -> PathBuf {
    fixtures_dir().join("tls").join(name)
}

/// The random generator of one test: seeded from `INBOUND_TEST_SEED` when set, else from the
/// system, and the seed is printed (shown with a failure) so a failing run can be repeated.
pub fn seeded_rng(what: &str) -> (u64, rand::rngs::StdRng) {
    use rand::{Rng as _, SeedableRng as _};
    let seed: u64 = std::env::var(SEED_ENV)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| rand::thread_rng().r#gen());
    eprintln!("{what}: seed {seed} ({SEED_ENV}={seed} repeats it)");
    (seed, rand::rngs::StdRng::seed_from_u64(seed))
}

/// Set to a number to repeat the random choices of a run (see [`seeded_rng`]).
pub const SEED_ENV: &str = "INBOUND_TEST_SEED";

/// A secret expiry `months` ahead of today (`YYYY-MM-DD`): expiries are refused when past or
/// more than 24 months ahead, so tests compute theirs instead of writing a fixed year.
pub fn months_ahead(months: i8) -> String {
    jiff::Zoned::now()
        .date()
        .checked_add(jiff::Span::new().months(months))
        .expect("a date months ahead")
        .to_string()
}
