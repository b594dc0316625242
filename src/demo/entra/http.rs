//! The HTTP side of the stand-in: a fully read request, the accept loop, and the response
//! shapes Entra uses (error JSON with trace and correlation IDs, HTML pages, redirects).

use super::ids::random_uuid;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::service::service_fn;
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

pub type Response = hyper::Response<Full<Bytes>>;

/// Boxed, so that `Result<_, ErrorResponse>` stays small.
pub type ErrorResponse = Box<Response>;

/// Bodies above this are refused (a browser form or a token request is a few KB).
const MAX_BODY: usize = 64 * 1024;
/// A peer that sends nothing for this long is dropped.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// Answers one request; implemented by the stand-in (and by anything that wraps it).
pub trait Handler: Send + Sync + 'static {
    fn handle(&self, req: &HttpRequest) -> Response;
}

/// A fully read request.
pub struct HttpRequest {
    pub method: Method,
    pub path: String,
    pub query: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl HttpRequest {
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        url::form_urlencoded::parse(self.query.as_bytes())
            .into_owned()
            .collect()
    }

    pub fn form_pairs(&self) -> Vec<(String, String)> {
        url::form_urlencoded::parse(&self.body).into_owned().collect()
    }

    /// `Authorization: <scheme> <value>` with a case-insensitive scheme.
    pub fn authorization(&self, scheme: &str) -> Option<String> {
        let value = self.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
        let (s, rest) = value.split_once(' ')?;
        s.eq_ignore_ascii_case(scheme).then(|| rest.trim().to_owned())
    }

    /// RFC 6749 §2.3.1 HTTP Basic client credentials (form-urlencoded id and secret).
    pub fn basic_auth(&self) -> Option<(String, String)> {
        let raw = STANDARD.decode(self.authorization("Basic")?).ok()?;
        let raw = String::from_utf8(raw).ok()?;
        let (id, secret) = raw.split_once(':')?;
        Some((form_decode(id), form_decode(secret)))
    }
}

fn form_decode(s: &str) -> String {
    let pair = format!("v={s}");
    url::form_urlencoded::parse(pair.as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// The first non-empty value of `name`.
pub fn get<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

/// Serves `handler` on `listener` until the task is dropped or aborted.
pub async fn serve(listener: TcpListener, handler: Arc<dyn Handler>) {
    loop {
        let Ok((stream, _peer)) = listener.accept().await else {
            // e.g. EMFILE: back off briefly instead of spinning, keep serving the others.
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let handler = Arc::clone(&handler);
        tokio::spawn(async move {
            let service = service_fn(move |req| respond(Arc::clone(&handler), req));
            // A peer that hangs up is not an error worth reporting.
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn respond(handler: Arc<dyn Handler>, req: Request<Incoming>) -> Result<Response, Infallible> {
    let (parts, body) = req.into_parts();
    let body = match tokio::time::timeout(HEADER_TIMEOUT, Limited::new(body, MAX_BODY).collect()).await {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(_)) => return Ok(text(413, "request body too large or broken")),
        Err(_) => return Ok(text(408, "request body timed out")),
    };
    let request = HttpRequest {
        method: parts.method,
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().unwrap_or_default().to_owned(),
        headers: parts.headers,
        body,
    };
    Ok(handler.handle(&request))
}

// ---- responses ---------------------------------------------------------------------------

fn status_code(status: u16) -> StatusCode {
    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// Entra's timestamp format in error bodies.
fn ms_timestamp() -> String {
    jiff::Timestamp::now().strftime("%Y-%m-%d %H:%M:%SZ").to_string()
}

pub fn json(status: u16, body: &Value) -> Response {
    let mut resp = hyper::Response::new(Full::new(Bytes::from(body.to_string())));
    *resp.status_mut() = status_code(status);
    let headers = resp.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store, no-cache"),
    );
    resp
}

/// `body` as is, with a content type guessed from its first character.
pub fn raw(status: u16, body: String) -> Response {
    let content_type = match body.trim_start().chars().next() {
        Some('<') => "text/html; charset=utf-8",
        Some('{' | '[') => "application/json; charset=utf-8",
        _ => "text/plain; charset=utf-8",
    };
    let mut resp = hyper::Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status_code(status);
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

pub fn text(status: u16, body: &str) -> Response {
    raw(status, body.to_owned())
}

pub fn redirect(location: &str) -> Response {
    let mut resp = hyper::Response::new(Full::new(Bytes::new()));
    *resp.status_mut() = StatusCode::FOUND;
    match HeaderValue::from_str(location) {
        Ok(v) => {
            resp.headers_mut().insert(header::LOCATION, v);
            resp
        }
        Err(_) => text(500, "redirect location is not a valid header"),
    }
}

/// Entra's token-endpoint error JSON. `message` gets an `AADSTS<codes[0]>: ` prefix unless it
/// already starts with `AADSTS`, and the Trace ID / Correlation ID / Timestamp trailer.
pub fn ms_error(status: u16, error: &str, codes: &[u64], message: &str) -> ErrorResponse {
    let trace_id = random_uuid();
    let correlation_id = random_uuid();
    let timestamp = ms_timestamp();
    let message = match codes.first() {
        Some(code) if !message.starts_with("AADSTS") => format!("AADSTS{code}: {message}"),
        _ => message.to_owned(),
    };
    let mut body = json!({
        "error": error,
        "error_description": format!(
            "{message}\r\nTrace ID: {trace_id}\r\nCorrelation ID: {correlation_id}\r\nTimestamp: {timestamp}"
        ),
        "error_codes": codes,
        "timestamp": timestamp,
        "trace_id": trace_id,
        "correlation_id": correlation_id,
    });
    if let Some(code) = codes.first() {
        body["error_uri"] = json!(format!("https://login.microsoftonline.com/error?code={code}"));
    }
    Box::new(json(status, &body))
}

pub fn invalid_grant(codes: &[u64], message: &str) -> ErrorResponse {
    ms_error(400, "invalid_grant", codes, message)
}

pub fn missing_parameter(name: &str) -> ErrorResponse {
    ms_error(
        400,
        "invalid_request",
        &[900144],
        &format!("AADSTS900144: The request body must contain the following parameter: '{name}'."),
    )
}

/// Device-flow poll errors (HTTP 400), by their RFC 8628 name.
pub fn device_error(error: &str) -> ErrorResponse {
    let (codes, message): (&[u64], &str) = match error {
        "authorization_pending" => (
            &[70016],
            "AADSTS70016: OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
        ),
        "authorization_declined" => (
            &[70000],
            "AADSTS70000: The user declined the authorization request.",
        ),
        "expired_token" => (
            &[70019],
            "AADSTS70019: Verification code expired. The device code has expired; start a new \
             device code request.",
        ),
        "bad_verification_code" => (
            &[70018],
            "AADSTS70018: Invalid verification code: the device_code sent to the token \
             endpoint wasn't recognized.",
        ),
        // RFC 8628 §3.5; Microsoft does not document it, so no AADSTS code.
        "slow_down" => (&[], "slow_down: polling too fast; add 5 seconds to the interval."),
        _ => (&[], "device-code poll error."),
    };
    ms_error(400, error, codes, message)
}

pub fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// An HTML page in the sign-in service's plain style; `body` is already escaped HTML.
pub fn page(status: u16, title: &str, body: &str) -> Response {
    raw(
        status,
        format!(
            "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{}</title></head>\
             <body style=\"font-family:sans-serif;max-width:32em;margin:3em auto\">{body}</body></html>",
            html_escape(title)
        ),
    )
}

/// The page Entra shows in the browser when it cannot redirect back to the app.
pub fn error_page(message: &str) -> Response {
    page(
        400,
        "Sign in to your account",
        &format!(
            "<h1>Sign in</h1><p>Sorry, but we're having trouble signing you in.</p>\
             <p id=\"error\">{}</p><p>Trace ID: {}<br>Correlation ID: {}<br>Timestamp: {}</p>",
            html_escape(message),
            random_uuid(),
            random_uuid(),
            ms_timestamp()
        ),
    )
}
