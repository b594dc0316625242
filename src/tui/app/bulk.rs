//! Test or refresh many servers for the app: the core's batch (`test --all`'s) with each
//! server's progress and result sent to the screen as it happens. Cancelling stops only what
//! has not started.

use crate::model::health::Fix;
use crate::ops::Error;
use crate::ops::test::{Batch, DEFAULT_JOBS, test_servers_reporting};
use crate::ops::tokens::{Policy, fresh_token};
use crate::services::imap::{ProbeEvent, Timeouts};
use crate::store::Store;
use crate::tui::state::msg::{BulkEvent, Msg, RunId};
use futures_util::StreamExt;
use jiff::Timestamp;
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

/// True when the way out of `e` is someone signing in again.
fn needs_sign_in(e: &Error) -> bool {
    matches!(e, Error::NotSignedIn { .. })
        || matches!(e.fix(), Some(Fix::Connect { .. } | Fix::SignIn { .. }))
}

fn failed(e: &Error) -> BulkEvent {
    BulkEvent::Failed {
        message: e.to_string(),
        needs_sign_in: needs_sign_in(e),
    }
}

pub(super) fn test(
    store: Store,
    run: RunId,
    servers: Vec<String>,
    cancel: CancellationToken,
    tx: UnboundedSender<Msg>,
) {
    tokio::spawn(async move {
        let batch = Batch {
            jobs: DEFAULT_JOBS,
            timeouts: Timeouts::default(),
            cancel: cancel.clone(),
        };
        let send = |server: &str, event: BulkEvent| {
            let _ = tx.send(Msg::Bulk {
                run,
                server: server.to_string(),
                event,
            });
        };
        let progress = |name: &str| {
            let name = name.to_string();
            let tx = tx.clone();
            move |ev: ProbeEvent| {
                if let ProbeEvent::Started(stage) = ev {
                    let _ = tx.send(Msg::Bulk {
                        run,
                        server: name.clone(),
                        event: BulkEvent::Stage(stage),
                    });
                }
            }
        };
        let done = |name: &str, r: &Result<crate::services::imap::ProbeReport, Error>| match r {
            Ok(report) => send(
                name,
                BulkEvent::Passed(format!("Confirmed · INBOX has {} messages", report.messages)),
            ),
            Err(Error::Cancelled) => send(name, BulkEvent::Cancelled),
            Err(e) => send(name, failed(e)),
        };
        if let Err(e) = test_servers_reporting(&store, servers.clone(), &batch, progress, done).await {
            // The store could not be read: every server fails with that reason.
            for name in &servers {
                send(name, failed(&e));
            }
        }
        cancel.cancel();
        let _ = tx.send(Msg::BulkFinished { run });
    });
}

pub(super) fn refresh(
    store: Store,
    run: RunId,
    servers: Vec<String>,
    cancel: CancellationToken,
    tx: UnboundedSender<Msg>,
) {
    tokio::spawn(async move {
        let send = |server: &str, event: BulkEvent| {
            let _ = tx.send(Msg::Bulk {
                run,
                server: server.to_string(),
                event,
            });
        };
        // As `refresh --all`: unordered, so a slow token endpoint holds back no other start.
        futures_util::stream::iter(servers)
            .map(|name| {
                let store = &store;
                let cancel = cancel.clone();
                let send = &send;
                async move {
                    if cancel.is_cancelled() {
                        return send(&name, BulkEvent::Cancelled);
                    }
                    send(&name, BulkEvent::Started);
                    match fresh_token(store, &name, Policy::Force, Timestamp::now).await {
                        Ok(f) => match f.warning {
                            Some(w) => send(
                                &name,
                                BulkEvent::Failed {
                                    message: w,
                                    needs_sign_in: false,
                                },
                            ),
                            None => send(
                                &name,
                                BulkEvent::Passed(format!(
                                    "valid until {}",
                                    crate::timefmt::local(f.tokens.expires_at)
                                )),
                            ),
                        },
                        Err(e) => send(&name, failed(&e)),
                    }
                }
            })
            .buffer_unordered(DEFAULT_JOBS)
            .collect::<Vec<()>>()
            .await;
        cancel.cancel();
        let _ = tx.send(Msg::BulkFinished { run });
    });
}
