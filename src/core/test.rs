//! Test & Confirm: probe the server with fresh credentials, record the result, and mark the
//! server Confirmed on success.

use super::tokens::{Policy, fresh_token};
use super::{Error, Result};
use crate::model::{AuthKind, LastTest, ServerState};
use crate::services::imap::{
    self, Credentials, ProbeError, ProbeEvent, ProbeReport, ProbeSettings, Timeouts,
};
use crate::store::Store;
use jiff::Timestamp;

/// Runs Test & Confirm for one server; `progress` sees each stage as it happens.
pub async fn test_server(
    store: &Store,
    name: &str,
    timeouts: Timeouts,
    progress: impl FnMut(ProbeEvent) + Send,
) -> Result<ProbeReport> {
    let config = store.load()?;
    let server = super::server_named(&config, name)?;
    // The account the token belongs to, when it is not the mailbox (known from the id_token).
    let mut signed_in = None;
    let creds = match server.auth {
        AuthKind::OAuth2 => {
            // Refreshes first when the token is expired or about to be.
            // No token means no IMAP attempt, so no test result: the token's own trouble is
            // already in its file (blocker, last error) and health reports it from there.
            let fresh = fresh_token(store, name, Policy::WhenDue, Timestamp::now).await?;
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
        AuthKind::Basic => Credentials::Login {
            user: server.username.clone(),
            password: server
                .password
                .clone()
                .ok_or_else(|| Error::Consent("no password stored".into()))?,
        },
    };
    let settings = ProbeSettings {
        host: server.host.clone(),
        port: server.port,
        tls: server.ssl || server.auth == AuthKind::OAuth2,
        ca_file: server.ca_file.clone(),
        timeouts,
    };
    let mut progress = progress;
    let logged = |event: ProbeEvent| {
        if let ProbeEvent::Passed {
            stage,
            detail,
            elapsed,
        } = &event
        {
            tracing::info!(server = name, %stage, detail = %detail, ms = elapsed.as_millis() as u64, "test: stage passed");
        }
        progress(event);
    };
    let outcome = imap::probe(&settings, &creds, logged).await;
    match &outcome {
        Ok(r) => tracing::info!(server = name, messages = r.messages, "test: confirmed"),
        Err(e) => tracing::warn!(server = name, stage = %e.stage(), error = %e, "test: failed"),
    }
    match outcome {
        Ok(report) => {
            // A pass that cannot be saved (full disk) is still a pass: say both.
            record(
                store,
                name,
                true,
                Some(report.messages),
                format!("INBOX has {} messages", report.messages),
            )
            .map_err(|e| match e {
                Error::Store(source) => Error::PassedUnsaved {
                    server: name.into(),
                    messages: report.messages,
                    source,
                },
                other => other,
            })?;
            Ok(report)
        }
        Err(e) => {
            // We know why a login was refused when the token is another account's: say so.
            let e = match (e, signed_in) {
                (ProbeError::AuthRejected { server_text, .. }, Some(account)) => ProbeError::WrongAccount {
                    server_text,
                    signed_in: account,
                    mailbox: server.username.clone(),
                },
                (e, _) => e,
            };
            record(store, name, false, None, format!("{}: {e}", e.stage()))?;
            Err(Error::Probe {
                server: name.into(),
                source: e,
            })
        }
    }
}

fn record(store: &Store, name: &str, ok: bool, messages: Option<u32>, summary: String) -> Result<()> {
    store.update(|config| {
        // The server may have been removed meanwhile: nothing to record then.
        if let Some(s) = config.server_mut(name) {
            s.last_test = Some(LastTest {
                at: Timestamp::now(),
                ok,
                messages,
                summary,
            });
            if ok {
                s.state = ServerState::Confirmed;
            }
        }
        Ok::<_, Error>(())
    })
}
