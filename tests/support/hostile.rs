//! Hostile IMAP servers on loopback: each connection gets the same script, over TLS (with the
//! test CA's server certificate) or in plain text on what the client thinks is a TLS port.

use std::sync::Arc;
use tokio::io::{AsyncBufReadExt as _, AsyncRead, AsyncWrite, AsyncWriteExt as _, BufReader};
use tokio::net::TcpListener;
use tokio_native_tls::native_tls;

#[derive(Debug, Clone)]
pub enum Step {
    /// Send these bytes.
    Send(Vec<u8>),
    /// Read one line from the client (whatever it is).
    Read,
    /// Stop answering but keep the connection open.
    Hang,
}

pub fn send(s: &str) -> Step {
    Step::Send(s.as_bytes().to_vec())
}

/// Starts a server that plays `script` on every connection; returns its port.
pub async fn start(script: Vec<Step>, tls: bool) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let acceptor = tls.then(|| {
        let cert = std::fs::read(super::tls_fixture("server.pem")).expect("server.pem");
        let key = std::fs::read(super::tls_fixture("server-key.pem")).expect("server-key.pem");
        let id = native_tls::Identity::from_pkcs8(&cert, &key).expect("identity");
        Arc::new(tokio_native_tls::TlsAcceptor::from(
            native_tls::TlsAcceptor::new(id).expect("acceptor"),
        ))
    });
    let script = Arc::new(script);
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let script = script.clone();
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                match acceptor {
                    Some(a) => {
                        if let Ok(s) = a.accept(tcp).await {
                            play(s, &script).await;
                        }
                    }
                    None => play(tcp, &script).await,
                }
            });
        }
    });
    port
}

async fn play<S: AsyncRead + AsyncWrite + Unpin>(stream: S, script: &[Step]) {
    let (r, mut w) = tokio::io::split(stream);
    let mut r = BufReader::new(r);
    for step in script {
        match step {
            Step::Send(b) => {
                if w.write_all(b).await.is_err() {
                    return;
                }
            }
            Step::Read => {
                let mut line = String::new();
                if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                    return;
                }
            }
            Step::Hang => std::future::pending::<()>().await,
        }
    }
    let _ = w.shutdown().await;
}
