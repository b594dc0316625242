//! `inbound check`: the monitoring check.

use super::views::healths_of;
use crate::cli::CheckArgs;
use crate::cli::output;
use crate::model::health::{self, Level};
use crate::ops::{self as core_ops, Error};
use crate::services::imap::Timeouts;
use crate::store::Store;

pub(super) async fn check(store: &Store, a: CheckArgs) -> u8 {
    let config = match store.load() {
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
    let healths = match config
        .map_err(Error::from)
        .and_then(|c| healths_of(store, c, names))
    {
        Ok(h) => h,
        Err(e) => {
            out!("UNKNOWN - {e}");
            return Level::Unknown as u8;
        }
    };
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
        for h in &healths {
            out!("{} {}: {}", h.level.label(), h.server, h.summary());
            for f in h.findings.iter().filter(|f| f.level >= Level::Warning) {
                out!("    {} → {}", f.message, crate::cli::fix::text(&f.fix));
            }
        }
    }
    worst as u8
}
