//! Handing out fresh access tokens and refreshing them without ever losing one.
//!
//! Hot path (`inbound token` on a valid token): the config and one small file, no lock, no
//! network.
//! Slow path: exclusive lock on the server's token file, re-read (another process may have
//! refreshed meanwhile: single-flight across processes), refresh, write the rotated refresh
//! token atomically, and only then hand out the new access token. App-only servers take the
//! same two paths; their slow path asks for a new client-credentials token instead of
//! refreshing, so 20 mail programs starting at once still make one token request.

use super::{Error, Result};
use crate::model::health::{access_token_usable, needs_refresh};
use crate::model::{AuthKind, Flow, RecordedError, Server, TokenFile, TokenSet};
use crate::services::oauth::{self, OAuthError};
use crate::store::Store;
use jiff::Timestamp;

/// How a token request ended.
#[derive(Debug, Clone)]
pub struct Fresh {
    pub tokens: TokenSet,
    pub username: String,
    /// True when this call refreshed (false: served from the store).
    pub refreshed: bool,
    /// Set when the token is served although a refresh failed (it is still valid).
    pub warning: Option<String>,
}

/// When to refresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Only when due (ahead of expiry).
    WhenDue,
    /// Now, even if the token is still fresh (`inbound refresh`).
    Force,
    /// As [`Policy::WhenDue`], but also when the token expires within the lead (`serve`
    /// refreshes ahead); decided again under the lock, so processes still refresh once.
    Ahead(jiff::SignedDuration),
    /// When due, or when the token has less than this life left (an IMAP session that starts
    /// now lasts until its token expires). Single-flight like `WhenDue`.
    AtLeast(jiff::SignedDuration),
}

impl Policy {
    /// Serve a stored token when it is fresh enough (every policy but Force).
    fn serves_stored(self) -> bool {
        self != Policy::Force
    }

    /// Whether to look at the stored token before taking the lock: worth it where the
    /// token is usually fresh (a mail program asking), not for serve, which asks only for
    /// tokens its own read found due (the lock's read decides again either way).
    fn reads_before_locking(self) -> bool {
        matches!(self, Policy::WhenDue | Policy::AtLeast(_))
    }

    /// Whether `tokens` are due for a refresh under this policy.
    fn due(self, tokens: &TokenSet, now: Timestamp) -> bool {
        match self {
            Policy::Ahead(lead) => {
                needs_refresh(tokens, now) || now >= tokens.expires_at - ahead_lead(tokens, lead)
            }
            Policy::AtLeast(min) => needs_refresh(tokens, now) || tokens.expires_at.duration_since(now) < min,
            _ => needs_refresh(tokens, now),
        }
    }
}

/// The lead serve asks for, at most half the token's lifetime: a lead as long as the lifetime
/// would refresh again the moment a token arrives.
pub fn ahead_lead(tokens: &TokenSet, lead: jiff::SignedDuration) -> jiff::SignedDuration {
    let half = tokens.expires_at.duration_since(tokens.issued_at) / 2;
    lead.min(half.max(jiff::SignedDuration::ZERO))
}

fn usable(file: &TokenFile, policy: Policy, now: Timestamp) -> Option<&TokenSet> {
    file.tokens.as_ref().filter(|t| !policy.due(t, now))
}

/// A token minted the way this server authenticates (app-only tokens only for app-only).
fn same_kind(tokens: &TokenSet, auth: AuthKind) -> bool {
    (tokens.flow == Flow::ClientCredentials) == (auth == AuthKind::OAuth2App)
}

/// A valid access token for `server`, refreshing when due.
pub async fn fresh_token(
    store: &Store,
    server: &str,
    policy: Policy,
    now: impl Fn() -> Timestamp,
) -> Result<Fresh> {
    // The server's current id and mailbox decide which token file is its own. Only that
    // server is built when the store is unambiguous; else the whole file is read (and any
    // problem in it reported as every command reports it).
    let config = match store.load_one(server)? {
        Some(config) => config,
        None => store.load()?,
    };
    fresh_token_in(store, &config, server, policy, now).await
}

/// [`fresh_token`] with the configuration already read: serve's refresh wave reads it once
/// for the whole wave, not once per server (at 1,000 servers that read was most of a
/// refresh's CPU). The rules stay: the token file is read again under its exclusive lock and
/// is bound to the server's id and mailbox, so a server removed or pointed at another mailbox
/// since `config` was read gets nothing written (an app-only server, which needs no stored
/// token, is the exception: it gets a file that the next write of the store sweeps away).
pub async fn fresh_token_in(
    store: &Store,
    config: &crate::model::Config,
    server: &str,
    policy: Policy,
    now: impl Fn() -> Timestamp,
) -> Result<Fresh> {
    let (srv, app) = super::oauth_target(config, server)?;
    if policy.reads_before_locking() {
        // No lock: files are replaced by rename, so this is the old file or the new one.
        let hot = store.read_tokens(&srv)?;
        if let Some(file) = hot.as_ref().filter(|f| f.blocker.is_none())
            && let Some(t) = usable(file, policy, now()).filter(|t| same_kind(t, srv.auth))
        {
            return Ok(Fresh {
                tokens: t.clone(),
                username: file.username.clone(),
                refreshed: false,
                warning: None,
            });
        }
    }

    // A free lock is taken here; one held by another process is waited for off the
    // runtime (a wave of 1,000 made two hops to a blocking thread per refresh).
    let locked = match store.try_lock_tokens(&srv) {
        Ok(Some(lock)) => Ok(lock),
        Ok(None) => {
            let store = store.clone();
            let srv = srv.clone();
            tokio::task::spawn_blocking(move || store.lock_tokens(&srv, true))
                .await
                .map_err(|e| Error::Io(e.to_string()))?
        }
        Err(e) => Err(e),
    };
    let lock = match locked {
        Ok(lock) => lock,
        // A read-only store cannot keep a refreshed token (nor its rotated refresh token):
        // serve the stored one while it is still valid, else say why there is none.
        Err(e) if e.is_read_only() && policy == Policy::WhenDue => {
            let at = now();
            let file = store.read_tokens(&srv)?;
            if let Some(file) = file
                && let Some(t) = file
                    .tokens
                    .as_ref()
                    .filter(|t| same_kind(t, srv.auth) && access_token_usable(t, at))
            {
                return Ok(Fresh {
                    tokens: t.clone(),
                    username: file.username.clone(),
                    refreshed: false,
                    warning: Some(format!(
                        "the store is read-only, so the token was not refreshed; it is still valid until {}",
                        crate::timefmt::local(t.expires_at)
                    )),
                });
            }
            return Err(e.into());
        }
        Err(e) => return Err(e.into()),
    };
    let mut file = match store.read_tokens(&srv)? {
        Some(f) => f,
        None => {
            store.drop_unusable_tokens(&srv)?;
            TokenFile::for_server(&srv)
        }
    };
    let app_only = srv.auth == AuthKind::OAuth2App;
    // App-only has nothing to sign in to: with no token yet, the first one is fetched now.
    let current = match (file.tokens.clone().filter(|t| same_kind(t, srv.auth)), app_only) {
        (Some(t), _) => Some(t),
        (None, true) => None,
        (None, false) => {
            return Err(Error::NotSignedIn {
                server: server.into(),
            });
        }
    };
    let at = now();
    let live = |t: &Option<TokenSet>| t.as_ref().filter(|t| access_token_usable(t, at)).cloned();
    if policy.serves_stored()
        && file.blocker.is_none()
        && let Some(t) = current.as_ref().filter(|t| !policy.due(t, at))
    {
        // Someone else refreshed while we waited for the lock.
        return Ok(Fresh {
            tokens: t.clone(),
            username: file.username,
            refreshed: false,
            warning: None,
        });
    }
    // A refresh someone asks for (Force) tries again: the cause may be fixed by now (a secret
    // replicated, consent granted), and replaying the old refusal would say nothing new.
    if let Some(blocker) = file.blocker.filter(|_| policy.serves_stored()) {
        let message = file
            .last_error
            .as_ref()
            .map_or_else(|| "refresh refused".to_string(), |e| e.message.clone());
        if let Some(t) = live(&current).filter(|_| policy.serves_stored()) {
            return Ok(Fresh {
                tokens: t,
                username: file.username,
                refreshed: false,
                warning: Some(format!(
                    "served the still-valid token, but \"{server}\" needs attention: {message}"
                )),
            });
        }
        return Err(Error::Blocked {
            server: server.into(),
            app: app.name.clone(),
            blocker,
            message,
        });
    }
    // Microsoft or the network failed recently: don't hammer it on every mail program start
    // while the current token still works.
    if policy.serves_stored()
        && let Some(t) = live(&current)
        && backoff_until(&file).is_some_and(|retry_at| at < retry_at)
    {
        return Ok(Fresh {
            tokens: t,
            username: file.username,
            refreshed: false,
            warning: None,
        });
    }

    let result = match &current {
        // App-only: a new token from the app's credentials, checked before it counts.
        _ if app_only => oauth::app_only::imap_token(&app).await.map(|g| {
            let mut tokens = g.grant.into_token_set(now(), Flow::ClientCredentials, None);
            tokens.principal_id = g.principal_id;
            tokens
        }),
        Some(t) => match t.refresh_token.clone() {
            Some(rt) => oauth::refresh(&app, &rt, t.flow)
                .await
                .map(|grant| grant.into_token_set(now(), t.flow, Some(t))),
            None => {
                return Err(Error::NotSignedIn {
                    server: server.into(),
                });
            }
        },
        None => {
            return Err(Error::NotSignedIn {
                server: server.into(),
            });
        }
    };
    let at = now();
    match result {
        Ok(tokens) => {
            file.tokens = Some(tokens.clone());
            file.blocker = None;
            file.last_error = None;
            file.failures = 0;
            // Written (atomically) before anyone sees the new access token.
            write_then_unlock(store, &srv, &file, lock).await?;
            tracing::info!(server, app_only, "token refreshed");
            Ok(Fresh {
                tokens,
                username: file.username,
                refreshed: true,
                warning: None,
            })
        }
        Err(e) => {
            record_failure(&mut file, &e, at);
            write_then_unlock(store, &srv, &file, lock).await?;
            tracing::warn!(server, error = %e, "token refresh failed");
            let live = current.filter(|t| access_token_usable(t, at));
            if let Some(t) = live.filter(|_| e.is_transient() || policy.serves_stored()) {
                return Ok(Fresh {
                    tokens: t,
                    username: file.username,
                    refreshed: false,
                    warning: Some(format!("refresh failed ({e}); the current token is still valid")),
                });
            }
            match file.blocker {
                Some(blocker) => Err(Error::Blocked {
                    server: server.into(),
                    app: app.name.clone(),
                    blocker,
                    message: e.to_string(),
                }),
                None => Err(Error::OAuth {
                    server: server.into(),
                    source: e,
                }),
            }
        }
    }
}

/// Writes the token file and only then releases its lock, on a blocking thread: the write
/// syncs the file and its directory, and a wave of refreshes must not hold the runtime's few
/// threads while the disk syncs. The lock goes with the write, so a caller that stops waiting
/// (serve stopping) cannot release it before the rotated refresh token is on disk.
async fn write_then_unlock(
    store: &Store,
    srv: &Server,
    file: &TokenFile,
    lock: crate::store::atomic::LockGuard,
) -> Result<()> {
    let (store, srv, file) = (store.clone(), srv.clone(), file.clone());
    tokio::task::spawn_blocking(move || {
        let written = store.write_tokens(&srv, &file);
        drop(lock);
        written
    })
    .await
    .map_err(|e| Error::Io(e.to_string()))?
    .map_err(Error::from)
}

/// After `n` consecutive transient failures, wait 30 s · 2^(n-1), at most 15 minutes.
pub fn backoff_until(file: &TokenFile) -> Option<Timestamp> {
    let err = file.last_error.as_ref().filter(|e| e.transient)?;
    if file.failures == 0 {
        return None;
    }
    let secs = (30_i64 << file.failures.saturating_sub(1).min(10)).min(900);
    Some(err.at + jiff::SignedDuration::from_secs(secs))
}

fn record_failure(file: &mut TokenFile, e: &OAuthError, at: Timestamp) {
    let transient = e.is_transient() || e.blocker().is_none();
    file.last_error = Some(RecordedError {
        at,
        message: e.to_string(),
        hint: e.hint(),
        transient,
    });
    if transient {
        file.failures = file.failures.saturating_add(1);
    } else {
        file.blocker = e.blocker();
    }
}

/// Stores tokens from a fresh sign-in (consent or device code): clears any blocker. The
/// server must still be the one signed in for (same id and mailbox; a rename is fine): a
/// server removed or pointed at another mailbox meanwhile gets nothing.
pub fn store_consent(store: &Store, signed_in_for: &Server, tokens: TokenSet) -> Result<()> {
    let config = store.load()?;
    let srv = config
        .servers
        .iter()
        .find(|s| s.id == signed_in_for.id && s.username == signed_in_for.username)
        .cloned()
        .ok_or_else(|| Error::Changed {
            server: signed_in_for.name.clone(),
        })?;
    store.update_tokens(&srv, |f| {
        f.tokens = Some(tokens);
        f.blocker = None;
        f.last_error = None;
        f.failures = 0;
        Ok::<_, Error>(())
    })
}
