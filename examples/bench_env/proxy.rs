//! A TCP proxy on loopback that delays each chunk by half a round trip in each direction and
//! counts the client's turns.
//!
//! A turn is one client flight that waits for the server: the bytes the client sends after the
//! server last spoke. The TCP handshake cannot be delayed from user space (the kernel completes
//! it before `accept`), so the first client flight is held one extra round trip, and the
//! handshake is counted as a turn. A last flight the client sends and then closes without
//! waiting for an answer (LOGOUT) is not a turn.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::Instant;

#[derive(Default)]
struct Flow {
    /// Client flights so far.
    flights: usize,
    /// The server's words reached the client since the client's last flight.
    server_spoke: bool,
    /// The client's last flight was answered before it closed.
    last_answered: bool,
    client_closed: bool,
}

/// Listens on a free loopback port (returned) and forwards to `upstream`; each finished
/// connection appends its turn count as a line to `log`.
pub async fn start(upstream: u16, rtt: Duration, log: PathBuf) -> std::io::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    let log = Arc::new(log);
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                if let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)).await {
                    let n = relay(client, server, rtt).await;
                    let line = format!("{n}\n");
                    if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(&*log) {
                        let _ = std::io::Write::write_all(&mut f, line.as_bytes());
                    }
                }
            });
        }
    });
    Ok(port)
}

async fn relay(client: TcpStream, server: TcpStream, rtt: Duration) -> usize {
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let flow = Arc::new(Mutex::new(Flow {
        server_spoke: true,
        ..Flow::default()
    }));
    let (cr, cw) = client.into_split();
    let (sr, sw) = server.into_split();
    let up = pump(cr, sw, rtt / 2, rtt, flow.clone(), true);
    let down = pump(sr, cw, rtt / 2, Duration::ZERO, flow.clone(), false);
    tokio::join!(up, down);
    let f = flow.lock().unwrap_or_else(|p| p.into_inner());
    // The handshake is a turn; an unanswered last flight is not.
    1 + f.flights - usize::from(f.flights > 0 && !f.last_answered)
}

/// Copies one direction, each chunk delivered `delay` after it arrived (the first one
/// `first_extra` later still), in order and without holding back the reads.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    delay: Duration,
    first_extra: Duration,
    flow: Arc<Mutex<Flow>>,
    from_client: bool,
) {
    let (tx, mut rx) = mpsc::unbounded_channel::<(Instant, Vec<u8>)>();
    let delivered = flow.clone();
    let writer = tokio::spawn(async move {
        while let Some((at, chunk)) = rx.recv().await {
            tokio::time::sleep_until(at).await;
            if to.write_all(&chunk).await.is_err() {
                return;
            }
            // What the client can react to is what reached it, and only while it listens.
            let mut f = delivered.lock().unwrap_or_else(|p| p.into_inner());
            if !from_client && !f.client_closed {
                f.server_spoke = true;
                f.last_answered = true;
            }
        }
        let _ = to.shutdown().await;
    });
    let mut buf = vec![0u8; 16 * 1024];
    let mut first = true;
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if from_client {
            let mut f = flow.lock().unwrap_or_else(|p| p.into_inner());
            if f.server_spoke {
                f.flights += 1;
                f.server_spoke = false;
                f.last_answered = false;
            }
        }
        let mut at = Instant::now() + delay;
        if first {
            at += first_extra;
            first = false;
        }
        if tx.send((at, buf[..n].to_vec())).is_err() {
            break;
        }
    }
    if from_client {
        flow.lock().unwrap_or_else(|p| p.into_inner()).client_closed = true;
    }
    drop(tx);
    let _ = writer.await;
}
