//! The relay after login: bytes both ways, untouched, with fixed buffers (backpressure: a
//! slow reader stops the other side's reads).
//!
//! Toward the server it is a plain copy. Toward the client the bytes of a transfer under way
//! are gathered into one write: an IMAP server sends a large FETCH as TLS records of 4 KiB
//! (Dovecot) and the relay, faster than the server, would otherwise wake the client once per
//! record (a write each, and a wake-up of the reading process that Linux bills to the writer:
//! about a quarter of the relay's CPU, by `perf`). tokio's `copy_bidirectional` writes each
//! read as it comes, so this direction is a loop of our own.

use std::io;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};

/// A read this long is a whole record of a transfer under way (servers fill their TLS records
/// to 4 or 16 KiB while they have more to send).
const WHOLE_RECORD: usize = 4096;
/// Whole records in a row before gathering starts: a response shorter than this many records
/// is written read by read, exactly as it comes, and never waits.
const STREAK: u32 = 4;
/// The longest gathered bytes wait for the next record (only when the last record was whole and
/// the next is late, such as a response that ends exactly on a record's end).
const GATHER: Duration = Duration::from_millis(1);

/// Relays until both directions have ended (each end's close is passed on as a shutdown of the
/// other's writing side) or one fails.
pub(super) async fn both_ways<C, U>(
    client: &mut C,
    upstream: &mut U,
    to_client_buffer: usize,
) -> io::Result<()>
where
    C: AsyncRead + AsyncWrite + Unpin,
    U: AsyncRead + AsyncWrite + Unpin,
{
    let (mut from_client, mut to_client) = tokio::io::split(client);
    let (mut from_server, mut to_server) = tokio::io::split(upstream);
    let up = async {
        tokio::io::copy(&mut from_client, &mut to_server).await?;
        to_server.shutdown().await
    };
    let down = async {
        gathered(&mut from_server, &mut to_client, to_client_buffer).await?;
        to_client.shutdown().await
    };
    tokio::try_join!(up, down).map(|_| ())
}

/// Copies `from` to `to` until `from` ends, gathering the records of a long transfer into
/// writes of up to `size` bytes.
async fn gathered<R, W>(from: &mut R, to: &mut W, size: usize) -> io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut buf = vec![0u8; size.max(2 * WHOLE_RECORD)];
    let mut streak = 0u32;
    loop {
        let n = from.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        let mut filled = n;
        streak = if n >= WHOLE_RECORD { streak + 1 } else { 0 };
        if streak >= STREAK {
            let late = tokio::time::sleep(GATHER);
            tokio::pin!(late);
            while filled + WHOLE_RECORD <= buf.len() {
                let read = tokio::select! {
                    biased;
                    r = from.read(&mut buf[filled..]) => r,
                    () = &mut late => break,
                };
                match read {
                    // The end: what was gathered goes out first; the next read sees the end again.
                    Ok(0) => break,
                    Ok(m) => {
                        filled += m;
                        if m < WHOLE_RECORD {
                            streak = 0;
                            break;
                        }
                    }
                    Err(e) => {
                        to.write_all(&buf[..filled]).await?;
                        return Err(e);
                    }
                }
            }
        }
        to.write_all(&buf[..filled]).await?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the far end received, and in how many reads (each read ≥ one write of ours).
    async fn relayed(chunks: Vec<Vec<u8>>) -> Vec<u8> {
        let (mut server, mut near_server) = tokio::io::duplex(1 << 20);
        let (mut near_client, mut client) = tokio::io::duplex(1 << 20);
        let feeding = tokio::spawn(async move {
            for c in chunks {
                server.write_all(&c).await.unwrap();
                tokio::task::yield_now().await;
            }
            server.shutdown().await.unwrap();
            server
        });
        gathered(&mut near_server, &mut near_client, 16 * 1024)
            .await
            .unwrap();
        drop(near_client);
        let _ = feeding.await.unwrap();
        let mut got = Vec::new();
        client.read_to_end(&mut got).await.unwrap();
        got
    }

    #[tokio::test]
    async fn every_byte_arrives_in_order_whatever_the_record_sizes() {
        let mut chunks = Vec::new();
        let mut expect = Vec::new();
        for (i, len) in [
            10, 4096, 4096, 4096, 4096, 4096, 4096, 4096, 100, 4096, 4096, 4096, 4096, 4096, 7,
        ]
        .into_iter()
        .enumerate()
        {
            let c: Vec<u8> = (0..len).map(|j| (i * 31 + j) as u8).collect();
            expect.extend_from_slice(&c);
            chunks.push(c);
        }
        assert_eq!(relayed(chunks).await, expect);
    }

    #[tokio::test]
    async fn a_short_answer_is_written_at_once() {
        // No end of stream follows: a relay that waited for more would never write.
        let (mut server, mut near_server) = tokio::io::duplex(1 << 16);
        let (mut near_client, mut client) = tokio::io::duplex(1 << 16);
        let relay =
            tokio::spawn(async move { gathered(&mut near_server, &mut near_client, 16 * 1024).await });
        server.write_all(b"* 3 EXISTS\r\na1 OK done\r\n").await.unwrap();
        let mut got = [0u8; 24];
        client.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"* 3 EXISTS\r\na1 OK done\r\n");
        relay.abort();
    }
}
