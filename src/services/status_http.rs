//! A tiny HTTP server for operators' tools (`/metrics`, `/healthz`): GET only, one answer per
//! connection, bounded time per connection. What each path answers is the caller's.

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// A scraper that takes longer than this to send its request and read the answer is dropped.
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(10);

/// One answer: status, content type, body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
}

/// Decides the answer for a path.
pub type Handler = Arc<dyn Fn(&str) -> Answer + Send + Sync>;

#[derive(Debug, thiserror::Error)]
#[error("cannot listen on {addr}: {source}; choose another address or port for the metrics")]
pub struct BindError {
    pub addr: SocketAddr,
    pub source: std::io::Error,
}

pub async fn bind(addr: SocketAddr) -> Result<TcpListener, BindError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| BindError { addr, source })
}

/// Serves until `cancel`.
pub async fn serve(listener: TcpListener, handler: Handler, cancel: CancellationToken) {
    loop {
        let stream = tokio::select! {
            () = cancel.cancelled() => break,
            r = listener.accept() => match r {
                Ok((s, _)) => s,
                Err(_) => {
                    // Out of file descriptors: pause instead of spinning.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let handler = handler.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |req| answer(req, handler.clone()));
            let conn = http1::Builder::new()
                .keep_alive(false)
                .serve_connection(TokioIo::new(stream), svc);
            let _ = tokio::time::timeout(CONNECTION_TIMEOUT, conn).await;
        });
    }
}

async fn answer(req: Request<Incoming>, handler: Handler) -> Result<Response<Full<Bytes>>, Infallible> {
    let a = if req.method() == Method::GET || req.method() == Method::HEAD {
        handler(req.uri().path())
    } else {
        Answer {
            status: 405,
            content_type: "text/plain; charset=utf-8",
            body: "GET only\n".into(),
        }
    };
    let mut resp = Response::new(Full::new(Bytes::from(a.body)));
    *resp.status_mut() = StatusCode::from_u16(a.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(v) = hyper::header::HeaderValue::from_str(a.content_type) {
        resp.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
    }
    Ok(resp)
}
