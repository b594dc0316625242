//! `inbound check`: the monitoring check.

use super::views::healths_of;
use crate::cli::CheckArgs;
use crate::cli::output;
use crate::model::health::{self, Level};
use crate::ops::{self as core_ops, Error};
use crate::services::imap::Timeouts;
use crate::store::Store;
use std::io::Write as _;

pub(super) async fn check(store: &Store, a: CheckArgs) -> u8 {
    // Without --test, the token cache is read beside the configuration (see
    // `Store::load_with_token_cache`); a test writes tokens, so then it is read after.
    let ahead = (!a.test).then(|| store.read_token_cache());
    let loaded = match &ahead {
        None => store.load().map(|c| (c, None)),
        Some(bytes) => store.load_with_token_cache(bytes).map(|(c, t)| (c, Some(t))),
    };
    let (config, cache) = match loaded {
        Ok(c) => c,
        Err(e) => {
            out!("UNKNOWN - store unreadable: {e}");
            return Level::Unknown as u8;
        }
    };
    if a.test {
        let names: Vec<String> = config
            .servers
            .iter()
            .filter(|s| a.names.is_empty() || a.names.contains(&s.name))
            .map(|s| s.name.clone())
            .collect();
        // Failures show in the health below (each server's last test); a store that cannot be
        // written shows there too.
        let _ =
            core_ops::test::test_servers(store, names, usize::from(a.jobs), Timeouts::default(), |_| |_| {})
                .await;
    }
    let names = if a.names.is_empty() {
        None
    } else {
        Some(a.names.as_slice())
    };
    // A test wrote its results: read them back.
    let config = if a.test { store.load() } else { Ok(config) };
    let after;
    let mut cache = match cache {
        Some(cache) => cache,
        None => {
            after = store.read_token_cache();
            after.parse()
        }
    };
    let healths = match config
        .map_err(Error::from)
        .and_then(|c| healths_of(store, c, &mut cache, names))
    {
        Ok(h) => h,
        Err(e) => {
            out!("UNKNOWN - {e}");
            return Level::Unknown as u8;
        }
    };
    // Left to the process's exit, as the read model is (see `views::exiting`).
    super::views::exiting(cache);
    super::views::exiting(ahead);
    let worst = healths.iter().map(|h| h.level).max().unwrap_or(Level::Ok);
    if a.json {
        let healths: Vec<&health::Health> = healths.iter().collect();
        out!(
            "{}",
            output::pretty(&output::CheckJson {
                status: worst,
                servers: healths
            })
        );
    } else {
        let count = |l: Level| healths.iter().filter(|h| h.level == l).count();
        let bad = healths.len() - count(Level::Ok);
        // Nagios/Icinga: text, then perfdata after "|".
        out!(
            "{} - {} server{}, {} need{} attention | ok={} warning={} critical={} unknown={}",
            worst.label(),
            healths.len(),
            if healths.len() == 1 { "" } else { "s" },
            bad,
            if bad == 1 { "s" } else { "" },
            count(Level::Ok),
            count(Level::Warning),
            count(Level::Critical),
            count(Level::Unknown)
        );
        // Written at once: `out!` writes each line on its own, 10,000 system calls at 10,000
        // servers. Each line is made safe as `out!` makes it; a large store's on two threads.
        let lines = crate::parallel::map(&healths, server_lines);
        let _ = std::io::stdout().lock().write_all(lines.concat().as_bytes());
        super::views::exiting(lines);
    }
    super::views::exiting(healths);
    worst as u8
}

/// A server's lines of the text report: its health, then each finding to act on with its fix.
fn server_lines(h: &health::Health) -> String {
    let mut text = String::new();
    let mut line = |l: String| {
        text.push_str(&crate::sanitize::terminal(&l));
        text.push('\n');
    };
    line(format!("{} {}: {}", h.level.label(), h.server, h.summary()));
    for f in h.findings.iter().filter(|f| f.level >= Level::Warning) {
        line(format!("    {} → {}", f.message, crate::cli::fix::text(&f.fix)));
    }
    text
}
