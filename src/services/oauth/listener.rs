//! The embedded loopback listener that receives Microsoft's redirect.
//!
//! It binds 127.0.0.1 and ::1 on one port, ignores stray requests (404), answers a wrong
//! `state` with 400 and keeps waiting, accepts exactly one callback with the right state, and
//! answers the browser only after the caller reports how the token exchange went. It also
//! serves `/start`, a short link that redirects to the full authorization URL. The same
//! listener takes the v2 admin consent's answer (`admin_consent=True&tenant=…`, no code) for a
//! flow with its own state.

use crate::model::REDIRECT_PATH;
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode, header};
use hyper_util::rt::TokioIo;
use std::collections::HashMap;
use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

const PAGE: &str = include_str!("../../../assets/callback.html");
pub const START_PATH: &str = "/start";
/// How long the browser waits for the token exchange before it gets a page anyway.
const REPLY_TIMEOUT: Duration = Duration::from_secs(60);
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a closing listener waits for pages still being written.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(3);

/// What arrived from the browser.
#[derive(Debug)]
pub enum Callback {
    /// A code with the right state. Send the outcome through `reply`; the browser's page waits
    /// for it.
    Code {
        code: String,
        reply: oneshot::Sender<Outcome>,
    },
    /// Microsoft redirected with `error=` (the user cancelled, consent refused, …).
    Denied { error: String, description: String },
    /// The v2 admin consent answered `admin_consent=True&tenant=…` with no error. `tenant` is
    /// what the browser said, for display only: it authorizes nothing.
    AdminConsented { tenant: String },
}

/// What the browser is told once the exchange is done.
#[derive(Debug, Clone)]
pub enum Outcome {
    Success(String),
    Failure(String),
}

struct Shared {
    expected_state: String,
    consumed: AtomicBool,
    start_target: Mutex<Option<String>>,
    tx: mpsc::Sender<Callback>,
}

/// A bound listener. Dropping it stops it and frees the port.
pub struct Listener {
    port: u16,
    fell_back: bool,
    addrs: Vec<SocketAddr>,
    rx: mpsc::Receiver<Callback>,
    shared: Arc<Shared>,
    cancel: CancellationToken,
    tracker: TaskTracker,
}

impl std::fmt::Debug for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listener")
            .field("addrs", &self.addrs)
            .finish_non_exhaustive()
    }
}

impl Listener {
    /// Binds `port` on 127.0.0.1 (and ::1 when available); when the port is taken, falls back
    /// to a free one (see [`Listener::fell_back`]). `bind` overrides the addresses (public URL
    /// mode behind a reverse proxy).
    pub async fn bind(port: u16, expected_state: String, bind: Option<IpAddr>) -> std::io::Result<Self> {
        Self::bind_with(port, expected_state, bind, true).await
    }

    /// Binds exactly `port`: a busy port is an `AddrInUse` error, never replaced (a port the
    /// user chose, or the one a reverse proxy forwards to).
    pub async fn bind_exact(
        port: u16,
        expected_state: String,
        bind: Option<IpAddr>,
    ) -> std::io::Result<Self> {
        Self::bind_with(port, expected_state, bind, false).await
    }

    async fn bind_with(
        port: u16,
        expected_state: String,
        bind: Option<IpAddr>,
        fallback: bool,
    ) -> std::io::Result<Self> {
        let primary = bind.unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
        let (first, fell_back) = match TcpListener::bind((primary, port)).await {
            Ok(l) => (l, false),
            Err(e) if fallback && e.kind() == std::io::ErrorKind::AddrInUse && port != 0 => {
                (TcpListener::bind((primary, 0)).await?, true)
            }
            Err(e) => return Err(e),
        };
        let port = first.local_addr()?.port();
        let mut listeners = vec![first];
        if bind.is_none() {
            // Browsers may resolve localhost to ::1 first; without IPv6 we simply skip it.
            if let Ok(l) = TcpListener::bind((IpAddr::V6(Ipv6Addr::LOCALHOST), port)).await {
                listeners.push(l);
            }
        }
        let addrs = listeners.iter().filter_map(|l| l.local_addr().ok()).collect();
        let (tx, rx) = mpsc::channel(4);
        let shared = Arc::new(Shared {
            expected_state,
            consumed: AtomicBool::new(false),
            start_target: Mutex::new(None),
            tx,
        });
        let cancel = CancellationToken::new();
        let tracker = TaskTracker::new();
        for l in listeners {
            // Tracked, so that after `shutdown` the port is free again (the admin consent
            // and the sign-in after it bind the same port one after the other).
            tracker.spawn(accept_loop(l, shared.clone(), cancel.clone(), tracker.clone()));
        }
        Ok(Self {
            port,
            fell_back,
            addrs,
            rx,
            shared,
            cancel,
            tracker,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// True when the preferred port was taken and another was chosen.
    pub fn fell_back(&self) -> bool {
        self.fell_back
    }

    pub fn addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// The redirect URI for this listener (`http://localhost:PORT/microsoft_outlook/confirm`).
    pub fn redirect_uri(&self) -> String {
        format!("http://localhost:{}{REDIRECT_PATH}", self.port)
    }

    /// Where `/start` redirects.
    pub fn set_start_target(&self, url: &str) {
        if let Ok(mut t) = self.shared.start_target.lock() {
            *t = Some(url.to_string());
        }
    }

    /// The next callback; `None` once the listener is closed.
    pub async fn next(&mut self) -> Option<Callback> {
        self.rx.recv().await
    }

    /// Stops accepting and lets the pages being answered reach their browsers (bounded).
    pub async fn shutdown(&self) {
        self.cancel.cancel();
        self.tracker.close();
        let _ = tokio::time::timeout(DRAIN_TIMEOUT, self.tracker.wait()).await;
    }

    /// Stops at once.
    pub fn close(&self) {
        self.cancel.cancel();
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    cancel: CancellationToken,
    tracker: TaskTracker,
) {
    loop {
        let stream = tokio::select! {
            () = cancel.cancelled() => break,
            r = listener.accept() => match r {
                Ok((s, _)) => s,
                Err(_) => {
                    // Out of file descriptors under a connection flood: pause instead of spinning;
                    // idle connections time out and free theirs.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let shared = shared.clone();
        let cancel = cancel.clone();
        tracker.spawn(async move {
            let svc = service_fn(move |req| handle(req, shared.clone()));
            let conn = http1::Builder::new()
                .keep_alive(false)
                .serve_connection(TokioIo::new(stream), svc);
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                () = cancel.cancelled() => {
                    // Let an answer in flight (the result page) reach the browser; idle
                    // connections (browser preconnects) end at once.
                    conn.as_mut().graceful_shutdown();
                    let _ = tokio::time::timeout(DRAIN_TIMEOUT, conn).await;
                }
                () = tokio::time::sleep(CONNECTION_TIMEOUT) => {}
            }
        });
    }
}

async fn handle(req: Request<Incoming>, shared: Arc<Shared>) -> Result<Response<Full<Bytes>>, Infallible> {
    if req.method() != Method::GET {
        return Ok(page(StatusCode::NOT_FOUND, "Not found", "Nothing here.", false));
    }
    if req.uri().path() == START_PATH {
        let target = shared.start_target.lock().ok().and_then(|t| t.clone());
        return Ok(match target {
            Some(url) => redirect(&url),
            None => page(
                StatusCode::NOT_FOUND,
                "Not ready",
                "No sign-in is waiting yet.",
                false,
            ),
        });
    }
    if req.uri().path() != REDIRECT_PATH {
        return Ok(page(StatusCode::NOT_FOUND, "Not found", "Nothing here.", false));
    }
    let q: HashMap<String, String> = url::form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes())
        .into_owned()
        .collect();
    if q.get("state").map(String::as_str) != Some(shared.expected_state.as_str()) {
        return Ok(page(
            StatusCode::BAD_REQUEST,
            "Sign-in link out of date",
            "This answer does not belong to the sign-in the terminal is waiting for (state mismatch). Start the sign-in again from inbound.",
            false,
        ));
    }
    // An admin consent answer carries `admin_consent=True` instead of a code (and, on error,
    // also `error=`, handled below like any other refusal).
    let admin_consented = q
        .get("admin_consent")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if !q.contains_key("error") && !admin_consented && q.get("code").is_none_or(String::is_empty) {
        return Ok(page(
            StatusCode::BAD_REQUEST,
            "Sign-in failed",
            "Microsoft's answer has no code. Start the sign-in again.",
            false,
        ));
    }
    // One callback per state: a reload or a prefetch must not redeem the code twice (AADSTS54005).
    if shared.consumed.swap(true, Ordering::SeqCst) {
        return Ok(page(
            StatusCode::CONFLICT,
            "Already received",
            "This sign-in was already received. Return to the terminal.",
            false,
        ));
    }
    if let Some(error) = q.get("error") {
        // Whoever reaches the listener wrote these; they are shown in the terminal.
        let error = &crate::sanitize::peer_text(error);
        let description = crate::sanitize::peer_text(q.get("error_description").map_or("", String::as_str));
        let text =
            format!("Microsoft answered: {error}\n{description}\n\nReturn to the terminal for what to do.");
        let _ = shared
            .tx
            .send(Callback::Denied {
                error: error.clone(),
                description,
            })
            .await;
        return Ok(page(StatusCode::OK, "Sign-in was not completed", &text, false));
    }
    if admin_consented && q.get("code").is_none_or(String::is_empty) {
        let tenant = crate::sanitize::peer_text(q.get("tenant").map_or("", String::as_str));
        let _ = shared.tx.send(Callback::AdminConsented { tenant }).await;
        return Ok(page(
            StatusCode::OK,
            "Admin consent granted",
            "The permissions were granted for the organization. Return to the terminal: the sign-in continues there.",
            true,
        ));
    }
    let code = q.get("code").cloned().unwrap_or_default();
    let (reply, wait) = oneshot::channel();
    if shared.tx.send(Callback::Code { code, reply }).await.is_err() {
        return Ok(page(
            StatusCode::SERVICE_UNAVAILABLE,
            "Sign-in cancelled",
            "inbound stopped waiting. Start again.",
            false,
        ));
    }
    Ok(match tokio::time::timeout(REPLY_TIMEOUT, wait).await {
        Ok(Ok(Outcome::Success(text))) => page(StatusCode::OK, "Outlook token is valid", &text, true),
        Ok(Ok(Outcome::Failure(text))) => page(StatusCode::OK, "Sign-in failed", &text, false),
        _ => page(
            StatusCode::OK,
            "Sign-in received",
            "Return to the terminal to see the result.",
            true,
        ),
    })
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn page(status: StatusCode, title: &str, message: &str, ok: bool) -> Response<Full<Bytes>> {
    let html = PAGE
        .replace("{{color}}", if ok { "#1a7f37" } else { "#cf222e" })
        .replace("{{title}}", &escape(title))
        .replace("{{message}}", &escape(message));
    let mut resp = Response::new(Full::new(Bytes::from(html)));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    h.insert("referrer-policy", header::HeaderValue::from_static("no-referrer"));
    resp
}

fn redirect(url: &str) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::new()));
    *resp.status_mut() = StatusCode::FOUND;
    if let Ok(v) = header::HeaderValue::from_str(url) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_escape_html() {
        let r = page(StatusCode::OK, "<t>", "<script>alert(1)</script>", false);
        let body = format!("{:?}", r.body());
        assert!(!body.contains("<script>alert"));
        assert!(body.contains("&lt;script&gt;"));
    }
}
