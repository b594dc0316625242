//! Test & Confirm: probe the server with fresh credentials, record the result, and mark the
//! server Confirmed on success.

use super::tokens::{Policy, fresh_token};
use super::{Error, Result};
use crate::model::{AuthKind, LastTest, ServerState};
use crate::services::imap::{self, Credentials, ProbeEvent, ProbeReport, ProbeSettings, Timeouts};
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
    let creds = match server.auth {
        AuthKind::OAuth2 => {
            // Refreshes first when the token is expired or about to be.
            let fresh = match fresh_token(store, name, Policy::WhenDue, Timestamp::now).await {
                Ok(f) => f,
                Err(e) => {
                    record(store, name, false, None, format!("token: {e}"))?;
                    return Err(e);
                }
            };
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
    match imap::probe(&settings, &creds, progress).await {
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
