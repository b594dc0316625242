//! IMAP Test & Confirm: connect → TLS → greeting → capabilities → AUTHENTICATE XOAUTH2 (or
//! LOGIN) → EXAMINE INBOX → LOGOUT (sent, not awaited), with a timeout and a typed error per
//! stage and progress reported as each stage finishes. With a token, CAPABILITY and
//! AUTHENTICATE are sent with the end of the TLS handshake, before the greeting arrives, so the
//! greeting, the capabilities and the login take one round trip together.

use crate::secret::Secret;
use crate::services::{tls, xoauth2};
use async_imap::imap_proto::{Response, ResponseCode, Status};
use std::fmt;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use thiserror::Error;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_openssl::SslStream;

pub use crate::services::tls::tls_connector;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Connect,
    Tls,
    Greeting,
    Capabilities,
    Authenticate,
    Inbox,
    Logout,
}

impl Stage {
    pub const ALL: [Stage; 7] = [
        Stage::Connect,
        Stage::Tls,
        Stage::Greeting,
        Stage::Capabilities,
        Stage::Authenticate,
        Stage::Inbox,
        Stage::Logout,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Stage::Connect => "connect",
            Stage::Tls => "TLS",
            Stage::Greeting => "greeting",
            Stage::Capabilities => "capabilities",
            Stage::Authenticate => "authenticate",
            Stage::Inbox => "INBOX",
            Stage::Logout => "logout",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Where and how to connect.
#[derive(Debug, Clone)]
pub struct ProbeSettings {
    pub host: String,
    pub port: u16,
    pub tls: bool,
    pub ca_file: Option<PathBuf>,
    pub timeouts: Timeouts,
}

#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub connect: Duration,
    pub tls: Duration,
    pub command: Duration,
    pub authenticate: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(15),
            tls: Duration::from_secs(15),
            command: Duration::from_secs(20),
            authenticate: Duration::from_secs(30),
        }
    }
}

/// What to sign in with.
#[derive(Debug, Clone)]
pub enum Credentials {
    XOAuth2 { user: String, access_token: Secret },
    Login { user: String, password: Secret },
}

impl Credentials {
    fn user(&self) -> &str {
        match self {
            Credentials::XOAuth2 { user, .. } | Credentials::Login { user, .. } => user,
        }
    }
}

/// Progress of a probe, sent as it happens.
#[derive(Debug, Clone, PartialEq)]
pub enum ProbeEvent {
    Started(Stage),
    Passed {
        stage: Stage,
        detail: String,
        elapsed: Duration,
    },
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ProbeReport {
    pub greeting: String,
    pub capabilities: Vec<String>,
    pub messages: u32,
    pub sasl_ir: bool,
}

#[derive(Debug, Error)]
pub enum ProbeError {
    #[error("cannot connect to {addr}: {message}")]
    Connect { addr: String, message: String },
    #[error("TLS with {host} failed: {message}")]
    Tls { host: String, message: String },
    #[error("{host}:{port} does not speak TLS (it answered, but not with a TLS handshake)")]
    NotTls { host: String, port: u16 },
    #[error("CA file {path}: {message}")]
    CaFile { path: PathBuf, message: String },
    #[error("{stage} timed out after {} s: the server did not answer", secs.as_secs())]
    Timeout { stage: Stage, secs: Duration },
    #[error("the server closed the connection during {stage}")]
    ConnectionLost { stage: Stage },
    #[error("the server's greeting was not IMAP: {0}")]
    Greeting(String),
    #[error("the server does not offer {mechanism} (capabilities: {capabilities})")]
    MechanismMissing {
        mechanism: &'static str,
        capabilities: String,
    },
    #[error("the server refused the login: {server_text}")]
    AuthRejected {
        server_text: String,
        detail: Option<String>,
        oauth: bool,
    },
    #[error("signed in, but the server refused access to the mailbox: {server_text}")]
    NotConnected { server_text: String },
    #[error(
        "the server refused the login ({server_text}): the token is {signed_in}'s, but Username is {mailbox}"
    )]
    WrongAccount {
        server_text: String,
        signed_in: String,
        mailbox: String,
    },
    /// A shared mailbox refused its configured delegate ("Sign in as").
    #[error(
        "the server refused the login ({server_text}): {delegate} signed in as configured, but may not open the shared mailbox {mailbox}"
    )]
    DelegateRefused {
        server_text: String,
        delegate: String,
        mailbox: String,
    },
    #[error("{stage}: {message}")]
    Protocol { stage: Stage, message: String },
    /// App-only: a valid token, and Exchange still refused the mailbox (the diagnosis, with
    /// the Exchange lines, is in `rejection`).
    #[error("the server refused the app-only login to {mailbox} ({server_text})")]
    AppOnlyRejected {
        server_text: String,
        mailbox: String,
        rejection: Box<crate::model::rejection::Rejection>,
    },
}

impl From<tls::TlsError> for ProbeError {
    fn from(e: tls::TlsError) -> Self {
        match e {
            tls::TlsError::Tls { host, message } => ProbeError::Tls { host, message },
            tls::TlsError::CaFile { path, message } => ProbeError::CaFile { path, message },
        }
    }
}

impl ProbeError {
    pub fn stage(&self) -> Stage {
        match self {
            ProbeError::Connect { .. } => Stage::Connect,
            ProbeError::Tls { .. } | ProbeError::NotTls { .. } | ProbeError::CaFile { .. } => Stage::Tls,
            ProbeError::Timeout { stage, .. }
            | ProbeError::ConnectionLost { stage }
            | ProbeError::Protocol { stage, .. } => *stage,
            ProbeError::Greeting(_) => Stage::Greeting,
            ProbeError::MechanismMissing { .. } => Stage::Capabilities,
            ProbeError::AuthRejected { .. }
            | ProbeError::WrongAccount { .. }
            | ProbeError::AppOnlyRejected { .. }
            | ProbeError::DelegateRefused { .. } => Stage::Authenticate,
            ProbeError::NotConnected { .. } => Stage::Inbox,
        }
    }

    /// What to do about it (microsoft-facts §4.4 for rejected XOAUTH2).
    pub fn hint(&self) -> String {
        match self {
            ProbeError::Connect { .. } => "check Server Name and Port (Microsoft 365: outlook.office365.com, 993) and that this machine may reach it (firewall, proxy)".into(),
            ProbeError::Tls { .. } => "the server's certificate is not trusted: for a private CA set the server's CA file (or SSL_CERT_FILE); check that Server Name matches the certificate".into(),
            ProbeError::NotTls { .. } => "this port does not speak TLS: IMAP over TLS is port 993 (143 is plain IMAP, which OAuth2 never uses); check Server Name and Port".into(),
            ProbeError::CaFile { .. } => "the server's CA file must be a readable PEM file".into(),
            ProbeError::Timeout { .. } => "the server or the network is slow or blocking IMAP; try again, or check the port (993 is implicit TLS)".into(),
            ProbeError::ConnectionLost { .. } => "try again; if it repeats, the server may be throttling this client".into(),
            ProbeError::Greeting(_) => "this port does not speak IMAP over TLS; use 993 with SSL/TLS on".into(),
            ProbeError::MechanismMissing { mechanism: "XOAUTH2", .. } => "this server does not accept OAuth2 for IMAP; use outlook.office365.com for Microsoft 365".into(),
            ProbeError::MechanismMissing { .. } => "the server forbids password logins (LOGINDISABLED): use OAuth2.0".into(),
            ProbeError::AuthRejected { oauth: true, .. } => "Microsoft gives no reason. Check, in order: you signed in as the mailbox in Username (or have FullAccess to it); IMAP is enabled for the mailbox (admin: Set-CASMailbox -Identity <mailbox> -ImapEnabled $true); the mailbox has an Exchange Online licence; then re-connect".into(),
            ProbeError::AuthRejected { .. } => "check Username and password; Microsoft 365 no longer accepts Basic authentication: use OAuth2.0".into(),
            ProbeError::WrongAccount { signed_in, mailbox, .. } => format!("sign in again as {mailbox} (pick that account in the browser), or give {signed_in} FullAccess to the mailbox (admin: Add-MailboxPermission -Identity {mailbox} -User {signed_in} -AccessRights FullAccess)"),
            ProbeError::DelegateRefused { delegate, mailbox, .. } => format!("the delegate needs FullAccess on the shared mailbox: an Exchange admin runs Add-MailboxPermission -Identity {mailbox} -User {delegate} -AccessRights FullAccess; check too that IMAP is enabled for the mailbox (Set-CASMailbox -Identity {mailbox} -ImapEnabled $true)"),
            ProbeError::NotConnected { .. } => "the signed-in account has no access to this mailbox (wrong account picked in the browser, or no FullAccess on a shared mailbox); re-connect with the right account".into(),
            ProbeError::Protocol { .. } => "unexpected server answer; try again and report it if it repeats".into(),
            ProbeError::AppOnlyRejected { rejection, .. } => rejection.words(),
        }
    }
}

type ImapResult<T> = Result<T, ProbeError>;

async fn within<T>(stage: Stage, limit: Duration, fut: impl Future<Output = T>) -> ImapResult<T> {
    tokio::time::timeout(limit, fut)
        .await
        .map_err(|_| ProbeError::Timeout { stage, secs: limit })
}

fn protocol(stage: Stage, e: async_imap::error::Error) -> ProbeError {
    match e {
        async_imap::error::Error::ConnectionLost => ProbeError::ConnectionLost { stage },
        async_imap::error::Error::Io(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            ProbeError::ConnectionLost { stage }
        }
        other => ProbeError::Protocol {
            stage,
            message: server_words(&other.to_string()),
        },
    }
}

/// async-imap formats NO/BAD as `code: None, info: Some("AUTHENTICATE failed.")` or as
/// `outcome: Outcome { code: None, information: Some("…") }` (Rust Debug text); keep only the
/// server's words, cleaned.
fn server_words(s: &str) -> String {
    for marker in ["information: Some(\"", "info: Some(\""] {
        if let Some(start) = s.find(marker) {
            let rest = &s[start + marker.len()..];
            let end = rest.find("\")").unwrap_or(rest.len());
            return crate::sanitize::peer_text(&unescape_debug(&rest[..end]));
        }
    }
    if s.contains("code: ") || s.contains("information: None") || s.contains("info: None") {
        // A NO/BAD without text: say so rather than print async-imap's structure.
        return "(no text from the server)".to_string();
    }
    crate::sanitize::peer_text(s)
}

/// Undoes the escapes of Rust's `Debug` for strings (`\"`, `\\`, `\u{1b}` …) so that what
/// the server said is shown as it said it (and then cleaned).
fn unescape_debug(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('0') => out.push('\0'),
            Some('u') => {
                let hex: String = chars.by_ref().skip(1).take_while(|c| *c != '}').collect();
                if let Some(c) = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    out.push(c);
                }
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

/// Progress as the probe reports it: one compiled copy of the probe for every caller's closure
/// (a generic one was compiled once per caller, about 27 KB of the binary each).
type Progress<'a> = &'a mut (dyn FnMut(ProbeEvent) + Send);

/// A stream the IMAP conversation runs over (TCP, TLS, or a test's scripted server), boxed so
/// that the conversation is compiled once.
pub trait ProbeStream: AsyncRead + AsyncWrite + Unpin + fmt::Debug + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + fmt::Debug + Send> ProbeStream for T {}

/// Runs the whole probe.
pub async fn probe(
    settings: &ProbeSettings,
    creds: &Credentials,
    mut progress: impl FnMut(ProbeEvent) + Send,
) -> ImapResult<ProbeReport> {
    probe_with(settings, creds, &mut progress).await
}

async fn probe_with(
    settings: &ProbeSettings,
    creds: &Credentials,
    progress: Progress<'_>,
) -> ImapResult<ProbeReport> {
    match attempt(settings, creds, progress, true).await {
        Err(e) if sent_ahead_unanswered(creds, &e) => {
            tracing::info!(
                host = %settings.host,
                error = %e,
                "test: no answer to the commands sent before the greeting; again, one at a time"
            );
            attempt(settings, creds, progress, false).await
        }
        done => done,
    }
}

/// Whether a failure may be an intermediary's (a proxy, a filter) that cannot take commands
/// sent before the greeting, which some mishandle (emailproxy did): the connection lost or the
/// exchange garbled before the login's answer. Not a refusal of the login (a tagged NO), which
/// is the server's word and is never asked twice.
pub(crate) fn sent_ahead_unanswered(creds: &Credentials, e: &ProbeError) -> bool {
    matches!(creds, Credentials::XOAuth2 { .. })
        && match e {
            ProbeError::ConnectionLost { stage } | ProbeError::Protocol { stage, .. } => {
                matches!(stage, Stage::Greeting | Stage::Capabilities | Stage::Authenticate)
            }
            ProbeError::Timeout { stage, .. } => *stage == Stage::Capabilities,
            _ => false,
        }
}

/// One connection; `ahead`: CAPABILITY and AUTHENTICATE leave before the greeting arrives.
async fn attempt(
    settings: &ProbeSettings,
    creds: &Credentials,
    progress: Progress<'_>,
    ahead: bool,
) -> ImapResult<ProbeReport> {
    let addr = format!("{}:{}", settings.host, settings.port);
    progress(ProbeEvent::Started(Stage::Connect));
    let started = Instant::now();
    let (tcp, setup) = connect(settings).await?;
    let peer = tcp.peer_addr().map(|a| a.to_string()).unwrap_or(addr.clone());
    progress(ProbeEvent::Passed {
        stage: Stage::Connect,
        detail: format!("{addr} ({peer})"),
        elapsed: started.elapsed(),
    });

    let Some(setup) = setup else {
        return conversation(Box::new(tcp), settings, creds, progress, ahead).await;
    };
    progress(ProbeEvent::Started(Stage::Tls));
    let started = Instant::now();
    let tls = handshake(settings, tcp, setup).await?;
    progress(ProbeEvent::Passed {
        stage: Stage::Tls,
        detail: "certificate verified".to_string(),
        elapsed: started.elapsed(),
    });
    conversation(Box::new(tls), settings, creds, progress, ahead).await
}

/// The TLS client context being built (or taken from the cache) while DNS and TCP run.
pub(crate) type TlsSetup = tokio::task::JoinHandle<ImapResult<tls::ClientContext>>;

/// Connects as Test & Confirm does; with TLS on, the connector is built meanwhile (one path for
/// the test, the tunnel and the proxy, so their time-outs and words stay the same).
pub(crate) async fn connect(settings: &ProbeSettings) -> ImapResult<(TcpStream, Option<TlsSetup>)> {
    let addr = format!("{}:{}", settings.host, settings.port);
    let setup = settings.tls.then(|| {
        let ca_file = settings.ca_file.clone();
        tokio::spawn(async move { tls::connector(ca_file.as_deref()).await.map_err(ProbeError::from) })
    });
    let tcp = within(
        Stage::Connect,
        settings.timeouts.connect,
        TcpStream::connect((settings.host.as_str(), settings.port)),
    )
    .await?
    .map_err(|e| ProbeError::Connect {
        addr,
        message: e.to_string(),
    })?;
    let _ = tcp.set_nodelay(true);
    Ok((tcp, setup))
}

/// The TLS handshake over `tcp`, its failures in words (plain text on the TLS port named as such).
pub(crate) async fn handshake(
    settings: &ProbeSettings,
    tcp: TcpStream,
    setup: TlsSetup,
) -> ImapResult<SslStream<TcpStream>> {
    let context = setup.await.map_err(|e| ProbeError::Tls {
        host: settings.host.clone(),
        message: e.to_string(),
    })??;
    let ssl = tls::client_session(&context, &settings.host)?;
    let mut stream = SslStream::new(ssl, tcp).map_err(|e| ProbeError::Tls {
        host: settings.host.clone(),
        message: e.to_string(),
    })?;
    let done = within(
        Stage::Tls,
        settings.timeouts.tls,
        std::pin::Pin::new(&mut stream).connect(),
    )
    .await?;
    match done {
        Ok(()) => Ok(stream),
        Err(e) => {
            let message = tls_message(&e, stream.ssl().verify_result());
            Err(if is_not_tls(&message) {
                ProbeError::NotTls {
                    host: settings.host.clone(),
                    port: settings.port,
                }
            } else {
                ProbeError::Tls {
                    host: settings.host.clone(),
                    message,
                }
            })
        }
    }
}

fn tls_message(e: &openssl::ssl::Error, verify: openssl::x509::X509VerifyResult) -> String {
    let raw = if verify == openssl::x509::X509VerifyResult::OK {
        e.to_string()
    } else {
        format!("{e} ({verify})")
    };
    // The message can quote certificate names the peer chose.
    let s = crate::sanitize::peer_text(&raw);
    if s.contains("certificate verify failed") {
        format!("certificate not trusted ({s})")
    } else {
        s
    }
}

/// OpenSSL's words when the peer answered the ClientHello with something that is not TLS
/// (a plaintext IMAP greeting, an HTTP server).
fn is_not_tls(message: &str) -> bool {
    [
        "wrong version number",
        "packet length too long",
        "unknown protocol",
        "record layer failure",
        "http request",
    ]
    .iter()
    .any(|m| message.contains(m))
}

/// The IMAP conversation over an established stream (public for scripted-server tests).
pub async fn session<S: ProbeStream>(
    stream: S,
    settings: &ProbeSettings,
    creds: &Credentials,
    progress: &mut (impl FnMut(ProbeEvent) + Send),
) -> ImapResult<ProbeReport> {
    conversation(Box::new(stream), settings, creds, progress, true).await
}

async fn conversation(
    stream: Box<dyn ProbeStream + '_>,
    settings: &ProbeSettings,
    creds: &Credentials,
    progress: Progress<'_>,
    ahead: bool,
) -> ImapResult<ProbeReport> {
    let t = settings.timeouts;
    let mut stream = stream;
    // With a token, CAPABILITY and AUTHENTICATE (its initial response on the line, SASL-IR)
    // leave before the greeting has arrived: their answers come back with it, one round trip
    // where there were two (a greeting with capabilities) or three (Exchange's, without). The
    // token goes only where the TLS handshake has already verified the server, as before; a
    // server that turns out to lack SASL-IR or XOAUTH2 is handled below from its capabilities.
    // A password (LOGIN) still waits: LOGINDISABLED must be read first.
    let ahead = match creds {
        Credentials::XOAuth2 { user, access_token } if ahead => format!(
            "A0001 CAPABILITY\r\nA0002 AUTHENTICATE {}\r\n",
            xoauth2_line(user, access_token)
        )
        .into_bytes(),
        Credentials::XOAuth2 { .. } | Credentials::Login { .. } => Vec::new(),
    };
    let pipelined = !ahead.is_empty();
    if pipelined {
        let sent = async {
            stream.write_all(&ahead).await?;
            stream.flush().await
        };
        within(Stage::Greeting, t.command, sent)
            .await?
            .map_err(|_| ProbeError::ConnectionLost {
                stage: Stage::Greeting,
            })?;
    }
    // async-imap writes a command in four pieces (tag, space, text, CRLF) and then flushes:
    // buffered, each command leaves as one TLS record in one packet instead of four or five.
    let stream = crate::services::pipelined::AlreadySent::new(stream, ahead);
    let mut client = async_imap::Client::new(tokio::io::BufWriter::new(stream));

    progress(ProbeEvent::Started(Stage::Greeting));
    let started = Instant::now();
    let greeting = within(Stage::Greeting, t.command, client.read_response())
        .await?
        .map_err(|e| ProbeError::Greeting(greeting_failure(&e)))?
        .ok_or(ProbeError::ConnectionLost {
            stage: Stage::Greeting,
        })?;
    let (greeting_text, mut caps) = match greeting.parsed() {
        Response::Data {
            status: Status::Ok,
            outcome,
        } => (
            crate::sanitize::peer_text(outcome.information.as_deref().unwrap_or("")),
            match &outcome.code {
                Some(ResponseCode::Capabilities(c)) => Some(c.iter().map(cap_string).collect::<Vec<_>>()),
                _ => None,
            },
        ),
        Response::Data {
            status: Status::Bye,
            outcome,
        } => {
            return Err(ProbeError::Greeting(format!(
                "BYE {}",
                crate::sanitize::peer_text(outcome.information.as_deref().unwrap_or(""))
            )));
        }
        other => return Err(ProbeError::Greeting(response_words(other))),
    };
    progress(ProbeEvent::Passed {
        stage: Stage::Greeting,
        detail: format!("* OK {greeting_text}"),
        elapsed: started.elapsed(),
    });

    progress(ProbeEvent::Started(Stage::Capabilities));
    let started = Instant::now();
    let from_greeting = caps.is_some();
    // CAPABILITY was sent ahead: its answer is read even when the greeting had the list.
    if caps.is_none() || pipelined {
        let (tx, rx) = async_channel::unbounded();
        let answered = within(
            Stage::Capabilities,
            t.command,
            client.run_command_and_check_ok("CAPABILITY", Some(tx)),
        )
        .await?;
        match answered {
            // The greeting's list stands whatever becomes of the command sent ahead (refused,
            // or the server closed): what follows is judged on that list, as without it.
            Err(_) if from_greeting => {}
            other => other.map_err(|e| protocol(Stage::Capabilities, e))?,
        }
        let mut list = Vec::new();
        while let Ok(resp) = rx.try_recv() {
            if let async_imap::types::UnsolicitedResponse::Other(data) = resp
                && let Response::Capabilities(c) = data.parsed()
            {
                list.extend(c.iter().map(cap_string));
            }
        }
        caps = caps.or(Some(list));
    }
    let caps = caps.unwrap_or_default();
    let has = |c: &str| caps.iter().any(|x| x.eq_ignore_ascii_case(c));
    let sasl_ir = has("SASL-IR");
    progress(ProbeEvent::Passed {
        stage: Stage::Capabilities,
        detail: format!(
            "{}{}",
            caps.join(" "),
            if from_greeting { " (from greeting)" } else { "" }
        ),
        elapsed: started.elapsed(),
    });

    progress(ProbeEvent::Started(Stage::Authenticate));
    let started = Instant::now();
    let mut session = match creds {
        Credentials::XOAuth2 { user, access_token } => {
            if !has("AUTH=XOAUTH2") {
                return Err(ProbeError::MechanismMissing {
                    mechanism: "XOAUTH2",
                    capabilities: caps.join(" "),
                });
            }
            let mut auth = XOAuth2::new(user, access_token.expose());
            let result = if sasl_ir || pipelined {
                // async-imap has no SASL-IR of its own but sends the mechanism text verbatim,
                // so the initial response rides on the same line (one round trip less).
                auth.sent = true;
                let first = within(
                    Stage::Authenticate,
                    t.authenticate,
                    client.authenticate(xoauth2_line(user, access_token), &mut auth),
                )
                .await?;
                match first {
                    // Sent ahead to a server without SASL-IR, which refused the line: the
                    // exchange again without the initial response.
                    Err((async_imap::error::Error::Bad(_) | async_imap::error::Error::No(_), again))
                        if !sasl_ir =>
                    {
                        auth = XOAuth2::new(user, access_token.expose());
                        within(
                            Stage::Authenticate,
                            t.authenticate,
                            again.authenticate("XOAUTH2", &mut auth),
                        )
                        .await?
                    }
                    other => other,
                }
            } else {
                within(
                    Stage::Authenticate,
                    t.authenticate,
                    client.authenticate("XOAUTH2", &mut auth),
                )
                .await?
            };
            match result {
                Ok(s) => s,
                Err((e, _)) => return Err(auth_error(e, auth.server_error.take(), true)),
            }
        }
        Credentials::Login { user, password } => {
            if has("LOGINDISABLED") {
                return Err(ProbeError::MechanismMissing {
                    mechanism: "LOGIN",
                    capabilities: caps.join(" "),
                });
            }
            match within(
                Stage::Authenticate,
                t.authenticate,
                client.login(user, password.expose()),
            )
            .await?
            {
                Ok(s) => s,
                Err((e, _)) => return Err(auth_error(e, None, false)),
            }
        }
    };
    let mechanism = match creds {
        Credentials::XOAuth2 { .. } => "XOAUTH2",
        Credentials::Login { .. } => "LOGIN",
    };
    progress(ProbeEvent::Passed {
        stage: Stage::Authenticate,
        detail: format!("{mechanism} as {}", creds.user()),
        elapsed: started.elapsed(),
    });

    progress(ProbeEvent::Started(Stage::Inbox));
    let started = Instant::now();
    let mailbox = match within(Stage::Inbox, t.command, session.examine("INBOX")).await? {
        Ok(m) => m,
        Err(e) => {
            let text = server_words(&e.to_string());
            if text.contains("authenticated but not connected") {
                return Err(ProbeError::NotConnected { server_text: text });
            }
            return Err(protocol(Stage::Inbox, e));
        }
    };
    let messages = mailbox.exists;
    progress(ProbeEvent::Passed {
        stage: Stage::Inbox,
        detail: format!("{messages} messages"),
        elapsed: started.elapsed(),
    });

    progress(ProbeEvent::Started(Stage::Logout));
    let started = Instant::now();
    let detail = logout(session).await;
    progress(ProbeEvent::Passed {
        stage: Stage::Logout,
        detail,
        elapsed: started.elapsed(),
    });

    Ok(ProbeReport {
        greeting: greeting_text,
        capabilities: caps,
        messages,
        sasl_ir,
    })
}

/// Sends LOGOUT without waiting for its answer (the test is decided; waiting would cost a round
/// trip), then closes without a reset and without a wait: TLS close_notify and FIN, and whatever
/// the server has already sent is read, since closing a socket with unread data resets the
/// connection instead of ending it. Anything later meets a closed socket.
async fn logout<S>(mut session: async_imap::Session<S>) -> String
where
    S: AsyncRead + AsyncWrite + Unpin + fmt::Debug + Send,
{
    use futures_util::FutureExt as _;
    use tokio::io::AsyncReadExt as _;
    // A failed LOGOUT after a good EXAMINE does not make the mailbox unusable: report, don't fail.
    if let Err(e) = session.run_command("LOGOUT").await {
        return format!("ignored: {}", server_words(&e.to_string()));
    }
    let stream = session.get_mut();
    let _ = stream.shutdown().await;
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf).now_or_never() {
            Some(Ok(n)) if n > 0 => {}
            Some(_) => return "bye".to_string(),
            None => return "sent".to_string(),
        }
    }
}

fn cap_string(c: &async_imap::imap_proto::Capability<'_>) -> String {
    use async_imap::imap_proto::Capability;
    match c {
        Capability::Imap4rev1 => "IMAP4rev1".to_string(),
        Capability::Auth(a) => format!("AUTH={}", crate::sanitize::peer_text(a)),
        Capability::Atom(a) => crate::sanitize::peer_text(a),
    }
}

/// A greeting that is not `* OK`/`* BYE`, in words (never a Rust structure).
fn response_words(r: &Response<'_>) -> String {
    let status = |s: &Status| match s {
        Status::Ok => "OK",
        Status::No => "NO",
        Status::Bad => "BAD",
        Status::PreAuth => "PREAUTH",
        Status::Bye => "BYE",
    };
    match r {
        Response::Data { status: s, outcome } => format!(
            "\"* {} {}\" instead of \"* OK\"",
            status(s),
            crate::sanitize::peer_text(outcome.information.as_deref().unwrap_or(""))
        ),
        Response::Done {
            status: s, outcome, ..
        } => format!(
            "a tagged \"{} {}\" before any command",
            status(s),
            crate::sanitize::peer_text(outcome.information.as_deref().unwrap_or(""))
        ),
        Response::Continue { .. } => "a continuation request (\"+\") instead of \"* OK\"".to_string(),
        _ => "an IMAP response other than \"* OK\"".to_string(),
    }
}

/// Why the first line could not be read as IMAP, in words.
fn greeting_failure(e: &std::io::Error) -> String {
    match e.kind() {
        // async-imap reports an unparsable line as InvalidData/Other with the raw bytes
        // quoted; the bytes are the peer's and say nothing useful.
        std::io::ErrorKind::InvalidData | std::io::ErrorKind::Other => {
            "the first line is not an IMAP greeting".to_string()
        }
        std::io::ErrorKind::UnexpectedEof => "the server closed the connection mid-line".to_string(),
        _ => format!(
            "reading it failed: {}",
            crate::sanitize::peer_text(&e.to_string())
        ),
    }
}

fn auth_error(e: async_imap::error::Error, detail: Option<String>, oauth: bool) -> ProbeError {
    match e {
        async_imap::error::Error::No(s) | async_imap::error::Error::Bad(s) => ProbeError::AuthRejected {
            server_text: server_words(&s),
            detail,
            oauth,
        },
        other => protocol(Stage::Authenticate, other),
    }
}

/// Answers the server's continuation: the initial response once, then an empty line to any
/// error challenge (Dovecot/Gmail send `+ <base64 JSON>`; Exchange answers `NO` directly).
/// `AUTHENTICATE`'s argument with the initial response on the line (SASL-IR).
fn xoauth2_line(user: &str, access_token: &Secret) -> String {
    format!("XOAUTH2 {}", xoauth2::encode(user, access_token.expose()))
}

struct XOAuth2 {
    raw: String,
    sent: bool,
    server_error: Option<String>,
}

impl XOAuth2 {
    fn new(user: &str, token: &str) -> Self {
        Self {
            raw: xoauth2::raw(user, token),
            sent: false,
            server_error: None,
        }
    }
}

impl async_imap::Authenticator for &mut XOAuth2 {
    type Response = Vec<u8>;
    fn process(&mut self, challenge: &[u8]) -> Vec<u8> {
        if self.sent {
            self.server_error = Some(crate::sanitize::peer_bytes(challenge));
            Vec::new()
        } else {
            self.sent = true;
            self.raw.clone().into_bytes()
        }
    }
}

impl fmt::Debug for XOAuth2 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("XOAuth2([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_words_are_extracted() {
        assert_eq!(
            server_words("no response: code: None, info: Some(\"AUTHENTICATE failed.\")"),
            "AUTHENTICATE failed."
        );
        assert_eq!(server_words("plain"), "plain");
        assert_eq!(
            server_words(
                "outcome: Outcome { tag: RequestId(\"A0002\"), code: None, information: Some(\"User is authenticated but not connected.\") }"
            ),
            "User is authenticated but not connected."
        );
        assert_eq!(
            server_words("code: None, info: Some(\"x\\u{1b}[2J \\\"q\\\"\")"),
            "x[2J \"q\""
        );
        assert_eq!(
            server_words("code: None, info: None"),
            "(no text from the server)"
        );
    }
}
