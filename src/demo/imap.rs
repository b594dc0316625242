//! A stand-in for Exchange Online's IMAP over implicit TLS, just enough for Test & Confirm and
//! mail programs that look at INBOX: greeting with capabilities, `CAPABILITY`, `NOOP`,
//! `AUTHENTICATE XOAUTH2` (with or without SASL-IR) checked against the tokens the stand-in
//! sign-in service issued, `EXAMINE`/`SELECT INBOX`, `LOGOUT`. It answers with Exchange's
//! words, including "User is authenticated but not connected." for a token whose account may
//! not open the mailbox named in `user=`.

use super::cert::DemoTls;
use crate::services::xoauth2;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{
    AsyncBufReadExt as _, AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _, BufReader,
};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_native_tls::native_tls;

/// Tells which account a live access token with the IMAP scope belongs to.
pub type TokenCheck = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

const GREETING: &str = "* OK [CAPABILITY IMAP4rev1 AUTH=XOAUTH2 SASL-IR ID] The demo IMAP4 service is ready.";
const CAPABILITIES: &str = "* CAPABILITY IMAP4rev1 AUTH=XOAUTH2 SASL-IR ID";
/// Longer lines are refused (an XOAUTH2 line with a real token is a few KB).
const MAX_LINE: u64 = 16 * 1024;
/// A client that says nothing for this long is logged out, like Exchange's autologout.
const IDLE: Duration = Duration::from_secs(120);
const TLS_TIMEOUT: Duration = Duration::from_secs(15);

#[derive(Debug, thiserror::Error)]
pub enum ImapError {
    #[error("TLS identity: {0}")]
    Tls(#[from] native_tls::Error),
    #[error("cannot listen: {0}")]
    Io(#[from] std::io::Error),
}

/// A running server; stops when dropped.
pub struct DemoImap {
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for DemoImap {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl DemoImap {
    /// Binds `127.0.0.1:0`. `mailboxes`: account → messages in its INBOX.
    pub async fn start(
        tls: &DemoTls,
        mailboxes: HashMap<String, u32>,
        check: TokenCheck,
    ) -> Result<Self, ImapError> {
        let identity = native_tls::Identity::from_pkcs8(tls.cert_pem.as_bytes(), tls.key_pem.as_bytes())?;
        let acceptor = tokio_native_tls::TlsAcceptor::from(native_tls::TlsAcceptor::new(identity)?);
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let mailboxes: Arc<HashMap<String, u32>> = Arc::new(
            mailboxes
                .into_iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v))
                .collect(),
        );
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                // Small request/answer lines: don't let Nagle hold them back.
                let _ = tcp.set_nodelay(true);
                let acceptor = acceptor.clone();
                let (mailboxes, check) = (Arc::clone(&mailboxes), Arc::clone(&check));
                tokio::spawn(async move {
                    if let Ok(Ok(tls)) = tokio::time::timeout(TLS_TIMEOUT, acceptor.accept(tcp)).await {
                        // A client that goes away mid-session is nothing to report.
                        let _ = Session::new(&mailboxes, &check).run(tls).await;
                    }
                });
            }
        });
        Ok(Self { addr, task })
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }
}

/// One connection's state.
struct Session<'a> {
    mailboxes: &'a HashMap<String, u32>,
    check: &'a TokenCheck,
    /// After a good AUTHENTICATE: (the mailbox named in `user=`, the token's account).
    signed_in: Option<(String, String)>,
}

impl<'a> Session<'a> {
    fn new(mailboxes: &'a HashMap<String, u32>, check: &'a TokenCheck) -> Self {
        Self {
            mailboxes,
            check,
            signed_in: None,
        }
    }

    async fn run<S: AsyncRead + AsyncWrite + Unpin>(mut self, stream: S) -> std::io::Result<()> {
        let (read, mut write) = tokio::io::split(stream);
        let mut lines = BufReader::new(read);
        send(&mut write, GREETING).await?;
        while let Some(line) = read_line(&mut lines).await? {
            let mut words = line.splitn(3, ' ');
            let tag = words.next().unwrap_or_default().to_string();
            let command = words.next().unwrap_or_default().to_ascii_uppercase();
            let rest = words.next().unwrap_or_default().trim().to_string();
            if tag.is_empty() || command.is_empty() {
                send(&mut write, "* BAD Command Error. 10").await?;
                continue;
            }
            match command.as_str() {
                "CAPABILITY" => {
                    send(&mut write, CAPABILITIES).await?;
                    send(&mut write, &format!("{tag} OK CAPABILITY completed.")).await?;
                }
                "NOOP" | "ID" => send(&mut write, &format!("{tag} OK {command} completed.")).await?,
                "AUTHENTICATE" => {
                    let reply = self.authenticate(&tag, &rest, &mut lines, &mut write).await?;
                    send(&mut write, &reply).await?;
                }
                "LOGIN" => send(&mut write, &format!("{tag} NO LOGIN failed.")).await?,
                "EXAMINE" | "SELECT" => {
                    for l in self.open(&tag, &command, &rest) {
                        send(&mut write, &l).await?;
                    }
                }
                "LOGOUT" => {
                    send(&mut write, "* BYE The demo IMAP4 server is signing off.").await?;
                    send(&mut write, &format!("{tag} OK LOGOUT completed.")).await?;
                    return write.shutdown().await;
                }
                _ => send(&mut write, &format!("{tag} BAD Command Error. 12")).await?,
            }
        }
        Ok(())
    }

    async fn authenticate<R, W>(
        &mut self,
        tag: &str,
        rest: &str,
        lines: &mut R,
        write: &mut W,
    ) -> std::io::Result<String>
    where
        R: tokio::io::AsyncBufRead + Unpin,
        W: AsyncWrite + Unpin,
    {
        let mut args = rest.split_whitespace();
        if !args.next().unwrap_or_default().eq_ignore_ascii_case("XOAUTH2") {
            return Ok(format!("{tag} NO AUTHENTICATE failed."));
        }
        if self.signed_in.is_some() {
            return Ok(format!("{tag} BAD Command received in Invalid state."));
        }
        let initial = match args.next() {
            Some(ir) => ir.to_string(),
            None => {
                send(write, "+ ").await?;
                match read_line(lines).await? {
                    Some(l) => l,
                    None => return Ok(String::new()),
                }
            }
        };
        if initial.trim() == "*" {
            return Ok(format!("{tag} BAD AUTHENTICATE cancelled."));
        }
        let decoded = STANDARD
            .decode(initial.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .unwrap_or_default();
        let Some((user, token)) = xoauth2::parse(&decoded) else {
            return Ok(format!("{tag} NO AUTHENTICATE failed."));
        };
        match (self.check)(&token) {
            Some(account) => {
                self.signed_in = Some((user, account));
                Ok(format!("{tag} OK AUTHENTICATE completed."))
            }
            None => Ok(format!("{tag} NO AUTHENTICATE failed.")),
        }
    }

    fn open(&self, tag: &str, command: &str, rest: &str) -> Vec<String> {
        let Some((user, account)) = &self.signed_in else {
            return vec![format!("{tag} BAD Command received in Invalid state.")];
        };
        if !rest.trim_matches('"').eq_ignore_ascii_case("INBOX") {
            return vec![format!("{tag} NO Folder not found.")];
        }
        // Exchange lets a token open only its own account's mailbox (or one it has
        // FullAccess to, which the demo does not model); everything else fails here.
        let messages = user
            .eq_ignore_ascii_case(account)
            .then(|| self.mailboxes.get(&user.to_ascii_lowercase()))
            .flatten();
        let Some(exists) = messages else {
            return vec![format!("{tag} NO User is authenticated but not connected.")];
        };
        let access = if command == "EXAMINE" {
            "READ-ONLY"
        } else {
            "READ-WRITE"
        };
        vec![
            format!("* {exists} EXISTS"),
            "* 0 RECENT".to_string(),
            "* FLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft $MDNSent)".to_string(),
            "* OK [PERMANENTFLAGS ()] Permanent flags".to_string(),
            "* OK [UIDVALIDITY 14] UIDVALIDITY value".to_string(),
            format!("* OK [UIDNEXT {}] The next unique identifier value", exists + 1),
            format!("{tag} OK [{access}] {command} completed."),
        ]
    }
}

async fn send<W: AsyncWrite + Unpin>(w: &mut W, line: &str) -> std::io::Result<()> {
    // One write per line, so TLS sends one record.
    w.write_all(format!("{line}\r\n").as_bytes()).await?;
    w.flush().await
}

/// One line without CRLF; `None` at the end of the stream. Too long, silent too long, or not
/// text: an error (the connection is dropped).
async fn read_line<R: tokio::io::AsyncBufRead + Unpin>(r: &mut R) -> std::io::Result<Option<String>> {
    let mut buf = Vec::new();
    let n = tokio::time::timeout(IDLE, r.take(MAX_LINE).read_until(b'\n', &mut buf))
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "idle"))??;
    if n == 0 {
        return Ok(None);
    }
    if buf.last() != Some(&b'\n') {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "line too long",
        ));
    }
    let text = String::from_utf8(buf)
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8"))?;
    Ok(Some(text.trim_end_matches(['\r', '\n']).to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::imap::{Credentials, ProbeError, ProbeSettings, probe};

    const TOKEN: &str = "EwB.good-token";

    fn check() -> TokenCheck {
        Arc::new(|t: &str| (t == TOKEN).then(|| "user@contoso.com".to_string()))
    }

    fn mailboxes() -> HashMap<String, u32> {
        HashMap::from([("user@contoso.com".to_string(), 3)])
    }

    /// Runs a session over an in-memory pipe; returns the client side as lines.
    async fn converse(lines: &[String]) -> Vec<String> {
        let (client, server) = tokio::io::duplex(64 * 1024);
        let (m, c) = (mailboxes(), check());
        let task = tokio::spawn(async move { Session::new(&m, &c).run(server).await });
        let (read, mut write) = tokio::io::split(client);
        for l in lines {
            write.write_all(format!("{l}\r\n").as_bytes()).await.unwrap();
        }
        write.shutdown().await.unwrap();
        let mut out = String::new();
        BufReader::new(read).read_to_string(&mut out).await.unwrap();
        let _ = task.await;
        out.lines().map(str::to_string).collect()
    }

    fn ir(user: &str, token: &str) -> String {
        xoauth2::encode(user, token)
    }

    #[tokio::test]
    async fn xoauth2_is_refused_for_a_wrong_token() {
        let out = converse(&[
            format!(
                "a1 AUTHENTICATE XOAUTH2 {}",
                ir("user@contoso.com", "EwB.not-issued")
            ),
            "a2 EXAMINE INBOX".into(),
            "a3 LOGOUT".into(),
        ])
        .await;
        assert!(
            out[0].starts_with("* OK [CAPABILITY IMAP4rev1 AUTH=XOAUTH2 SASL-IR"),
            "{out:?}"
        );
        assert!(out.contains(&"a1 NO AUTHENTICATE failed.".to_string()), "{out:?}");
        assert!(
            out.contains(&"a2 BAD Command received in Invalid state.".to_string()),
            "{out:?}"
        );
    }

    #[tokio::test]
    async fn an_issued_token_opens_its_own_inbox_only() {
        let out = converse(&[
            format!("a1 AUTHENTICATE XOAUTH2 {}", ir("user@contoso.com", TOKEN)),
            "a2 EXAMINE \"INBOX\"".into(),
            "a3 LOGOUT".into(),
        ])
        .await;
        assert!(
            out.contains(&"a1 OK AUTHENTICATE completed.".to_string()),
            "{out:?}"
        );
        assert!(out.contains(&"* 3 EXISTS".to_string()), "{out:?}");
        assert!(
            out.contains(&"a2 OK [READ-ONLY] EXAMINE completed.".to_string()),
            "{out:?}"
        );
        assert!(out.iter().any(|l| l.starts_with("* BYE")), "{out:?}");
        // Someone else's mailbox with this token: signed in, but not connected.
        let out = converse(&[
            format!("a1 AUTHENTICATE XOAUTH2 {}", ir("sales@contoso.com", TOKEN)),
            "a2 EXAMINE INBOX".into(),
        ])
        .await;
        assert!(
            out.contains(&"a1 OK AUTHENTICATE completed.".to_string()),
            "{out:?}"
        );
        assert!(
            out.contains(&"a2 NO User is authenticated but not connected.".to_string()),
            "{out:?}"
        );
    }

    #[tokio::test]
    async fn two_step_authenticate_and_garbage() {
        let out = converse(&[
            "a1 AUTHENTICATE XOAUTH2".into(),
            ir("user@contoso.com", TOKEN),
            "a2 FROB".into(),
            "".into(),
            "a3 AUTHENTICATE XOAUTH2 !!!notbase64".into(),
            "a4 CAPABILITY".into(),
        ])
        .await;
        assert!(out.contains(&"+ ".to_string()), "{out:?}");
        assert!(
            out.contains(&"a1 OK AUTHENTICATE completed.".to_string()),
            "{out:?}"
        );
        assert!(out.contains(&"a2 BAD Command Error. 12".to_string()), "{out:?}");
        assert!(
            out.contains(&"a3 BAD Command received in Invalid state.".to_string()),
            "{out:?}"
        );
        assert!(
            out.contains(&"a4 OK CAPABILITY completed.".to_string()),
            "{out:?}"
        );
    }

    #[tokio::test]
    async fn a_line_too_long_ends_the_session() {
        let out = converse(&[format!("a1 NOOP {}", "x".repeat(MAX_LINE as usize + 10))]).await;
        assert_eq!(out.len(), 1, "only the greeting: {out:?}");
    }

    /// The real probe, over TLS with the start-up certificate trusted through the CA file only.
    #[tokio::test]
    async fn the_probe_passes_over_tls_with_the_ca_file() {
        let tls = super::super::cert::make().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, &tls.ca_pem).unwrap();
        let server = DemoImap::start(&tls, mailboxes(), check()).await.unwrap();
        let mut settings = ProbeSettings {
            host: "127.0.0.1".into(),
            port: server.port(),
            tls: true,
            ca_file: Some(ca),
            timeouts: crate::services::imap::Timeouts::default(),
        };
        let creds = Credentials::XOAuth2 {
            user: "user@contoso.com".into(),
            access_token: crate::secret::Secret::new(TOKEN),
        };
        let report = probe(&settings, &creds, |_| {}).await.unwrap();
        assert_eq!(report.messages, 3);
        assert!(report.sasl_ir);
        // Without the CA file the certificate is not trusted.
        settings.ca_file = None;
        let err = probe(&settings, &creds, |_| {}).await.unwrap_err();
        assert!(matches!(err, ProbeError::Tls { .. }), "{err}");
    }
}
