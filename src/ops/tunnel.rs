//! `inbound tunnel`: a pre-authenticated IMAP session over a pair of byte streams (stdin and
//! stdout for mbsync `Tunnel`, offlineimap `preauthtunnel`, mutt `tunnel`, fetchmail `plugin`).
//!
//! Log in upstream as Test & Confirm does, write `* PREAUTH [CAPABILITY <upstream's>]`, then
//! relay bytes both ways, untouched, until either side closes.

use super::upstream::{self, Lookup};
use super::{Error, Result};
use crate::services::imap::Timeouts;
use crate::services::upstream::Upstream;
use crate::store::Store;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};

/// Relay buffer per direction: enough for full TLS records, small enough to stay bounded.
const RELAY_BUFFER: usize = 16 * 1024;

/// After the mail program closed its side: how long the server may still answer what it sent
/// (LOGOUT's goodbye) before the tunnel ends anyway.
const LINGER: Duration = Duration::from_secs(10);

/// How the session went (for the log).
#[derive(Debug, Clone)]
pub struct TunnelReport {
    pub server: String,
    pub to_server: u64,
    pub to_client: u64,
    pub duration: Duration,
}

/// The server a mail program named: Name, id or a Username only one server has. The words
/// are joined with spaces first, so `inbound tunnel Support inbox` (fetchmail splits its
/// `plugin` line on spaces, without a shell) finds "Support inbox".
pub fn resolve(store: &Store, words: &[String]) -> Result<crate::model::Server> {
    let key = words.join(" ");
    let config = store.load()?;
    match upstream::find_server(&config, &key, true) {
        Lookup::Found(s) => Ok(*s),
        Lookup::Ambiguous(names) => Err(Error::Io(format!(
            "\"{key}\" is the mailbox of several servers ({}): name the server instead",
            names.join(", ")
        ))),
        Lookup::NotFound => Err(Error::NotFound {
            kind: "server",
            name: key,
        }),
    }
}

/// Logs in to the server named by `words`: the part that can fail before PREAUTH.
pub async fn connect(store: &Store, server: &crate::model::Server) -> Result<Upstream> {
    upstream::open_for_session(store, server, "tunnel", Timeouts::default()).await
}

/// The PREAUTH line for the capabilities the server has after login.
pub fn preauth_line(up: &Upstream) -> String {
    format!(
        "* PREAUTH [CAPABILITY {}] logged in by inbound's tunnel\r\n",
        up.capabilities.join(" ")
    )
}

/// The one line a mail program gets when the tunnel cannot start: `* BYE <cause>`, with the
/// cause on one line, cleaned, and never longer than a terminal line or two.
pub fn bye_line(cause: &str) -> String {
    let mut text = crate::sanitize::peer_text(cause);
    if text.len() > 300 {
        let mut cut = 300;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push('…');
    }
    format!("* BYE {text}\r\n")
}

/// Writes PREAUTH and relays until either side closes. Nothing after PREAUTH is parsed.
pub async fn relay<R, W>(
    server: &str,
    up: Upstream,
    mut input: R,
    mut output: W,
) -> std::io::Result<TunnelReport>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let started = Instant::now();
    output.write_all(preauth_line(&up).as_bytes()).await?;
    output.write_all(&up.leftover).await?;
    output.flush().await?;
    let (mut from_server, mut to_server) = tokio::io::split(up.stream);
    let mut up_bytes = 0u64;
    let mut down_bytes = 0u64;
    let client_to_server = async {
        let mut buf = vec![0u8; RELAY_BUFFER];
        loop {
            let n = input.read(&mut buf).await?;
            if n == 0 {
                // The mail program is done writing. Not passed on as a shutdown: a server
                // may drop the answers to commands still in flight when it sees one.
                return Ok::<_, std::io::Error>(());
            }
            to_server.write_all(&buf[..n]).await?;
            to_server.flush().await?;
            up_bytes += n as u64;
        }
    };
    let server_to_client = async {
        let mut buf = vec![0u8; RELAY_BUFFER];
        loop {
            let n = from_server.read(&mut buf).await?;
            if n == 0 {
                return Ok::<_, std::io::Error>(());
            }
            output.write_all(&buf[..n]).await?;
            output.flush().await?;
            down_bytes += n as u64;
        }
    };
    // The session ends when the server closes (after LOGOUT, or on its own), or when either
    // direction fails; the mail program closing its side only half-closes.
    let result = {
        tokio::pin!(client_to_server, server_to_client);
        let mut input_done = false;
        let linger = tokio::time::sleep(Duration::from_secs(3600));
        tokio::pin!(linger);
        loop {
            tokio::select! {
                r = &mut client_to_server, if !input_done => match r {
                    Ok(()) => {
                        input_done = true;
                        linger.as_mut().reset(tokio::time::Instant::now() + LINGER);
                    }
                    Err(e) => break Err(e),
                },
                r = &mut server_to_client => break r,
                () = &mut linger, if input_done => break Ok(()),
            }
        }
    };
    let report = TunnelReport {
        server: server.to_string(),
        to_server: up_bytes,
        to_client: down_bytes,
        duration: started.elapsed(),
    };
    match result {
        Ok(()) => Ok(report),
        // A mail program that went away mid-session is how tunnels usually end.
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::ConnectionReset
            ) =>
        {
            Ok(report)
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bye_lines_are_one_clean_line() {
        assert_eq!(bye_line("refused\r\n* OK fake"), "* BYE refused * OK fake\r\n");
        let long = bye_line(&"é".repeat(400));
        assert!(long.len() < 320 && long.ends_with("…\r\n"), "{long}");
    }
}
