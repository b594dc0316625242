//! `inbound proxy`: a local IMAP server that turns a client's LOGIN (or AUTHENTICATE PLAIN)
//! with a local proxy password into an XOAUTH2 login upstream, then relays the session.
//!
//! [`run`] is the library entry point (the CLI's `inbound proxy` and `inbound serve` host it):
//! it listens until `shutdown` is cancelled, then stops accepting and lets sessions finish for
//! [`ProxyConfig::grace`]. Each session's outcome is sent as a [`ProxyEvent`] (metrics,
//! alerts) and logged; the receiver must keep reading (the channel is bounded and a session
//! waits for room before it ends).
//!
//! Token expiry during a long session: Exchange Online checks the OAuth token when the client
//! authenticates, not during the session. A session that logged in with a token that expires
//! an hour later stays authenticated (IDLE included) until it is closed; a new token is only
//! needed for the next login. The proxy therefore never touches a running session: each new
//! login gets a fresh token (refreshed when due), and the relay passes everything through
//! untouched. (email-oauth2-proxy works the same way: it refreshes at login time only.) See
//! the README's "Long sessions and token expiry".

pub mod cert;
pub mod command;
pub mod files;
pub mod limiter;
pub mod password;
mod session;

use crate::model::Settings;
use crate::services::imap::Timeouts;
use crate::store::{Store, StoreError};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How the proxy runs.
#[derive(Debug, Clone)]
pub struct ProxyConfig {
    /// Plain IMAP (STARTTLS offered when `tls` is on).
    pub listen: SocketAddr,
    /// Implicit TLS too, on this address (needs the certificate, made on first start).
    pub tls_listen: Option<SocketAddr>,
    pub max_connections: usize,
    /// From connect to a good login (RFC 9051 §5.4 allows a short pre-auth timer).
    pub preauth_timeout: Duration,
    /// After login, no byte either way for this long ends the session (RFC 9051: at least
    /// 30 minutes; IDLE clients re-issue IDLE every 29 minutes or less).
    pub idle_timeout: Duration,
    /// After shutdown: how long open sessions may still run.
    pub grace: Duration,
    /// The upstream login's time limits (Test & Confirm's).
    pub upstream_timeouts: Timeouts,
    /// How a refusal's fix is worded to the mail program (the CLI's command lines); without
    /// it, the fix's words alone.
    pub wording: Option<crate::model::health::ShellWording>,
}

/// The pre-auth timer: long enough to type into a telnet session, short for a slowloris.
pub const DEFAULT_PREAUTH_TIMEOUT: Duration = Duration::from_secs(60);
/// After login: 31 minutes, just over RFC 9051's 30-minute minimum.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(31 * 60);
/// After SIGTERM.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(10);

impl ProxyConfig {
    /// The settings' proxy configuration, with `listen` and `tls` from the command line when
    /// given.
    pub fn from_settings(settings: &Settings, listen: Option<SocketAddr>, tls: Option<bool>) -> Self {
        let listen = listen.unwrap_or_else(|| settings.proxy_listen());
        let tls = tls.or(settings.proxy_tls).unwrap_or(false);
        let tls_listen = tls.then(|| match settings.proxy_tls_listen {
            Some(a) => a,
            None => SocketAddr::new(listen.ip(), crate::model::DEFAULT_PROXY_TLS_PORT),
        });
        Self {
            listen,
            tls_listen,
            max_connections: settings.proxy_max_connections() as usize,
            preauth_timeout: DEFAULT_PREAUTH_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            grace: DEFAULT_GRACE,
            upstream_timeouts: Timeouts::default(),
            wording: None,
        }
    }
}

/// How a client should connect, for one listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Security {
    /// Plain IMAP on loopback (nothing leaves the machine).
    None,
    /// Plain port, STARTTLS before LOGIN.
    Starttls,
    /// Implicit TLS (SSL/TLS on connect).
    Tls,
}

impl Security {
    /// The words a mail program's settings use.
    pub fn client_setting(self) -> &'static str {
        match self {
            Security::None => "no encryption (plain IMAP, loopback only)",
            Security::Starttls => "STARTTLS",
            Security::Tls => "SSL/TLS (implicit TLS)",
        }
    }
}

/// Where a client connects and how (for `show` and the start banner).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ClientSettings {
    pub host: String,
    pub port: u16,
    pub security: Security,
    /// The user to log in as: the server's Name.
    pub user: String,
}

/// What a client of `server` should use, given the settings.
pub fn client_settings(settings: &Settings, server_name: &str) -> ClientSettings {
    let cfg = ProxyConfig::from_settings(settings, None, None);
    // With TLS on, the implicit-TLS port is the one to recommend (no STARTTLS mismatch).
    let (addr, security) = match cfg.tls_listen {
        Some(tls) => (tls, Security::Tls),
        None => (cfg.listen, Security::None),
    };
    ClientSettings {
        host: host_of(addr.ip()),
        port: addr.port(),
        security,
        user: server_name.to_string(),
    }
}

fn host_of(ip: IpAddr) -> String {
    if ip.is_unspecified() || ip.is_loopback() {
        match ip {
            IpAddr::V6(_) if !ip.is_unspecified() => "::1".into(),
            _ => "127.0.0.1".into(),
        }
    } else {
        ip.to_string()
    }
}

/// Something the proxy did, for the host to count, alert on or print.
#[derive(Debug, Clone)]
pub enum ProxyEvent {
    /// Listening; with the certificate when TLS is on.
    Started {
        listen: SocketAddr,
        tls_listen: Option<SocketAddr>,
        certificate: Option<CertificateInfo>,
        /// The open-file limit (raised to the hard limit at start) and the sessions it fits.
        files: files::FileBudget,
    },
    /// One client connection ended.
    Session(SessionReport),
    /// Shutdown began; this many sessions were open.
    Stopping { open: usize },
}

#[derive(Debug, Clone)]
pub struct CertificateInfo {
    pub ca_file: std::path::PathBuf,
    pub sha256: String,
    pub made_now: bool,
}

/// One session, as logged.
#[derive(Debug, Clone)]
pub struct SessionReport {
    /// The server logged in to (None: no good local login).
    pub server: Option<String>,
    pub client: SocketAddr,
    pub outcome: Outcome,
    /// Bytes relayed client → server and server → client after login.
    pub to_server: u64,
    pub to_client: u64,
    pub duration: Duration,
}

/// How a session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Logged in and relayed until `ended` (closed, idle timeout, shutdown, an I/O error).
    Relayed { ended: String },
    /// The client left (LOGOUT, closed) before a good login; `failed_logins` wrong ones.
    NoLogin { failed_logins: u32 },
    /// Wrong user or password (`failed_logins` of them), then closed by the proxy.
    TooManyFailures { failed_logins: u32 },
    /// The client address is rate-limited.
    RateLimited,
    /// The upstream refused or failed; `cause` is what the client was told.
    Upstream { cause: String, refused: bool },
    /// No login within the pre-auth time.
    PreauthTimeout,
    /// A line or literal too long, or a TLS handshake that failed.
    Protocol { cause: String },
    /// Over the connection limit.
    TooManyConnections,
}

impl Outcome {
    /// A short word for logs and metrics labels.
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Relayed { .. } => "relayed",
            Outcome::NoLogin { .. } => "no_login",
            Outcome::TooManyFailures { .. } => "too_many_failures",
            Outcome::RateLimited => "rate_limited",
            Outcome::Upstream { refused: true, .. } => "upstream_refused",
            Outcome::Upstream { .. } => "upstream_failed",
            Outcome::PreauthTimeout => "preauth_timeout",
            Outcome::Protocol { .. } => "protocol_error",
            Outcome::TooManyConnections => "too_many_connections",
        }
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Relayed { ended } => write!(f, "relayed, {ended}"),
            Outcome::NoLogin { failed_logins } => write!(f, "closed before login ({failed_logins} failed)"),
            Outcome::TooManyFailures { failed_logins } => write!(f, "{failed_logins} failed logins, closed"),
            Outcome::RateLimited => f.write_str("rate-limited: too many failed logins from this address"),
            Outcome::Upstream { cause, .. } => write!(f, "upstream: {cause}"),
            Outcome::PreauthTimeout => f.write_str("no login in time"),
            Outcome::Protocol { cause } => f.write_str(cause),
            Outcome::TooManyConnections => f.write_str("refused: connection limit reached"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error(
        "{addr} is not a loopback address: the proxy takes passwords, so it listens beyond this machine only with TLS (turn its TLS on)"
    )]
    NotLoopback { addr: SocketAddr },
    #[error("cannot listen on {addr}: {message}")]
    Bind { addr: SocketAddr, message: String },
    #[error(transparent)]
    Certificate(#[from] cert::CertError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ProxyError {
    /// What to do, in words (the CLI names its flags: `cli::proxy`).
    pub fn hint(&self) -> Option<String> {
        match self {
            ProxyError::Bind { .. } => Some(
                "another program (another proxy of inbound?) listens there: stop it, or choose another address for the proxy".into(),
            ),
            ProxyError::NotLoopback { .. } => Some(
                "keep the proxy on 127.0.0.1, or turn its TLS on so that passwords cross the network only encrypted".into(),
            ),
            _ => None,
        }
    }
}

/// What every session shares.
pub(crate) struct Shared {
    pub store: Store,
    pub cfg: ProxyConfig,
    pub acceptor: Option<tokio_native_tls::TlsAcceptor>,
    pub failed: Mutex<limiter::FailedLogins>,
    pub events: mpsc::Sender<ProxyEvent>,
    /// Cancelled when the grace period is over: sessions end at once.
    pub hard_stop: CancellationToken,
}

/// Runs the proxy until `shutdown` is cancelled (then the grace period), or a listener fails
/// to start.
pub async fn run(
    cfg: ProxyConfig,
    store: Store,
    shutdown: CancellationToken,
    events: mpsc::Sender<ProxyEvent>,
) -> Result<(), ProxyError> {
    // Two descriptors per session: the soft limit (often 1,024) would cap the proxy near
    // 500 sessions while the hard one allows more, so it is raised first.
    let files = files::FileBudget::of(crate::services::open_files::raise_to_hard());
    tracing::info!(limit = ?files.limit, sessions = ?files.sessions, "proxy: {}", files.describe());
    if let Some(short) = files.shortfall(cfg.max_connections) {
        tracing::warn!("proxy: {short}");
    }
    let tls_wanted = cfg.tls_listen.is_some();
    let exposed = [Some(cfg.listen), cfg.tls_listen]
        .into_iter()
        .flatten()
        .find(|a| !a.ip().is_loopback());
    if let Some(addr) = exposed.filter(|_| !tls_wanted) {
        return Err(ProxyError::NotLoopback { addr });
    }
    let certificate = if tls_wanted {
        let extra: Vec<IpAddr> = [Some(cfg.listen), cfg.tls_listen]
            .into_iter()
            .flatten()
            .map(|a| a.ip())
            .collect();
        let store = store.clone();
        Some(
            tokio::task::spawn_blocking(move || cert::ensure(&store, &extra))
                .await
                .map_err(|e| ProxyError::Bind {
                    addr: cfg.listen,
                    message: e.to_string(),
                })??,
        )
    } else {
        None
    };
    let acceptor = certificate.as_ref().map(|c| cert::acceptor(&c.tls)).transpose()?;
    let bind = |addr: SocketAddr| async move {
        TcpListener::bind(addr).await.map_err(|e| ProxyError::Bind {
            addr,
            message: e.to_string(),
        })
    };
    let plain = bind(cfg.listen).await?;
    let implicit = match cfg.tls_listen {
        Some(a) => Some(bind(a).await?),
        None => None,
    };
    let listen = plain.local_addr().unwrap_or(cfg.listen);
    let tls_listen = implicit.as_ref().and_then(|l| l.local_addr().ok());
    let grace = cfg.grace;
    let limit = Arc::new(Semaphore::new(cfg.max_connections.max(1)));
    let shared = Arc::new(Shared {
        store,
        cfg,
        acceptor,
        failed: Mutex::new(limiter::FailedLogins::default()),
        events: events.clone(),
        hard_stop: CancellationToken::new(),
    });
    tracing::info!(%listen, tls_listen = ?tls_listen, "proxy: listening");
    let _ = events
        .send(ProxyEvent::Started {
            listen,
            tls_listen,
            certificate: certificate.map(|c| CertificateInfo {
                ca_file: c.tls.ca_file.clone(),
                sha256: c.fingerprint,
                made_now: c.made_now,
            }),
            files,
        })
        .await;

    let tracker = TaskTracker::new();
    let accept = |listener: TcpListener, implicit_tls: bool| {
        let shared = shared.clone();
        let limit = limit.clone();
        let tracker = tracker.clone();
        let shutdown = shutdown.clone();
        async move {
            loop {
                let accepted = tokio::select! {
                    () = shutdown.cancelled() => return,
                    a = listener.accept() => a,
                };
                let (tcp, client) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        // EMFILE and friends: wait a moment rather than spin on the error.
                        tracing::warn!(error = %e, "proxy: accept failed");
                        tokio::select! {
                            () = shutdown.cancelled() => return,
                            () = tokio::time::sleep(Duration::from_millis(100)) => continue,
                        }
                    }
                };
                let Ok(permit) = limit.clone().try_acquire_owned() else {
                    // Not a task per refusal: one non-blocking write, then close.
                    let _ =
                        tcp.try_write(b"* BYE too many connections to inbound's proxy; try again later\r\n");
                    session::report(
                        &shared,
                        SessionReport {
                            server: None,
                            client,
                            outcome: Outcome::TooManyConnections,
                            to_server: 0,
                            to_client: 0,
                            duration: Duration::ZERO,
                        },
                    )
                    .await;
                    continue;
                };
                let shared = shared.clone();
                tracker.spawn(async move {
                    session::serve(shared, tcp, client, implicit_tls).await;
                    drop(permit);
                });
            }
        }
    };
    let plain_loop = tokio::spawn(accept(plain, false));
    let tls_loop = implicit.map(|l| tokio::spawn(accept(l, true)));
    shutdown.cancelled().await;
    let _ = plain_loop.await;
    if let Some(t) = tls_loop {
        let _ = t.await;
    }
    tracker.close();
    let open = tracker.len();
    tracing::info!(open, "proxy: stopping; open sessions may finish");
    let _ = events.send(ProxyEvent::Stopping { open }).await;
    if tokio::time::timeout(grace, tracker.wait()).await.is_err() {
        shared.hard_stop.cancel();
        let _ = tokio::time::timeout(Duration::from_secs(5), tracker.wait()).await;
    }
    Ok(())
}
