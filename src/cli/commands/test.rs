//! `inbound test`: Test & Confirm, of one server or of all.

use crate::cli::TestArgs;
use crate::cli::output;
use crate::cli::report::{advice, code_for};
use crate::exit;
use crate::ops::{self as core_ops, Error};
use crate::services::imap::{ProbeEvent, Timeouts};
use crate::store::Store;
use std::time::Duration;

fn progress_printer(name: &str, quiet: bool) -> impl FnMut(ProbeEvent) + Send + use<> {
    let prefix = name.to_string();
    move |ev| {
        if quiet {
            return;
        }
        if let ProbeEvent::Passed {
            stage,
            detail,
            elapsed,
        } = ev
        {
            say!(
                "  ✔ {:<13}{:<52}{:>6} ms   [{prefix}]",
                stage.label(),
                crate::textwidth::truncate(&detail, 50),
                elapsed.as_millis()
            );
        }
    }
}

pub(super) async fn test(store: &Store, a: TestArgs) -> Result<u8, Error> {
    let names: Vec<String> = if a.all {
        store.load()?.servers.iter().map(|s| s.name.clone()).collect()
    } else {
        a.name.into_iter().collect()
    };
    let quiet = a.json || names.len() > 1;
    let timeouts = match a.timeout {
        Some(secs) => {
            let d = Duration::from_secs(secs.clamp(1, 600));
            Timeouts {
                connect: d,
                tls: d,
                command: d,
                authenticate: d,
            }
        }
        None => Timeouts::default(),
    };
    // Said first: the tests run, but a read-only store keeps none of their results.
    if !names.is_empty() && !store.is_writable() {
        say!(
            "The store {} is read-only: the servers are tested, but no result can be recorded (none is marked Confirmed).",
            store.dir().display()
        );
    }
    let results = core_ops::test::test_servers(store, names, usize::from(a.jobs), timeouts, |name| {
        progress_printer(name, quiet)
    })
    .await?;
    let mut worst = exit::OK;
    let mut json = Vec::new();
    for (name, r) in &results {
        match r {
            Ok(report) => {
                if !a.json {
                    out!("✔ {name}: Confirmed · INBOX has {} messages", report.messages);
                }
                json.push(output::TestRow::Passed {
                    server: name.clone(),
                    ok: true,
                    state: crate::model::ServerState::Confirmed.label(),
                    messages: report.messages,
                });
            }
            Err(e) => {
                worst = worst.max(code_for(e));
                if !a.json {
                    // A pass that could not be recorded is no failure of the server.
                    let glyph = if matches!(e, Error::PassedUnsaved { .. }) {
                        "✔"
                    } else {
                        "✖"
                    };
                    out!("{glyph} {name}: {e}");
                    for line in advice(e) {
                        out!("  → {line}");
                    }
                }
                let stage = match e {
                    Error::Probe { source, .. } => Some(source.stage().label()),
                    _ => None,
                };
                json.push(output::TestRow::Failed {
                    server: name.clone(),
                    ok: false,
                    stage,
                    error: output::ErrorFields::new(e),
                });
            }
        }
    }
    if a.json {
        out!("{}", output::pretty(&json));
    }
    Ok(worst)
}
