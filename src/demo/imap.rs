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
mod tests;
