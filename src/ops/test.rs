//! Test & Confirm: probe the server with fresh credentials, record the result, and mark the
//! server Confirmed on success.

use super::tokens::{Policy, fresh_token};
use super::{Error, Result};
use crate::model::{AuthKind, LastTest, Server, ServerState, TestNeeds};
use crate::services::imap::{
    self, Credentials, ProbeError, ProbeEvent, ProbeReport, ProbeSettings, Timeouts,
};
use crate::services::tls;
use crate::store::Store;
use futures_util::StreamExt;
use jiff::Timestamp;
use std::collections::HashMap;
use tokio_util::sync::CancellationToken;

/// What to write into a server's last test (None: nothing, the server was never probed).
type Outcome = Option<LastTest>;

/// Runs Test & Confirm for one server; `progress` sees each stage as it happens.
pub async fn test_server(
    store: &Store,
    name: &str,
    timeouts: Timeouts,
    progress: impl FnMut(ProbeEvent) + Send,
) -> Result<ProbeReport> {
    let config = store.load()?;
    let server = super::server_named(&config, name);
    warm(server.iter());
    let mut progress = progress;
    let (result, outcome) = run(store, server, name, timeouts, &mut progress).await;
    match record(store, [(name, outcome)]) {
        Ok(()) => result,
        Err(e) => Err(unsaved(name, result, &e)),
    }
}

/// The same probe as Test & Confirm without recording anything (doctor diagnoses; only a
/// test confirms).
pub async fn probe_server(
    store: &Store,
    name: &str,
    timeouts: Timeouts,
    progress: impl FnMut(ProbeEvent) + Send,
) -> Result<ProbeReport> {
    let config = store.load()?;
    let server = super::server_named(&config, name);
    warm(server.iter());
    let mut progress = progress;
    run(store, server, name, timeouts, &mut progress).await.0
}

/// Test & Confirm for many servers, `jobs` at a time; results in the order of `names`. The
/// store is read once and written once at the end: a write per server would hold the store's
/// exclusive lock and fsync hundreds of times, one after another.
pub async fn test_servers<P>(
    store: &Store,
    names: Vec<String>,
    jobs: usize,
    timeouts: Timeouts,
    progress: impl Fn(&str) -> P + Sync,
) -> Result<Vec<(String, Result<ProbeReport>)>>
where
    P: FnMut(ProbeEvent) + Send + 'static,
{
    let batch = Batch {
        jobs,
        timeouts,
        cancel: CancellationToken::new(),
    };
    test_servers_reporting(store, names, &batch, progress, |_, _| {}).await
}

/// How many servers a batch works on at once unless told otherwise (`test --all`'s default).
pub const DEFAULT_JOBS: usize = 128;

/// How a batch of tests runs: how many at once, each stage's time-outs, and the token that
/// stops the servers not started yet (the ones under way finish).
#[derive(Debug, Clone)]
pub struct Batch {
    pub jobs: usize,
    pub timeouts: Timeouts,
    pub cancel: CancellationToken,
}

/// [`test_servers`] that also says each server's result as soon as it is known (`done`), and
/// skips the servers not started when `batch.cancel` fires (their result: [`Error::Cancelled`]).
pub async fn test_servers_reporting<P>(
    store: &Store,
    names: Vec<String>,
    batch: &Batch,
    progress: impl Fn(&str) -> P + Sync,
    done: impl Fn(&str, &Result<ProbeReport>) + Sync,
) -> Result<Vec<(String, Result<ProbeReport>)>>
where
    P: FnMut(ProbeEvent) + Send + 'static,
{
    // The batch is compiled once, not once per caller's closures (it is large: four copies
    // were 88 KB of the binary).
    let progress = |name: &str| -> Reporter { Box::new(progress(name)) };
    reporting(store, names, batch, &progress, &done).await
}

/// What a test says of each stage as it happens.
type Reporter = Box<dyn FnMut(ProbeEvent) + Send>;

async fn reporting(
    store: &Store,
    names: Vec<String>,
    batch: &Batch,
    progress: &(dyn Fn(&str) -> Reporter + Sync),
    done: &(dyn Fn(&str, &Result<ProbeReport>) + Sync),
) -> Result<Vec<(String, Result<ProbeReport>)>> {
    let (jobs, timeouts) = (batch.jobs, batch.timeouts);
    let config = store.load()?;
    let by_name: HashMap<&str, &Server> = config.servers.iter().map(|s| (s.name.as_str(), s)).collect();
    warm(names.iter().filter_map(|n| by_name.get(n.as_str()).copied()));
    let mut done: Vec<(usize, String, Result<ProbeReport>, Outcome)> =
        futures_util::stream::iter(names.into_iter().enumerate())
            .map(|(i, name)| {
                let server =
                    by_name
                        .get(name.as_str())
                        .map(|s| (*s).clone())
                        .ok_or_else(|| Error::NotFound {
                            kind: "server",
                            name: name.clone(),
                        });
                let mut p = progress(&name);
                let cancel = batch.cancel.clone();
                async move {
                    if cancel.is_cancelled() {
                        let result = Err(Error::Cancelled);
                        done(&name, &result);
                        return (i, name, result, None);
                    }
                    let (result, outcome) = run(store, server, &name, timeouts, &mut p).await;
                    done(&name, &result);
                    (i, name, result, outcome)
                }
            })
            // Unordered: one server that times out must not hold back the start of the others.
            .buffer_unordered(jobs.max(1))
            .collect()
            .await;
    done.sort_by_key(|(i, ..)| *i);
    let saved = record(
        store,
        done.iter_mut()
            .map(|(_, name, _, outcome)| (name.as_str(), outcome.take())),
    );
    Ok(done
        .into_iter()
        .map(|(_, name, r, _)| {
            let r = match &saved {
                Ok(()) => r,
                Err(e) => Err(unsaved(&name, r, e)),
            };
            (name, r)
        })
        .collect())
}

/// The result when recording it failed: a pass that cannot be saved (full disk) is still a
/// pass, and the error says both; a failed test keeps its own error.
fn unsaved(name: &str, result: Result<ProbeReport>, save: &Error) -> Error {
    match result {
        Ok(report) => {
            let read_only = matches!(save, Error::Store(e) if e.is_read_only());
            Error::PassedUnsaved {
                server: name.into(),
                messages: report.messages,
                reason: if read_only {
                    "the store is read-only".into()
                } else {
                    save.to_string()
                },
                read_only,
            }
        }
        Err(e) => {
            tracing::warn!(server = name, error = %save, "the failed test could not be recorded");
            e
        }
    }
}

/// The trust stores these servers need start loading while tokens are read.
fn warm<'a>(servers: impl Iterator<Item = &'a Server>) {
    let mut ca_files: Vec<Option<&std::path::Path>> =
        servers.filter(|s| s.ssl).map(|s| s.ca_file.as_deref()).collect();
    ca_files.sort();
    ca_files.dedup();
    for ca_file in ca_files {
        tls::warm(ca_file);
    }
}

async fn run(
    store: &Store,
    server: Result<Server>,
    name: &str,
    timeouts: Timeouts,
    progress: &mut (dyn FnMut(ProbeEvent) + Send),
) -> (Result<ProbeReport>, Outcome) {
    let server = match server {
        Ok(s) => s,
        Err(e) => return (Err(e), None),
    };
    // The account the token belongs to, when it is not the mailbox (known from the id_token).
    let mut signed_in = None;
    let creds = match server.auth {
        AuthKind::OAuth2 | AuthKind::OAuth2App => {
            // Refreshes first when the token is expired or about to be. No token means no IMAP
            // attempt, so no test result: the token's own trouble is already in its file
            // (blocker, last error) and health reports it from there.
            match fresh_token(store, name, Policy::WhenDue, Timestamp::now).await {
                Ok(fresh) => {
                    signed_in = fresh
                        .tokens
                        .account
                        .clone()
                        .filter(|a| !crate::services::oauth::idtoken::same_account(a, &server.username));
                    Credentials::XOAuth2 {
                        user: server.username.clone(),
                        access_token: fresh.tokens.access_token,
                    }
                }
                Err(e) => return (Err(e), None),
            }
        }
        AuthKind::Basic => match server.password.clone() {
            Some(password) => Credentials::Login {
                user: server.username.clone(),
                password,
            },
            None => {
                return (
                    Err(Error::NoPassword {
                        server: server.name.clone(),
                    }),
                    None,
                );
            }
        },
    };
    let settings = ProbeSettings {
        host: server.host.clone(),
        port: server.port,
        tls: server.ssl || server.auth.is_oauth(),
        ca_file: server.ca_file.clone(),
        timeouts,
    };
    let logged = |event: ProbeEvent| {
        if let ProbeEvent::Passed {
            stage,
            detail,
            elapsed,
        } = &event
        {
            let ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX);
            tracing::info!(server = name, %stage, detail = %detail, ms, "test: stage passed");
        }
        progress(event);
    };
    match imap::probe(&settings, &creds, logged).await {
        Ok(report) => {
            tracing::info!(server = name, messages = report.messages, "test: confirmed");
            let summary = format!("INBOX has {} messages", report.messages);
            let outcome = last_test(true, Some(report.messages), summary);
            (Ok(report), outcome)
        }
        Err(e) => {
            tracing::warn!(server = name, stage = %e.stage(), error = %e, "test: failed");
            // We know why a login was refused when the token is another account's: say so.
            let e = match (e, signed_in) {
                (ProbeError::AuthRejected { server_text, .. }, Some(account))
                    if server
                        .sign_in_as
                        .as_deref()
                        .is_some_and(|d| crate::services::oauth::idtoken::same_account(d, &account)) =>
                {
                    ProbeError::DelegateRefused {
                        server_text,
                        delegate: account,
                        mailbox: server.username.clone(),
                    }
                }
                (ProbeError::AuthRejected { server_text, .. }, Some(account)) => ProbeError::WrongAccount {
                    server_text,
                    signed_in: account,
                    mailbox: server.username.clone(),
                },
                (ProbeError::AuthRejected { server_text, .. }, _) if server.auth == AuthKind::OAuth2App => {
                    app_only_rejected(store, name, &server.username, server_text)
                }
                (e, _) => e,
            };
            let outcome = last_test(false, None, format!("{}: {e}", e.stage())).map(|t| LastTest {
                needs: needs(&e),
                ..t
            });
            let err = Error::Probe {
                server: name.into(),
                source: e,
            };
            (Err(err), outcome)
        }
    }
}

/// A refused app-only login: the token passed the checks that could be made (none when it
/// cannot be read), so say every piece that may be missing, most likely first, with the commands.
fn app_only_rejected(store: &Store, name: &str, mailbox: &str, server_text: String) -> ProbeError {
    let rejection = match super::exchange::exchange_setup(store, name) {
        Ok(setup) => super::exchange::rejection(&setup),
        Err(e) => super::exchange::rejection_unread(name, mailbox, e.to_string()),
    };
    ProbeError::AppOnlyRejected {
        server_text,
        mailbox: mailbox.into(),
        rejection: Box::new(rejection),
    }
}

fn last_test(ok: bool, messages: Option<u32>, summary: String) -> Outcome {
    Some(LastTest {
        at: Timestamp::now(),
        ok,
        messages,
        summary,
        needs: None,
    })
}

/// What a refused login needs before another test can pass (None: a test may pass as it is).
fn needs(e: &ProbeError) -> Option<TestNeeds> {
    match e {
        ProbeError::WrongAccount { .. } | ProbeError::NotConnected { .. } => Some(TestNeeds::SignIn),
        ProbeError::DelegateRefused { .. } => Some(TestNeeds::MailboxPermission),
        ProbeError::AppOnlyRejected { .. } => Some(TestNeeds::ExchangeSetup),
        _ => None,
    }
}

fn record<'a>(store: &Store, outcomes: impl IntoIterator<Item = (&'a str, Outcome)>) -> Result<()> {
    let outcomes: Vec<(&str, LastTest)> = outcomes
        .into_iter()
        .filter_map(|(name, o)| o.map(|o| (name, o)))
        .collect();
    if outcomes.is_empty() {
        return Ok(());
    }
    store.update(|config| {
        for (name, test) in outcomes {
            // The server may have been removed meanwhile: nothing to record then.
            if let Some(s) = config.server_mut(name) {
                if test.ok {
                    s.state = ServerState::Confirmed;
                }
                s.last_test = Some(test);
            }
        }
        Ok::<_, Error>(())
    })
}
