//! A tiny raw IMAP client over implicit TLS, for inspecting test servers.
//!
//! It is deliberately dumb (line based, no literal parsing beyond what tests need), so that
//! the harness does not share code paths with the library under test.

use std::path::Path;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::TcpStream;
use tokio_native_tls::TlsStream;
use tokio_native_tls::native_tls;

/// How long any single read or write may take before the client panics.
const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// The tagged completion of a command plus the lines that preceded it.
#[derive(Debug, Clone)]
pub struct Reply {
    /// Untagged (`* ...`) and continuation (`+ ...`) lines, without CRLF.
    pub lines: Vec<String>,
    /// The tagged status line without the tag, e.g. `OK Logged in` or `NO [...] ...`.
    pub status: String,
}

impl Reply {
    /// Whether the tagged status is `OK`.
    pub fn is_ok(&self) -> bool {
        self.status.starts_with("OK")
    }
}

/// A connected IMAP session over TLS.
pub struct ImapClient {
    stream: BufReader<TlsStream<TcpStream>>,
    greeting: String,
    next_tag: u32,
}

impl ImapClient {
    /// Connects to `127.0.0.1:port` with implicit TLS trusting only the PEM CA in `ca_file`
    /// (server name `localhost`) and reads the greeting.
    pub async fn connect(port: u16, ca_file: &Path) -> ImapClient {
        let pem = std::fs::read(ca_file)
            .unwrap_or_else(|e| panic!("imap: cannot read CA {}: {e}", ca_file.display()));
        let ca = native_tls::Certificate::from_pem(&pem).expect("imap: CA file is not PEM");
        let connector = native_tls::TlsConnector::builder()
            .add_root_certificate(ca)
            .build()
            .expect("imap: cannot build a TLS connector");
        let connector = tokio_native_tls::TlsConnector::from(connector);
        let tcp = TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap_or_else(|e| panic!("imap: cannot connect to 127.0.0.1:{port}: {e}"));
        let tls = tokio::time::timeout(IO_TIMEOUT, connector.connect("localhost", tcp))
            .await
            .expect("imap: TLS handshake timed out")
            .unwrap_or_else(|e| panic!("imap: TLS handshake with 127.0.0.1:{port} failed: {e}"));
        let mut client = ImapClient {
            stream: BufReader::new(tls),
            greeting: String::new(),
            next_tag: 1,
        };
        // Dovecot may first say "* OK Waiting for authentication process to respond..".
        loop {
            let line = client.read_line().await;
            if !line.contains("Waiting for authentication process") {
                client.greeting = line;
                break;
            }
        }
        client
    }

    /// The server greeting line (e.g. `* OK [CAPABILITY ...] ... ready.`).
    pub fn greeting(&self) -> &str {
        &self.greeting
    }

    /// Sends one line (CRLF is appended).
    pub async fn send_line(&mut self, line: &str) {
        let data = format!("{line}\r\n");
        tokio::time::timeout(IO_TIMEOUT, self.stream.get_mut().write_all(data.as_bytes()))
            .await
            .expect("imap: write timed out")
            .expect("imap: write failed");
    }

    /// Reads one line, without the CRLF. Panics on EOF or timeout.
    pub async fn read_line(&mut self) -> String {
        let mut line = String::new();
        let n = tokio::time::timeout(IO_TIMEOUT, self.stream.read_line(&mut line))
            .await
            .expect("imap: read timed out")
            .expect("imap: read failed");
        assert!(n > 0, "imap: server closed the connection");
        line.trim_end_matches(['\r', '\n']).to_owned()
    }

    /// A fresh tag (`A1`, `A2`, ...).
    pub fn tag(&mut self) -> String {
        let tag = format!("A{}", self.next_tag);
        self.next_tag += 1;
        tag
    }

    /// Reads lines until the tagged completion for `tag`.
    pub async fn read_reply(&mut self, tag: &str) -> Reply {
        let prefix = format!("{tag} ");
        let mut lines = Vec::new();
        loop {
            let line = self.read_line().await;
            if let Some(status) = line.strip_prefix(&prefix) {
                return Reply {
                    lines,
                    status: status.to_owned(),
                };
            }
            lines.push(line);
        }
    }

    /// Sends `<tag> <command>` and reads up to its tagged completion. Not for commands that
    /// expect a continuation (use [`Self::authenticate`]).
    pub async fn command(&mut self, command: &str) -> Reply {
        let tag = self.tag();
        self.send_line(&format!("{tag} {command}")).await;
        self.read_reply(&tag).await
    }

    /// `AUTHENTICATE <mechanism> <initial response>` (SASL-IR). If the server answers a
    /// `+ <challenge>` (Dovecot's error JSON for bearer mechanisms), an empty line is sent
    /// and the challenge is kept in [`Reply::lines`].
    pub async fn authenticate(&mut self, mechanism: &str, initial_response: &str) -> Reply {
        let tag = self.tag();
        self.send_line(&format!("{tag} AUTHENTICATE {mechanism} {initial_response}"))
            .await;
        let prefix = format!("{tag} ");
        let mut lines = Vec::new();
        loop {
            let line = self.read_line().await;
            if let Some(status) = line.strip_prefix(&prefix) {
                return Reply {
                    lines,
                    status: status.to_owned(),
                };
            }
            let is_challenge = line.starts_with('+');
            lines.push(line);
            if is_challenge {
                self.send_line("").await;
            }
        }
    }
}

/// The XOAUTH2 initial response: `base64("user=" user "\x01auth=Bearer " token "\x01\x01")`.
pub fn xoauth2(user: &str, token: &str) -> String {
    STANDARD.encode(format!("user={user}\x01auth=Bearer {token}\x01\x01"))
}

/// The OAUTHBEARER (RFC 7628) initial response for `user` and `token`.
pub fn oauthbearer(user: &str, token: &str) -> String {
    let saslname = user.replace('=', "=3D").replace(',', "=2C");
    STANDARD.encode(format!("n,a={saslname},\x01auth=Bearer {token}\x01\x01"))
}

/// Decodes a `+ <base64>` continuation line (as sent by Dovecot on a failed bearer auth).
pub fn decode_challenge(line: &str) -> Option<String> {
    let b64 = line.strip_prefix('+')?.trim();
    String::from_utf8(STANDARD.decode(b64).ok()?).ok()
}
