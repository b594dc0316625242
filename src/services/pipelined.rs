//! Commands sent ahead of the greeting, under a client library that sends them itself later.
//!
//! async-imap writes a command only when it is asked to run it, and reads the greeting before
//! anything else, so it cannot pipeline. Test & Confirm sends its CAPABILITY and AUTHENTICATE
//! together with the end of the TLS handshake instead (their answers come back with the
//! greeting, one round trip instead of three); when async-imap later writes those very
//! commands, byte for byte, this stream takes them as written without sending them again. No
//! crate does this: it is a property of how async-imap is driven here, not of IMAP.

use std::fmt;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A stream whose next writes, up to `sent`'s length, were already sent.
pub struct AlreadySent<S> {
    inner: S,
    /// The bytes sent ahead (they hold a bearer token: never shown, dropped once matched).
    sent: Vec<u8>,
    matched: usize,
}

impl<S> AlreadySent<S> {
    pub fn new(inner: S, sent: Vec<u8>) -> Self {
        Self {
            inner,
            sent,
            matched: 0,
        }
    }

    /// Whether every byte sent ahead has since been written again by the library.
    pub fn caught_up(&self) -> bool {
        self.matched >= self.sent.len()
    }
}

impl<S> fmt::Debug for AlreadySent<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AlreadySent")
            .field("sent", &self.sent.len())
            .field("matched", &self.matched)
            .finish_non_exhaustive()
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for AlreadySent<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for AlreadySent<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if self.caught_up() {
            return Pin::new(&mut self.inner).poll_write(cx, buf);
        }
        let start = self.matched;
        let n = buf.len().min(self.sent.len() - start);
        if buf[..n] != self.sent[start..start + n] {
            // A command other than the one sent ahead: sending it now would reorder the
            // conversation, so the test stops here (a defect of ours, never of the server).
            return Poll::Ready(Err(io::Error::other(
                "internal: a command differs from the one sent ahead of the greeting",
            )));
        }
        self.matched += n;
        if self.caught_up() {
            self.sent = Vec::new();
        }
        Poll::Ready(Ok(n))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt as _;

    #[tokio::test]
    async fn the_bytes_sent_ahead_are_taken_once_then_writes_pass() {
        let (mut far, near) = tokio::io::duplex(1024);
        let mut s = AlreadySent::new(near, b"A1 X\r\n".to_vec());
        s.write_all(b"A1 ").await.unwrap();
        s.write_all(b"X\r\nA2 Y\r\n").await.unwrap();
        s.flush().await.unwrap();
        assert!(s.caught_up());
        drop(s);
        let mut got = String::new();
        tokio::io::AsyncReadExt::read_to_string(&mut far, &mut got)
            .await
            .unwrap();
        assert_eq!(got, "A2 Y\r\n");
    }

    #[tokio::test]
    async fn a_different_command_is_an_error_not_a_reordering() {
        let (_far, near) = tokio::io::duplex(1024);
        let mut s = AlreadySent::new(near, b"A1 X\r\n".to_vec());
        assert!(s.write_all(b"A1 Z\r\n").await.is_err());
    }

    #[test]
    fn debug_shows_no_bytes() {
        let (_far, near) = tokio::io::duplex(8);
        let s = AlreadySent::new(near, b"token".to_vec());
        assert!(!format!("{s:?}").contains("token"));
    }
}
