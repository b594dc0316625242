//! An upstream IMAP session logged in and handed back as a raw stream, for the tunnel and the
//! proxy to relay.
//!
//! Written by hand rather than with async-imap (which Test & Confirm uses): async-imap reads
//! through its own framed buffer, and taking the stream back out of a `Session` would drop
//! whatever the server sent after the tagged OK (an unsolicited `* n EXISTS`, pipelined data).
//! The pre-auth exchange is small — greeting, CAPABILITY, one AUTHENTICATE or LOGIN — so it is
//! done here over a `BufReader` whose unread bytes are returned with the stream
//! ([`Upstream::leftover`]), and nothing the server says is lost.

use crate::services::imap::{self, Credentials, ProbeError, ProbeSettings, Stage};
use crate::services::xoauth2;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt as _, AsyncRead, AsyncWrite, AsyncWriteExt as _, BufReader};

/// A byte stream both ways (TCP or TLS over TCP).
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// The longest line the server may send before login (a greeting or CAPABILITY is a few
/// hundred bytes; Exchange's is under 200).
const MAX_LINE: usize = 64 * 1024;

/// A logged-in upstream connection.
pub struct Upstream {
    pub stream: Box<dyn Io>,
    /// Bytes the server sent after the tagged OK of the login, not yet relayed.
    pub leftover: Vec<u8>,
    /// The server's capabilities after login (sanitised atoms).
    pub capabilities: Vec<String>,
    /// The server's greeting text (sanitised).
    pub greeting: String,
}

impl std::fmt::Debug for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upstream")
            .field("capabilities", &self.capabilities)
            .field("leftover", &self.leftover.len())
            .finish_non_exhaustive()
    }
}

type Result<T> = std::result::Result<T, ProbeError>;

async fn within<T>(stage: Stage, limit: Duration, fut: impl Future<Output = T>) -> Result<T> {
    tokio::time::timeout(limit, fut)
        .await
        .map_err(|_| ProbeError::Timeout { stage, secs: limit })
}

/// Connects (TLS when the settings say so, as Test & Confirm does: the server's CA file, the
/// shared trust store), reads the greeting, learns the capabilities, logs in with `creds`
/// (XOAUTH2 with SASL-IR when offered, else LOGIN) and returns the stream ready to relay.
pub async fn login(settings: &ProbeSettings, creds: &Credentials) -> Result<Upstream> {
    match attempt(settings, creds, true).await {
        // As Test & Confirm: once more, one command at a time, for an intermediary that cannot
        // take commands sent before the greeting.
        Err(e) if imap::sent_ahead_unanswered(creds, &e) => {
            tracing::info!(host = %settings.host, error = %e, "upstream: no answer to the commands sent before the greeting; again, one at a time");
            attempt(settings, creds, false).await
        }
        done => done,
    }
}

async fn attempt(settings: &ProbeSettings, creds: &Credentials, ahead: bool) -> Result<Upstream> {
    let (tcp, setup) = imap::connect(settings).await?;
    let Some(setup) = setup else {
        return conversation(Box::new(tcp), settings, creds, ahead).await;
    };
    let stream = imap::handshake(settings, tcp, setup).await?;
    conversation(Box::new(stream), settings, creds, ahead).await
}

/// The IMAP conversation up to a logged-in state, over an established stream.
///
/// With a token, CAPABILITY and AUTHENTICATE (initial response on the line) leave before the
/// greeting has arrived, as Test & Confirm sends them: the greeting, the capabilities and the
/// login take one round trip together. A password waits for the capabilities (LOGINDISABLED).
pub async fn session(stream: Box<dyn Io>, settings: &ProbeSettings, creds: &Credentials) -> Result<Upstream> {
    conversation(stream, settings, creds, true).await
}

async fn conversation(
    stream: Box<dyn Io>,
    settings: &ProbeSettings,
    creds: &Credentials,
    ahead: bool,
) -> Result<Upstream> {
    let t = settings.timeouts;
    let mut conn = Conn {
        io: BufReader::new(stream),
        line: Vec::new(),
    };
    let ir = match creds {
        Credentials::XOAuth2 { user, access_token } => Some(xoauth2::encode(user, access_token.expose())),
        Credentials::Login { .. } => None,
    };
    let ahead = ir.as_ref().filter(|_| ahead);
    if let Some(ir) = ahead {
        let lines = format!("i0 CAPABILITY\r\ni1 AUTHENTICATE XOAUTH2 {ir}\r\n");
        within(
            Stage::Greeting,
            t.command,
            conn.send(lines.as_bytes(), Stage::Greeting),
        )
        .await??;
    }
    let greeting = within(Stage::Greeting, t.command, conn.read_line(Stage::Greeting)).await??;
    let text = greeting_text(&greeting)?;
    let mut caps = code_capabilities(&greeting);

    let from_greeting = caps.is_some();
    if !from_greeting || ahead.is_some() {
        if ahead.is_none() {
            conn.send(b"i0 CAPABILITY\r\n", Stage::Capabilities).await?;
        }
        let answered = within(
            Stage::Capabilities,
            t.command,
            conn.until_tagged("i0", Stage::Capabilities),
        )
        .await?
        .and_then(|(done, untagged)| {
            check_ok(&done, Stage::Capabilities)?;
            Ok(untagged_capabilities(&untagged))
        });
        caps = match answered {
            // The greeting's list stands whatever becomes of the command sent ahead.
            Err(_) if from_greeting => caps,
            other => caps.or(Some(other?)),
        };
    }
    let caps = caps.unwrap_or_default();
    let has = |c: &str| caps.iter().any(|x| x.eq_ignore_ascii_case(c));

    let oauth = matches!(creds, Credentials::XOAuth2 { .. });
    let mut tag = "i1";
    match creds {
        Credentials::XOAuth2 { .. } => {
            if !has("AUTH=XOAUTH2") {
                return Err(ProbeError::MechanismMissing {
                    mechanism: "XOAUTH2",
                    capabilities: caps.join(" "),
                });
            }
            let ir = ir.as_deref().unwrap_or_default();
            match (ahead.is_some(), has("SASL-IR")) {
                (true, true) => {}
                (false, true) => {
                    conn.send(
                        format!("{tag} AUTHENTICATE XOAUTH2 {ir}\r\n").as_bytes(),
                        Stage::Authenticate,
                    )
                    .await?;
                }
                (false, false) => conn.two_steps(tag, ir, t.authenticate).await?,
                (true, false) => {
                    // The line sent ahead carried an initial response this server does not
                    // announce: when it refuses the line, the exchange again without one.
                    let (done, _) =
                        within(Stage::Authenticate, t.authenticate, conn.authenticated(tag)).await??;
                    if status_is(&done, tag, "OK") {
                        return logged_in(conn, done, text, t).await;
                    }
                    tag = "i3";
                    conn.two_steps(tag, ir, t.authenticate).await?;
                }
            }
        }
        Credentials::Login { user, password } => {
            if has("LOGINDISABLED") {
                return Err(ProbeError::MechanismMissing {
                    mechanism: "LOGIN",
                    capabilities: caps.join(" "),
                });
            }
            conn.send(tag.as_bytes(), Stage::Authenticate).await?;
            conn.send(b" LOGIN ", Stage::Authenticate).await?;
            conn.send_astring(user.as_bytes(), t.authenticate).await?;
            conn.send(b" ", Stage::Authenticate).await?;
            conn.send_astring(password.expose().as_bytes(), t.authenticate)
                .await?;
            conn.send(b"\r\n", Stage::Authenticate).await?;
        }
    }
    let (done, detail) = within(Stage::Authenticate, t.authenticate, conn.authenticated(tag)).await??;
    if !status_is(&done, tag, "OK") {
        return Err(refusal(&done, detail, oauth));
    }
    logged_in(conn, done, text, t).await
}

/// After the tagged OK of the login: the capabilities (from the OK, else asked for) and the
/// stream with what the server already sent.
async fn logged_in(mut conn: Conn, done: Vec<u8>, text: String, t: imap::Timeouts) -> Result<Upstream> {
    let caps = match code_capabilities(&done) {
        Some(c) => c,
        None => {
            conn.send(b"i2 CAPABILITY\r\n", Stage::Capabilities).await?;
            let (ok, untagged) = within(
                Stage::Capabilities,
                t.command,
                conn.until_tagged("i2", Stage::Capabilities),
            )
            .await??;
            check_ok(&ok, Stage::Capabilities)?;
            untagged_capabilities(&untagged)
        }
    };
    let leftover = conn.io.buffer().to_vec();
    Ok(Upstream {
        stream: conn.io.into_inner(),
        leftover,
        capabilities: caps,
        greeting: text,
    })
}

struct Conn {
    io: BufReader<Box<dyn Io>>,
    line: Vec<u8>,
}

impl Conn {
    async fn send(&mut self, bytes: &[u8], stage: Stage) -> Result<()> {
        let w = self.io.get_mut();
        w.write_all(bytes)
            .await
            .map_err(|_| ProbeError::ConnectionLost { stage })?;
        w.flush().await.map_err(|_| ProbeError::ConnectionLost { stage })
    }

    /// A quoted string when that can carry the bytes, else a synchronizing literal.
    async fn send_astring(&mut self, s: &[u8], limit: Duration) -> Result<()> {
        let quotable = s.iter().all(|b| (0x20..0x7f).contains(b));
        if quotable {
            let mut q = Vec::with_capacity(s.len() + 2);
            q.push(b'"');
            for &b in s {
                if b == b'"' || b == b'\\' {
                    q.push(b'\\');
                }
                q.push(b);
            }
            q.push(b'"');
            return self.send(&q, Stage::Authenticate).await;
        }
        self.send(format!("{{{}}}\r\n", s.len()).as_bytes(), Stage::Authenticate)
            .await?;
        let go = within(Stage::Authenticate, limit, self.read_line(Stage::Authenticate)).await??;
        if !go.starts_with(b"+") {
            return Err(refusal(&go, None, false));
        }
        self.send(s, Stage::Authenticate).await
    }

    /// One line without its CRLF, at most [`MAX_LINE`] bytes.
    async fn read_line(&mut self, stage: Stage) -> Result<Vec<u8>> {
        self.line.clear();
        loop {
            let buf = self
                .io
                .fill_buf()
                .await
                .map_err(|_| ProbeError::ConnectionLost { stage })?;
            if buf.is_empty() {
                return Err(ProbeError::ConnectionLost { stage });
            }
            let (take, done) = match buf.iter().position(|&b| b == b'\n') {
                Some(i) => (i + 1, true),
                None => (buf.len(), false),
            };
            self.line.extend_from_slice(&buf[..take]);
            self.io.consume(take);
            if self.line.len() > MAX_LINE {
                return Err(ProbeError::Protocol {
                    stage,
                    message: format!("the server sent a line longer than {MAX_LINE} bytes"),
                });
            }
            if done {
                while matches!(self.line.last(), Some(b'\n' | b'\r')) {
                    self.line.pop();
                }
                return Ok(std::mem::take(&mut self.line));
            }
        }
    }

    /// `AUTHENTICATE XOAUTH2`, then the initial response after the server's `+` (a server
    /// without SASL-IR).
    async fn two_steps(&mut self, tag: &str, ir: &str, limit: Duration) -> Result<()> {
        self.send(
            format!("{tag} AUTHENTICATE XOAUTH2\r\n").as_bytes(),
            Stage::Authenticate,
        )
        .await?;
        let first = within(Stage::Authenticate, limit, self.read_line(Stage::Authenticate)).await??;
        if !first.starts_with(b"+") {
            // Answered at once (NO/BAD).
            return Err(refusal(&first, None, true));
        }
        self.send(format!("{ir}\r\n").as_bytes(), Stage::Authenticate)
            .await
    }

    /// The answer to a login: the tagged line, and the server's words when it sent an XOAUTH2
    /// error as a `+ <base64 JSON>` challenge (Dovecot, Gmail), which is answered with an empty
    /// line, after which the tagged NO follows.
    async fn authenticated(&mut self, tag: &str) -> Result<(Vec<u8>, Option<String>)> {
        let mut detail = None;
        loop {
            let line = self.read_line(Stage::Authenticate).await?;
            if line.starts_with(b"+") {
                let challenge = String::from_utf8_lossy(&line[1..]).trim().to_string();
                detail = decode_challenge(&challenge);
                self.send(b"\r\n", Stage::Authenticate).await?;
                continue;
            }
            if is_tagged(&line, tag) {
                return Ok((line, detail));
            }
        }
    }

    /// Reads until the line tagged `tag`; returns it and the untagged lines before it.
    async fn until_tagged(&mut self, tag: &str, stage: Stage) -> Result<(Vec<u8>, Vec<Vec<u8>>)> {
        let mut untagged = Vec::new();
        loop {
            let line = self.read_line(stage).await?;
            if is_tagged(&line, tag) {
                return Ok((line, untagged));
            }
            if untagged.len() < 64 {
                untagged.push(line);
            }
        }
    }
}

fn is_tagged(line: &[u8], tag: &str) -> bool {
    line.len() > tag.len() && line.starts_with(tag.as_bytes()) && line[tag.len()] == b' '
}

fn status_is(line: &[u8], tag: &str, status: &str) -> bool {
    line.get(tag.len() + 1..).is_some_and(|rest| {
        rest.len() >= status.len() && rest[..status.len()].eq_ignore_ascii_case(status.as_bytes())
    })
}

fn check_ok(line: &[u8], stage: Stage) -> Result<()> {
    let text = String::from_utf8_lossy(line);
    let mut words = text.splitn(3, ' ');
    let _tag = words.next();
    match words.next() {
        Some(s) if s.eq_ignore_ascii_case("OK") => Ok(()),
        _ => Err(ProbeError::Protocol {
            stage,
            message: crate::sanitize::peer_text(&text),
        }),
    }
}

/// The greeting's text, or why it is not one we can log in after.
fn greeting_text(line: &[u8]) -> Result<String> {
    let text = crate::sanitize::peer_bytes(line);
    if let Some(rest) = strip_ci(&text, "* OK") {
        return Ok(rest.trim().to_string());
    }
    if let Some(rest) = strip_ci(&text, "* BYE") {
        return Err(ProbeError::Greeting(format!("BYE{rest}")));
    }
    Err(ProbeError::Greeting(
        "the first line is not an IMAP greeting".to_string(),
    ))
}

fn strip_ci<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    (text.len() >= prefix.len()
        && text.is_char_boundary(prefix.len())
        && text[..prefix.len()].eq_ignore_ascii_case(prefix))
    .then(|| &text[prefix.len()..])
}

/// `[CAPABILITY …]` in a status response (greeting or tagged OK).
fn code_capabilities(line: &[u8]) -> Option<Vec<String>> {
    let text = String::from_utf8_lossy(line);
    let upper = text.to_ascii_uppercase();
    let start = upper.find("[CAPABILITY ")? + "[CAPABILITY ".len();
    let end = text[start..].find(']')? + start;
    Some(atoms(&text[start..end]))
}

fn untagged_capabilities(lines: &[Vec<u8>]) -> Vec<String> {
    let mut caps = Vec::new();
    for line in lines {
        let text = String::from_utf8_lossy(line);
        if let Some(rest) = strip_ci(&text, "* CAPABILITY ") {
            caps.extend(atoms(rest));
        }
    }
    caps
}

/// Capability atoms, cleaned: printable ASCII without the characters that would change the
/// meaning of the line they are written back into.
fn atoms(s: &str) -> Vec<String> {
    s.split_ascii_whitespace()
        .map(|a| {
            a.chars()
                .filter(|c| {
                    c.is_ascii_graphic() && !matches!(c, '[' | ']' | '(' | ')' | '{' | '}' | '"' | '\\')
                })
                .collect::<String>()
        })
        .filter(|a| !a.is_empty())
        .take(256)
        .collect()
}

fn decode_challenge(b64: &str) -> Option<String> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    let text = crate::sanitize::peer_bytes(&bytes);
    (!text.trim().is_empty()).then_some(text)
}

/// A tagged NO/BAD (or an unexpected line) during the login, as Test & Confirm reports it.
fn refusal(line: &[u8], detail: Option<String>, oauth: bool) -> ProbeError {
    let text = crate::sanitize::peer_bytes(line);
    // Drop the tag and the status word: the server's own words remain.
    let words: String = text.splitn(3, ' ').nth(2).unwrap_or("").trim().to_string();
    ProbeError::AuthRejected {
        server_text: if words.is_empty() {
            "(no text from the server)".to_string()
        } else {
            words
        },
        detail,
        oauth,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capabilities_come_from_response_codes_and_untagged_lines() {
        assert_eq!(
            code_capabilities(b"i1 OK [CAPABILITY IMAP4rev1 IDLE MOVE] Logged in"),
            Some(vec!["IMAP4rev1".into(), "IDLE".into(), "MOVE".into()])
        );
        assert_eq!(code_capabilities(b"* OK ready"), None);
        assert_eq!(
            untagged_capabilities(&[b"* CAPABILITY IMAP4rev1 AUTH=XOAUTH2 SASL-IR".to_vec()]),
            vec!["IMAP4rev1", "AUTH=XOAUTH2", "SASL-IR"]
        );
        // A hostile atom cannot close the response code it is written into.
        assert_eq!(atoms("A]B \x1b[2J"), vec!["AB", "2J"]);
    }

    fn oauth() -> Credentials {
        Credentials::XOAuth2 {
            user: "u@contoso.com".into(),
            access_token: crate::secret::Secret::new("tok"),
        }
    }

    fn settings() -> ProbeSettings {
        ProbeSettings {
            host: "127.0.0.1".into(),
            port: 993,
            tls: true,
            ca_file: None,
            timeouts: imap::Timeouts {
                command: Duration::from_secs(5),
                ..imap::Timeouts::default()
            },
        }
    }

    /// A server that reads `expect` lines before it says anything, then writes `answer`.
    async fn server(
        mut far: tokio::io::DuplexStream,
        expect: &[&str],
        answer: &str,
    ) -> (tokio::io::DuplexStream, Vec<String>) {
        let mut seen = Vec::new();
        let mut r = BufReader::new(&mut far);
        for prefix in expect {
            let mut line = String::new();
            r.read_line(&mut line).await.unwrap();
            assert!(line.starts_with(prefix), "expected {prefix:?}, got {line:?}");
            seen.push(line.trim_end().to_string());
        }
        far.write_all(answer.as_bytes()).await.unwrap();
        (far, seen)
    }

    #[tokio::test]
    async fn a_token_login_leaves_before_the_greeting() {
        // Exchange: no capabilities in the greeting. The server reads both lines before it
        // greets, so a client that waited for the greeting would never get one.
        let (near, far) = tokio::io::duplex(64 * 1024);
        let serving = tokio::spawn(server(
            far,
            &["i0 CAPABILITY", "i1 AUTHENTICATE XOAUTH2 "],
            "* OK The Microsoft Exchange IMAP4 service is ready.\r\n\
             * CAPABILITY IMAP4 IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2 SASL-IR UIDPLUS\r\ni0 OK done\r\n\
             i1 OK [CAPABILITY IMAP4rev1 IDLE] AUTHENTICATE completed.\r\n* 3 EXISTS\r\n",
        ));
        let up = session(Box::new(near), &settings(), &oauth()).await.unwrap();
        let (_far, seen) = serving.await.unwrap();
        assert_eq!(
            seen[1],
            format!(
                "i1 AUTHENTICATE XOAUTH2 {}",
                xoauth2::encode("u@contoso.com", "tok")
            )
        );
        assert_eq!(up.capabilities, vec!["IMAP4rev1", "IDLE"]);
        assert_eq!(up.leftover, b"* 3 EXISTS\r\n");
    }

    #[tokio::test]
    async fn without_sasl_ir_a_refused_line_sent_ahead_is_sent_again_without_it() {
        let (near, far) = tokio::io::duplex(64 * 1024);
        let serving = tokio::spawn(async move {
            let (mut far, mut seen) = server(
                far,
                &["i0 CAPABILITY", "i1 AUTHENTICATE XOAUTH2 "],
                "* OK [CAPABILITY IMAP4rev1 AUTH=XOAUTH2] hi\r\ni0 OK done\r\ni1 BAD no initial response\r\n",
            )
            .await;
            let (f, more) = server(far, &["i3 AUTHENTICATE XOAUTH2"], "+ \r\n").await;
            far = f;
            seen.extend(more);
            let (f, more) = server(far, &[""], "i3 OK [CAPABILITY IMAP4rev1] in\r\n").await;
            seen.extend(more);
            (f, seen)
        });
        let up = session(Box::new(near), &settings(), &oauth()).await.unwrap();
        let (_far, seen) = serving.await.unwrap();
        assert_eq!(seen[2], "i3 AUTHENTICATE XOAUTH2");
        assert_eq!(seen[3], xoauth2::encode("u@contoso.com", "tok"));
        assert_eq!(up.capabilities, vec!["IMAP4rev1"]);
    }

    #[tokio::test]
    async fn an_intermediary_that_drops_commands_sent_ahead_gets_them_one_at_a_time() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let serving = tokio::spawn(async move {
            // First connection: greets, reads what was sent ahead, hangs up.
            let (mut first, _) = listener.accept().await.unwrap();
            first.write_all(b"* OK ready\r\n").await.unwrap();
            let mut r = BufReader::new(first);
            let mut line = String::new();
            r.read_line(&mut line).await.unwrap();
            assert_eq!(line, "i0 CAPABILITY\r\n");
            line.clear();
            r.read_line(&mut line).await.unwrap();
            assert!(line.starts_with("i1 AUTHENTICATE XOAUTH2 "), "{line}");
            drop(r);
            let (mut s, _) = listener.accept().await.unwrap();
            s.write_all(b"* OK ready\r\n").await.unwrap();
            let mut r = BufReader::new(s);
            let mut line = String::new();
            r.read_line(&mut line).await.unwrap();
            assert_eq!(line, "i0 CAPABILITY\r\n", "one command at a time");
            r.get_mut()
                .write_all(b"* CAPABILITY IMAP4rev1 AUTH=XOAUTH2 SASL-IR\r\ni0 OK done\r\n")
                .await
                .unwrap();
            line.clear();
            r.read_line(&mut line).await.unwrap();
            assert!(line.starts_with("i1 AUTHENTICATE XOAUTH2 "), "{line}");
            r.get_mut()
                .write_all(b"i1 OK [CAPABILITY IMAP4rev1] in\r\n")
                .await
                .unwrap();
            r
        });
        let mut s = settings();
        s.port = port;
        s.tls = false;
        let up = login(&s, &oauth()).await.unwrap();
        assert_eq!(up.capabilities, vec!["IMAP4rev1"]);
        drop(serving.await.unwrap());
    }

    #[test]
    fn refusals_keep_the_servers_words() {
        let e = refusal(b"i1 NO AUTHENTICATE failed.", None, true);
        assert_eq!(
            e.to_string(),
            "the server refused the login: AUTHENTICATE failed."
        );
        assert!(status_is(b"i1 ok done", "i1", "OK"));
        assert!(!status_is(b"i1 NO x", "i1", "OK"));
        assert!(greeting_text(b"* BYE busy").is_err());
        assert_eq!(
            greeting_text(b"* OK IMAP ready").ok().as_deref(),
            Some("IMAP ready")
        );
    }
}
