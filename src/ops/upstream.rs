//! A logged-in connection to a stored server, for the tunnel and the proxy: the token exactly
//! as `inbound token` gets it (refresh when due, single-flight, rotation saved), the TLS and
//! login of Test & Confirm, one path for every kind of server (delegated, shared mailbox,
//! app-only, certificate credentials, Basic).

use super::tokens::{Policy, fresh_token};
use super::{Error, Result};
use crate::model::{AuthKind, Config, LastTest, Server};
use crate::services::imap::{Credentials, ProbeError, ProbeSettings, Timeouts};
use crate::services::upstream::{self, Upstream};
use crate::store::Store;
use jiff::Timestamp;

/// What a name given by a mail program points at.
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup {
    Found(Box<Server>),
    /// A Username that several servers share (a shared mailbox reached two ways): the Name
    /// must decide.
    Ambiguous(Vec<String>),
    NotFound,
}

/// Finds the server a mail program names: its Name first, then (when `by_id`) its stable id,
/// then its Username (mailbox) when only one server has it.
pub fn find_server(config: &Config, key: &str, by_id: bool) -> Lookup {
    if let Some(s) = config.server(key) {
        return Lookup::Found(Box::new(s.clone()));
    }
    if by_id && let Some(s) = config.servers.iter().find(|s| !s.id.is_empty() && s.id == key) {
        return Lookup::Found(Box::new(s.clone()));
    }
    let same: Vec<&Server> = config
        .servers
        .iter()
        .filter(|s| s.username.eq_ignore_ascii_case(key.trim()))
        .collect();
    match same.as_slice() {
        [] => Lookup::NotFound,
        [one] => Lookup::Found(Box::new((*one).clone())),
        many => Lookup::Ambiguous(many.iter().map(|s| s.name.clone()).collect()),
    }
}

/// A session starts with a token that has at least this much life left. Exchange Online ends
/// a session when the token it logged in with expires (`* BYE Session invalidated -
/// AccessTokenExpired`), and IMAP cannot re-authenticate a session; so a token that is valid
/// but about to expire is refreshed first (single-flight, as any refresh), and a session then
/// lasts most of an hour.
pub const SESSION_TOKEN_MIN_LIFE: jiff::SignedDuration = jiff::SignedDuration::from_mins(15);

/// The credentials `server` logs in with right now (a fresh token for OAuth2).
pub async fn credentials(store: &Store, server: &Server) -> Result<Credentials> {
    match server.auth {
        AuthKind::OAuth2 | AuthKind::OAuth2App => {
            let fresh = fresh_token(
                store,
                &server.name,
                Policy::AtLeast(SESSION_TOKEN_MIN_LIFE),
                Timestamp::now,
            )
            .await?;
            if let Some(w) = &fresh.warning {
                tracing::warn!(server = %server.name, warning = %w, "upstream login: token served with a warning");
            }
            // XOAUTH2's user= is always the mailbox (a shared mailbox's delegate signs in, the
            // mailbox is opened); app-only names the mailbox the same way.
            Ok(Credentials::XOAuth2 {
                user: server.username.clone(),
                access_token: fresh.tokens.access_token,
            })
        }
        AuthKind::Basic => match server.password.clone() {
            Some(password) => Ok(Credentials::Login {
                user: server.username.clone(),
                password,
            }),
            None => Err(Error::NoPassword {
                server: server.name.clone(),
            }),
        },
    }
}

/// Where and how Test & Confirm connects to `server`.
pub fn settings(server: &Server, timeouts: Timeouts) -> ProbeSettings {
    ProbeSettings {
        host: server.host.clone(),
        port: server.port,
        tls: server.ssl || server.auth.is_oauth(),
        ca_file: server.ca_file.clone(),
        timeouts,
    }
}

/// Logs in to `server` and returns the connection. A refused login is recorded in the
/// server's health (as a failed test, so `list`, `check` and the app show it); the token's
/// own troubles are recorded by the token path already.
pub async fn open_for_session(
    store: &Store,
    server: &Server,
    via: &str,
    timeouts: Timeouts,
) -> Result<Upstream> {
    let creds = credentials(store, server).await?;
    match upstream::login(&settings(server, timeouts), &creds).await {
        Ok(up) => {
            clear_refusal(store, server, via);
            Ok(up)
        }
        Err(source) => {
            if is_refusal(&source) {
                record_refusal(store, server, via, &source);
            }
            Err(Error::Upstream {
                server: server.name.clone(),
                source,
            })
        }
    }
}

/// The server said no (as opposed to a network or TLS fault, which says nothing about the
/// mailbox).
pub fn is_refusal(e: &ProbeError) -> bool {
    matches!(
        e,
        ProbeError::AuthRejected { .. }
            | ProbeError::MechanismMissing { .. }
            | ProbeError::NotConnected { .. }
    )
}

fn summary_prefix(via: &str) -> String {
    format!("{via}: login refused")
}

fn record_refusal(store: &Store, server: &Server, via: &str, e: &ProbeError) {
    let summary = format!("{}: {e}", summary_prefix(via));
    let result = store.update(|config| {
        if let Some(s) = config
            .servers
            .iter_mut()
            .find(|s| s.id == server.id && s.name == server.name)
        {
            s.last_test = Some(LastTest {
                at: Timestamp::now(),
                ok: false,
                messages: None,
                summary,
                needs: None,
            });
        }
        Ok::<_, Error>(())
    });
    if let Err(err) = result {
        tracing::warn!(server = %server.name, error = %err, "the refused login could not be recorded");
    }
}

/// A later good login through the same path clears the failure it recorded (only that one:
/// a failed Test & Confirm stays until a test passes).
fn clear_refusal(store: &Store, server: &Server, via: &str) {
    let prefix = summary_prefix(via);
    let ours = |t: &Option<LastTest>| {
        t.as_ref()
            .is_some_and(|t| !t.ok && t.summary.starts_with(&prefix))
    };
    if !ours(&server.last_test) {
        return;
    }
    let result = store.update(|config| {
        if let Some(s) = config.servers.iter_mut().find(|s| s.id == server.id)
            && ours(&s.last_test)
        {
            s.last_test = Some(LastTest {
                at: Timestamp::now(),
                ok: true,
                messages: None,
                summary: format!("{via}: logged in"),
                needs: None,
            });
        }
        Ok::<_, Error>(())
    });
    if let Err(err) = result {
        tracing::warn!(server = %server.name, error = %err, "the good login could not be recorded");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(name: &str, user: &str, id: &str) -> Server {
        Server {
            id: id.into(),
            name: name.into(),
            server_type: Default::default(),
            auth: AuthKind::OAuth2,
            host: "h".into(),
            port: 993,
            ssl: true,
            username: user.into(),
            sign_in_as: None,
            app: None,
            password: None,
            ca_file: None,
            state: Default::default(),
            last_test: None,
        }
    }

    #[test]
    fn names_ids_and_unique_usernames_find_a_server() {
        let config = Config {
            servers: vec![
                server("Support inbox", "support@x.com", "aa11"),
                server("Shared A", "shared@x.com", "bb22"),
                server("Shared B", "shared@x.com", "cc33"),
            ],
            ..Config::default()
        };
        let name = |l: Lookup| match l {
            Lookup::Found(s) => s.name,
            other => format!("{other:?}"),
        };
        assert_eq!(
            name(find_server(&config, "Support inbox", false)),
            "Support inbox"
        );
        assert_eq!(
            name(find_server(&config, "SUPPORT@x.com", false)),
            "Support inbox"
        );
        assert_eq!(name(find_server(&config, "aa11", true)), "Support inbox");
        assert_eq!(find_server(&config, "aa11", false), Lookup::NotFound);
        assert_eq!(
            find_server(&config, "shared@x.com", true),
            Lookup::Ambiguous(vec!["Shared A".into(), "Shared B".into()])
        );
        assert_eq!(name(find_server(&config, "Shared B", false)), "Shared B");
    }
}
