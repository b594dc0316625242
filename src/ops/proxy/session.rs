//! One client connection: greeting, the pre-auth commands, the local login, the upstream
//! login, then a bounded relay.

use super::command::{self, Command, LineError, MAX_LINE, Token};
use super::{Outcome, SessionReport, Shared};
use crate::model::health::ShellWording;
use crate::ops::Error;
use crate::ops::upstream::{self, Lookup};
use crate::services::upstream::{Io, Upstream};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{
    AsyncBufReadExt as _, AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _, BufReader, ReadBuf,
};
use tokio::net::TcpStream;

/// Wrong logins on one connection before the proxy hangs up.
const MAX_FAILURES_PER_CONNECTION: u32 = 3;
/// Relay buffers: client → server carries commands, server → client carries mail.
const TO_SERVER_BUFFER: usize = 8 * 1024;
const TO_CLIENT_BUFFER: usize = 16 * 1024;
/// A cause told to a client stays on one short line.
const MAX_CAUSE: usize = 300;

pub(super) async fn report(shared: &Shared, r: SessionReport) {
    tracing::info!(
        server = r.server.as_deref().unwrap_or("-"),
        client = %r.client,
        outcome = r.outcome.label(),
        detail = %r.outcome,
        to_server = r.to_server,
        to_client = r.to_client,
        ms = u64::try_from(r.duration.as_millis()).unwrap_or(u64::MAX),
        "proxy: session"
    );
    let _ = shared.events.send(super::ProxyEvent::Session(r)).await;
}

/// Serves one accepted connection to its end, and reports it.
pub(super) async fn serve(shared: Arc<Shared>, tcp: TcpStream, client: SocketAddr, implicit_tls: bool) {
    let started = Instant::now();
    let _ = tcp.set_nodelay(true);
    let deadline = tokio::time::Instant::now() + shared.cfg.preauth_timeout;
    let mut session = Session {
        shared: shared.clone(),
        client,
        deadline,
        failures: 0,
        server: None,
        to_server: 0,
        to_client: 0,
    };
    let outcome = tokio::select! {
        o = session.run(tcp, implicit_tls) => o,
        () = shared.hard_stop.cancelled() => Outcome::Relayed { ended: "proxy shut down".into() },
    };
    let r = SessionReport {
        server: session.server.clone(),
        client,
        outcome,
        to_server: session.to_server,
        to_client: session.to_client,
        duration: started.elapsed(),
    };
    report(&shared, r).await;
}

struct Session {
    shared: Arc<Shared>,
    client: SocketAddr,
    deadline: tokio::time::Instant,
    failures: u32,
    server: Option<String>,
    to_server: u64,
    to_client: u64,
}

/// Where the pre-auth phase ended.
enum Next<S> {
    Done(Outcome),
    StartTls(S),
    LoggedIn(BufReader<S>, Upstream, String),
}

/// How a login attempt ended.
enum Login {
    /// Refused locally: the client may try again.
    Again,
    Done(Outcome),
    In(Upstream, String),
}

/// Why reading a client command stopped.
enum ReadError {
    Closed,
    Timeout,
    TooLong,
    Syntax(&'static str),
}

impl Session {
    async fn run(&mut self, tcp: TcpStream, implicit_tls: bool) -> Outcome {
        let tls_available = self.shared.acceptor.is_some();
        if implicit_tls {
            let Some(tls) = self.handshake(tcp).await else {
                return Outcome::Protocol {
                    cause: "TLS handshake failed".into(),
                };
            };
            return self.phase(tls, true, false).await;
        }
        match self.preauth(BufReader::new(tcp), false, tls_available).await {
            Next::Done(o) => o,
            Next::StartTls(tcp) => match self.handshake(tcp).await {
                Some(tls) => self.phase(tls, true, false).await,
                None => Outcome::Protocol {
                    cause: "STARTTLS handshake failed".into(),
                },
            },
            Next::LoggedIn(client, up, server) => self.relay(client, up, server).await,
        }
    }

    async fn phase<S: Io>(&mut self, stream: S, secure: bool, starttls: bool) -> Outcome {
        match self.preauth(BufReader::new(stream), secure, starttls).await {
            Next::Done(o) => o,
            // Offered only on a plain connection.
            Next::StartTls(_) => Outcome::Protocol {
                cause: "STARTTLS twice".into(),
            },
            Next::LoggedIn(client, up, server) => self.relay(client, up, server).await,
        }
    }

    async fn handshake(&self, tcp: TcpStream) -> Option<tokio_native_tls::TlsStream<TcpStream>> {
        let acceptor = self.shared.acceptor.as_ref()?;
        match tokio::time::timeout_at(self.deadline, acceptor.accept(tcp)).await {
            Ok(Ok(tls)) => Some(tls),
            Ok(Err(e)) => {
                tracing::debug!(client = %self.client, error = %e, "proxy: TLS handshake failed");
                None
            }
            Err(_) => None,
        }
    }

    /// Capabilities before login.
    fn capabilities(&self, secure: bool, starttls: bool) -> String {
        // On a plain connection beyond loopback, passwords wait for STARTTLS (RFC 9051 §6.2.3).
        let login_ok = secure || self.client.ip().is_loopback();
        let mut caps = vec!["IMAP4rev1", "ID", "LITERAL+", "SASL-IR"];
        if starttls && !secure {
            caps.push("STARTTLS");
        }
        if login_ok {
            caps.push("AUTH=PLAIN");
        } else {
            caps.push("LOGINDISABLED");
        }
        caps.join(" ")
    }

    async fn write<S: Io>(&self, client: &mut BufReader<S>, text: &str) -> bool {
        let w = client.get_mut();
        let done = async {
            w.write_all(text.as_bytes()).await?;
            w.flush().await
        };
        matches!(tokio::time::timeout_at(self.deadline, done).await, Ok(Ok(())))
    }

    async fn preauth<S: Io>(&mut self, mut client: BufReader<S>, secure: bool, starttls: bool) -> Next<S> {
        let greeting = format!(
            "* OK [CAPABILITY {}] inbound IMAP proxy ready: log in with the server's Name and its proxy password\r\n",
            self.capabilities(secure, starttls)
        );
        if !self.write(&mut client, &greeting).await {
            return Next::Done(Outcome::NoLogin {
                failed_logins: self.failures,
            });
        }
        loop {
            let (tag, tokens) = match self.read_command(&mut client).await {
                Ok(c) => c,
                Err(ReadError::Closed) => {
                    return Next::Done(Outcome::NoLogin {
                        failed_logins: self.failures,
                    });
                }
                Err(ReadError::Timeout) => {
                    let _ = self
                        .write(&mut client, "* BYE autologout: no login in time\r\n")
                        .await;
                    return Next::Done(Outcome::PreauthTimeout);
                }
                Err(ReadError::TooLong) => {
                    let _ = self
                        .write(&mut client, "* BYE line or literal too long before login\r\n")
                        .await;
                    return Next::Done(Outcome::Protocol {
                        cause: "line or literal too long".into(),
                    });
                }
                Err(ReadError::Syntax(why)) => {
                    if !self.write(&mut client, &format!("* BAD {why}\r\n")).await {
                        return Next::Done(Outcome::NoLogin {
                            failed_logins: self.failures,
                        });
                    }
                    continue;
                }
            };
            let login_ok = secure || self.client.ip().is_loopback();
            let answer = match command::parse(&tokens) {
                Command::Capability => format!(
                    "* CAPABILITY {}\r\n{tag} OK CAPABILITY completed\r\n",
                    self.capabilities(secure, starttls)
                ),
                Command::Noop => format!("{tag} OK NOOP completed\r\n"),
                Command::Id => format!(
                    "* ID (\"name\" \"inbound\" \"version\" \"{}\")\r\n{tag} OK ID completed\r\n",
                    env!("CARGO_PKG_VERSION")
                ),
                Command::Logout => {
                    let _ = self
                        .write(
                            &mut client,
                            &format!("* BYE logging out\r\n{tag} OK LOGOUT completed\r\n"),
                        )
                        .await;
                    return Next::Done(Outcome::NoLogin {
                        failed_logins: self.failures,
                    });
                }
                Command::StartTls if starttls && !secure => {
                    if !self
                        .write(&mut client, &format!("{tag} OK begin TLS negotiation now\r\n"))
                        .await
                    {
                        return Next::Done(Outcome::NoLogin {
                            failed_logins: self.failures,
                        });
                    }
                    // Bytes sent before the handshake would be commands injected in clear
                    // text (CVE-2011-0411's class): refuse rather than carry them over.
                    if !client.buffer().is_empty() {
                        return Next::Done(Outcome::Protocol {
                            cause: "data after STARTTLS before the handshake".into(),
                        });
                    }
                    return Next::StartTls(client.into_inner());
                }
                Command::StartTls => {
                    format!("{tag} BAD STARTTLS is not offered here (the proxy offers it when TLS is on)\r\n")
                }
                Command::Login { .. } | Command::AuthenticatePlain { .. } if !login_ok => {
                    format!(
                        "{tag} NO [PRIVACYREQUIRED] STARTTLS first: no passwords in clear text over the network\r\n"
                    )
                }
                Command::Login { user, password } => {
                    match self.login(&mut client, &tag, &user, &password).await {
                        Login::Again => continue,
                        Login::Done(o) => return Next::Done(o),
                        Login::In(up, name) => return Next::LoggedIn(client, up, name),
                    }
                }
                Command::AuthenticatePlain { initial } => {
                    let response = match initial {
                        Some(ir) => Some(ir),
                        None => {
                            if !self.write(&mut client, "+ \r\n").await {
                                return Next::Done(Outcome::NoLogin {
                                    failed_logins: self.failures,
                                });
                            }
                            match self.read_line(&mut client).await {
                                Ok(line) => Some(String::from_utf8_lossy(&line).into_owned()),
                                Err(ReadError::Closed | ReadError::Timeout) => {
                                    return Next::Done(Outcome::NoLogin {
                                        failed_logins: self.failures,
                                    });
                                }
                                Err(_) => None,
                            }
                        }
                    };
                    match response.as_deref().map(str::trim) {
                        Some("*") => format!("{tag} BAD AUTHENTICATE cancelled\r\n"),
                        Some(b64) => match command::plain_response(b64) {
                            Some((user, password)) => {
                                match self.login(&mut client, &tag, &user, &password).await {
                                    Login::Again => continue,
                                    Login::Done(o) => return Next::Done(o),
                                    Login::In(up, name) => return Next::LoggedIn(client, up, name),
                                }
                            }
                            None => format!("{tag} BAD not a SASL PLAIN response\r\n"),
                        },
                        None => format!("{tag} BAD not a SASL PLAIN response\r\n"),
                    }
                }
                Command::Bad(why) => format!("{tag} BAD {why}\r\n"),
            };
            if !self.write(&mut client, &answer).await {
                return Next::Done(Outcome::NoLogin {
                    failed_logins: self.failures,
                });
            }
        }
    }

    /// A local login, then the upstream one.
    async fn login<S: Io>(
        &mut self,
        client: &mut BufReader<S>,
        tag: &str,
        user: &[u8],
        password: &[u8],
    ) -> Login {
        let ip = self.client.ip();
        let blocked = {
            let failed = self.shared.failed.lock().unwrap_or_else(|p| p.into_inner());
            failed.blocked(ip, std::time::Instant::now())
        };
        if let Some(wait) = blocked {
            let _ = self
                .write(
                    client,
                    &format!(
                        "{tag} NO [AUTHENTICATIONFAILED] too many failed logins from {ip}: try again in {} s\r\n",
                        wait.as_secs().max(1)
                    ),
                )
                .await;
            return Login::Done(Outcome::RateLimited);
        }
        let server = match self.check_password(user, password) {
            Ok(server) => server,
            Err(hint) => {
                self.failures += 1;
                self.shared
                    .failed
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .failed(ip, std::time::Instant::now());
                // The same words whether the user is unknown or the password wrong.
                let text = hint.unwrap_or_else(|| "invalid user name or proxy password".into());
                let mut reply = format!("{tag} NO [AUTHENTICATIONFAILED] {text}\r\n");
                let hang_up = self.failures >= MAX_FAILURES_PER_CONNECTION;
                if hang_up {
                    reply.push_str("* BYE too many failed logins\r\n");
                }
                if !self.write(client, &reply).await {
                    return Login::Done(Outcome::NoLogin {
                        failed_logins: self.failures,
                    });
                }
                return if hang_up {
                    Login::Done(Outcome::TooManyFailures {
                        failed_logins: self.failures,
                    })
                } else {
                    Login::Again
                };
            }
        };
        self.server = Some(server.name.clone());
        let opened = upstream::open_for_session(
            &self.shared.store,
            &server,
            "proxy",
            self.shared.cfg.upstream_timeouts,
        )
        .await;
        match opened {
            Ok(up) => {
                let ok = format!(
                    "{tag} OK [CAPABILITY {}] logged in to {} as {}\r\n",
                    up.capabilities.join(" "),
                    server.host,
                    server.username
                );
                if !self.write(client, &ok).await {
                    return Login::Done(Outcome::NoLogin {
                        failed_logins: self.failures,
                    });
                }
                Login::In(up, server.name)
            }
            Err(e) => {
                let (cause, refused) = upstream_cause(&e, self.shared.cfg.wording);
                let _ = self
                    .write(client, &format!("{tag} NO [AUTHENTICATIONFAILED] {cause}\r\n"))
                    .await;
                Login::Done(Outcome::Upstream { cause, refused })
            }
        }
    }

    /// The server the user and password open; `Err(Some(text))` for a refusal that may say
    /// more than "wrong" (only when the password was right).
    fn check_password(&self, user: &[u8], password: &[u8]) -> Result<crate::model::Server, Option<String>> {
        let user = String::from_utf8_lossy(user).into_owned();
        let config = self.shared.store.load().map_err(|e| {
            tracing::warn!(error = %e, "proxy: the store cannot be read");
            None
        })?;
        let file = self.shared.store.read_proxy().map_err(|e| {
            tracing::warn!(error = %e, "proxy: proxy.json cannot be read");
            None
        })?;
        match upstream::find_server(&config, &user, false) {
            Lookup::Found(server) => {
                if super::password::verify(&file, Some(&server.id), password) {
                    Ok(*server)
                } else {
                    Err(None)
                }
            }
            Lookup::Ambiguous(names) => {
                // The password names the server (each is random): only then say why.
                let matching = config
                    .servers
                    .iter()
                    .filter(|s| names.contains(&s.name))
                    .filter(|s| super::password::verify(&file, Some(&s.id), password))
                    .count();
                if matching > 0 {
                    Err(Some(format!(
                        "{} is the mailbox of several servers ({}): log in with the server's Name",
                        crate::sanitize::peer_text(&user),
                        names.join(", ")
                    )))
                } else {
                    Err(None)
                }
            }
            Lookup::NotFound => {
                // Same work as a known user: one hash and one comparison.
                let _ = super::password::verify(&file, None, password);
                Err(None)
            }
        }
    }

    /// One command: a tag and its tokens, literals included (bounded).
    async fn read_command<S: Io>(
        &mut self,
        client: &mut BufReader<S>,
    ) -> Result<(String, Vec<Token>), ReadError> {
        let mut line = self.read_line(client).await?;
        let mut tokens = Vec::new();
        loop {
            match command::tokenize(&line, &mut tokens) {
                Ok(None) => break,
                Ok(Some(lit)) => {
                    if lit.synchronizing && !self.write(client, "+ go ahead\r\n").await {
                        return Err(ReadError::Closed);
                    }
                    let mut bytes = vec![0u8; lit.len];
                    match tokio::time::timeout_at(self.deadline, client.read_exact(&mut bytes)).await {
                        Ok(Ok(_)) => {}
                        Ok(Err(_)) => return Err(ReadError::Closed),
                        Err(_) => return Err(ReadError::Timeout),
                    }
                    tokens.push(Token::Text(bytes));
                    line = self.read_line(client).await?;
                }
                Err(LineError::LiteralTooLong(_)) => return Err(ReadError::TooLong),
                Err(LineError::TooManyTokens) => return Err(ReadError::Syntax("too many arguments")),
                Err(LineError::Syntax(why)) => return Err(ReadError::Syntax(why)),
            }
        }
        match tokens.first() {
            Some(Token::Atom(tag)) if command::valid_tag(tag) => {
                let tag = tag.clone();
                tokens.remove(0);
                Ok((tag, tokens))
            }
            _ => Err(ReadError::Syntax("a command starts with a tag")),
        }
    }

    /// One line without CRLF, at most [`MAX_LINE`] bytes, before the pre-auth deadline.
    async fn read_line<S: Io>(&self, client: &mut BufReader<S>) -> Result<Vec<u8>, ReadError> {
        let mut line = Vec::new();
        let read = async {
            loop {
                let buf = client.fill_buf().await.map_err(|_| ReadError::Closed)?;
                if buf.is_empty() {
                    return Err(ReadError::Closed);
                }
                let (take, done) = match buf.iter().position(|&b| b == b'\n') {
                    Some(i) => (i + 1, true),
                    None => (buf.len(), false),
                };
                if line.len() + take > MAX_LINE + 2 {
                    return Err(ReadError::TooLong);
                }
                line.extend_from_slice(&buf[..take]);
                client.consume(take);
                if done {
                    while matches!(line.last(), Some(b'\n' | b'\r')) {
                        line.pop();
                    }
                    return Ok(());
                }
            }
        };
        match tokio::time::timeout_at(self.deadline, read).await {
            Ok(Ok(())) => Ok(line),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(ReadError::Timeout),
        }
    }

    /// After login: bytes both ways, untouched, with fixed buffers (backpressure: a slow
    /// reader stops the other side's reads), until either side closes, the idle time passes or
    /// the proxy shuts down for good.
    async fn relay<S: Io>(&mut self, client: BufReader<S>, up: Upstream, server: String) -> Outcome {
        let pending_to_server = client.buffer().to_vec();
        let activity = Arc::new(Activity::new());
        let mut client = Metered {
            inner: client.into_inner(),
            activity: activity.clone(),
            read: 0,
        };
        let mut upstream = Metered {
            inner: up.stream,
            activity: activity.clone(),
            read: 0,
        };
        let first = async {
            client.inner.write_all(&up.leftover).await?;
            client.inner.flush().await?;
            upstream.inner.write_all(&pending_to_server).await?;
            upstream.inner.flush().await
        };
        if let Err(e) = first.await {
            return Outcome::Relayed {
                ended: format!("closed at once ({e})"),
            };
        }
        let idle = self.shared.cfg.idle_timeout;
        let ended = tokio::select! {
            r = tokio::io::copy_bidirectional_with_sizes(&mut client, &mut upstream, TO_SERVER_BUFFER, TO_CLIENT_BUFFER) => match r {
                Ok(_) => "closed".to_string(),
                Err(e) => format!("ended: {}", crate::sanitize::peer_text(&e.to_string())),
            },
            () = activity.idle_for(idle) => {
                format!("no traffic for {} min", idle.as_secs() / 60)
            }
        };
        self.to_server = client.read + pending_to_server.len() as u64;
        self.to_client = upstream.read + up.leftover.len() as u64;
        tracing::debug!(server = %server, "proxy: relay ended");
        Outcome::Relayed { ended }
    }
}

/// What the client is told when the upstream login fails: one line, with the fix.
fn upstream_cause(e: &Error, wording: Option<ShellWording>) -> (String, bool) {
    let refused = match e {
        Error::Upstream { source, .. } => upstream::is_refusal(source),
        Error::Blocked { .. } | Error::NotSignedIn { .. } | Error::NoPassword { .. } => true,
        Error::OAuth { source, .. } => source.blocker().is_some(),
        _ => false,
    };
    let mut text = e.to_string();
    match (e.fix(), wording) {
        (Some(fix), Some(w)) => {
            if let Some(command) = (w.command)(&fix) {
                text.push_str(&format!(" (run: {command})"));
            }
        }
        (Some(fix), None) => text.push_str(&format!(" ({})", fix.advice())),
        (None, _) => {}
    }
    let mut text = crate::sanitize::peer_text(&text);
    if text.len() > MAX_CAUSE {
        let mut cut = MAX_CAUSE;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push('…');
    }
    (text, refused)
}

/// Last time a byte moved either way, in milliseconds since `base`.
struct Activity {
    base: Instant,
    last_ms: AtomicU64,
}

impl Activity {
    fn new() -> Self {
        Self {
            base: Instant::now(),
            last_ms: AtomicU64::new(0),
        }
    }

    fn touch(&self) {
        let ms = u64::try_from(self.base.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    /// Resolves once nothing moved for `idle` (one timer per session, re-armed only when it
    /// fires: no work per byte).
    async fn idle_for(&self, idle: Duration) {
        loop {
            let last = self.last_ms.load(Ordering::Relaxed);
            let due = self.base + Duration::from_millis(last) + idle;
            tokio::time::sleep_until(due.into()).await;
            if self.last_ms.load(Ordering::Relaxed) == last {
                return;
            }
        }
    }
}

/// Counts bytes read and marks activity; writes pass through.
struct Metered<S> {
    inner: S,
    activity: Arc<Activity>,
    read: u64,
}

impl<S: AsyncRead + Unpin> AsyncRead for Metered<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        let n = buf.filled().len() - before;
        if n > 0 {
            self.read += n as u64;
            self.activity.touch();
        }
        r
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Metered<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
