//! What serve hosts besides its own loop, as the settings ask: the HTTP server of `/metrics`
//! and `/healthz`, and the IMAP proxy. Both start with serve and follow the settings after a
//! SIGHUP or a change to the store (another address, the proxy on or off, the proxy's own
//! settings), without a restart.

use super::ServeError;
use super::healthz::Board;
use super::metrics::{self, Metrics};
use super::proxy_host;
use crate::model::Settings;
use crate::model::health::ShellWording;
use crate::ops::proxy::{ProxyConfig, ProxyError, ProxyEvent};
use crate::services::status_http::{self, Answer};
use crate::store::Store;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// A stopped proxy's listener is closed once it says it is stopping: this long at most.
const PROXY_STOP_WAIT: Duration = Duration::from_secs(5);

struct Http {
    /// The address asked for (the bound one may differ: port 0).
    wanted: SocketAddr,
    bound: SocketAddr,
    stop: CancellationToken,
    task: JoinHandle<()>,
}

/// The proxy's settings that need a new listener when they change.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ProxyKey {
    listen: SocketAddr,
    tls_listen: Option<SocketAddr>,
    max_connections: usize,
}

impl ProxyKey {
    fn of(settings: &Settings) -> Self {
        let cfg = ProxyConfig::from_settings(settings, None, None);
        Self {
            listen: cfg.listen,
            tls_listen: cfg.tls_listen,
            max_connections: cfg.max_connections,
        }
    }
}

pub(super) struct Proxy {
    key: ProxyKey,
    pub task: JoinHandle<Result<(), ProxyError>>,
    pub events: mpsc::Receiver<ProxyEvent>,
    stop: CancellationToken,
    /// Started with serve: its failure stops serve (systemd shows it). A proxy started by a
    /// later change of settings only logs its failure, serve goes on.
    pub fatal: bool,
}

pub(super) struct Hosting {
    store: Store,
    metrics: Arc<Metrics>,
    board: Arc<Mutex<Board>>,
    allow_remote_metrics: bool,
    http: Option<Http>,
    pub proxy: Option<Proxy>,
    /// How the hosted proxy words a fix in its IMAP answers.
    wording: ShellWording,
}

impl Hosting {
    pub fn new(
        store: Store,
        metrics: Arc<Metrics>,
        board: Arc<Mutex<Board>>,
        allow_remote_metrics: bool,
        wording: ShellWording,
    ) -> Self {
        Self {
            store,
            metrics,
            board,
            allow_remote_metrics,
            http: None,
            proxy: None,
            wording,
        }
    }

    /// Where /metrics is served now.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.http.as_ref().map(|h| h.bound)
    }

    pub fn proxy_running(&self) -> bool {
        self.proxy.is_some()
    }

    /// Serves /metrics and /healthz at `wanted` (None: not at all), moving them when the
    /// address changed.
    pub async fn set_metrics(&mut self, wanted: Option<SocketAddr>) -> Result<(), ServeError> {
        if self.http.as_ref().map(|h| h.wanted) == wanted {
            return Ok(());
        }
        if let Some(old) = self.http.take() {
            old.stop.cancel();
            let _ = old.task.await;
            tracing::info!(bound = %old.bound, "metrics and /healthz no longer served there");
        }
        let Some(addr) = wanted else {
            return Ok(());
        };
        if !addr.ip().is_loopback() && !self.allow_remote_metrics {
            return Err(ServeError::RemoteMetrics(addr));
        }
        let listener = status_http::bind(addr).await?;
        let bound = listener.local_addr().unwrap_or(addr);
        let (m, b) = (self.metrics.clone(), self.board.clone());
        let handler: status_http::Handler = Arc::new(move |path: &str| match path {
            "/metrics" => Answer {
                status: 200,
                content_type: metrics::CONTENT_TYPE,
                body: m.render(),
            },
            "/healthz" => b.lock().unwrap_or_else(|p| p.into_inner()).answer(),
            _ => Answer {
                status: 404,
                content_type: "text/plain; charset=utf-8",
                body: "not found: try /metrics or /healthz\n".into(),
            },
        });
        let stop = CancellationToken::new();
        let task = tokio::spawn(status_http::serve(listener, handler, stop.clone()));
        tracing::info!(%bound, "metrics and /healthz served");
        self.http = Some(Http {
            wanted: addr,
            bound,
            stop,
            task,
        });
        Ok(())
    }

    /// Runs the proxy when `on` with the store's proxy settings, restarting it when those
    /// changed; stops it when not `on`.
    pub async fn set_proxy(&mut self, on: bool, settings: &Settings, fatal: bool) {
        let key = ProxyKey::of(settings);
        if on && self.proxy.as_ref().is_some_and(|p| p.key == key) {
            return;
        }
        if let Some(old) = self.proxy.take() {
            tracing::info!("serve: stopping the IMAP proxy (settings changed)");
            release(old).await;
        }
        if on {
            let h = proxy_host::start(&self.store, settings, self.wording);
            self.proxy = Some(Proxy {
                key,
                task: h.task,
                events: h.events,
                stop: h.stop,
                fatal,
            });
        }
    }

    /// serve stops: the HTTP server ends, the proxy gets its grace period.
    pub async fn stop(mut self) {
        if let Some(h) = self.http.take() {
            h.stop.cancel();
            let _ = h.task.await;
        }
        if let Some(p) = self.proxy.take() {
            p.stop.cancel();
            let Proxy { mut events, task, .. } = p;
            // Its last events are read so that the proxy never waits on a full channel.
            while events.recv().await.is_some() {}
            let _ = task.await;
        }
    }
}

/// Stops a proxy: waits until it stopped listening (so that a new one can take the address),
/// then lets its open sessions finish in the background.
async fn release(p: Proxy) {
    p.stop.cancel();
    let Proxy { mut events, task, .. } = p;
    let _ = tokio::time::timeout(PROXY_STOP_WAIT, async {
        while let Some(e) = events.recv().await {
            if matches!(e, ProxyEvent::Stopping { .. }) {
                break;
            }
        }
    })
    .await;
    tokio::spawn(async move {
        while events.recv().await.is_some() {}
        if let Ok(Err(e)) = task.await {
            tracing::warn!(error = %e, "the stopped IMAP proxy ended with an error");
        }
    });
}

/// What the hosted proxy has to say.
pub(super) enum ProxyNews {
    Event(ProxyEvent),
    /// The proxy ended (only on its own failure: a port taken).
    Ended(Result<(), ProxyError>),
}

impl Proxy {
    /// The next event, or the end of the proxy (after its last events). Cancel-safe.
    pub async fn next(&mut self) -> ProxyNews {
        tokio::select! {
            biased;
            Some(e) = self.events.recv() => ProxyNews::Event(e),
            r = &mut self.task => ProxyNews::Ended(r.unwrap_or(Ok(()))),
        }
    }
}
