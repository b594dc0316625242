//! Holds every packet of an NFQUEUE queue for a fixed time before letting it through: a delay
//! in the kernel's path, so that it covers the TCP handshake too, which a user-space proxy
//! cannot delay (the kernel completes the handshake before `accept`).
//!
//! `net_delay QUEUE ONE_WAY_MS`, for `scripts/bench-net.sh`, which runs it inside a network
//! namespace of its own whose iptables rules send the loopback packets of one TCP port to
//! QUEUE in both directions, so that the round trip is twice ONE_WAY_MS. This kernel is built
//! without `netem`, the usual way to do this (`tc qdisc add dev lo root netem delay …`).
//!
//! The nfq crate exposes no descriptor to wait on, so the queue's netlink socket is found in
//! `/proc/self/fd` and waited on with `poll(2)` until a packet arrives or the next held one is
//! due: an idle delay takes no CPU (it used to look every 100 µs, about a sixth of a core of
//! the two it shared with what it measured). The script runs this at real-time priority, since
//! on a busy machine an ordinary thread wakes up milliseconds late.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark helper, not the product

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// The one socket of this process: the queue's netlink socket (stdio is never a socket here:
/// the script sends it to a file).
fn queue_socket() -> std::io::Result<i32> {
    let mut found = None;
    for entry in std::fs::read_dir("/proc/self/fd")? {
        let entry = entry?;
        let target = std::fs::read_link(entry.path()).unwrap_or_default();
        if target.to_string_lossy().starts_with("socket:") {
            found = entry.file_name().to_str().and_then(|n| n.parse().ok()).max(found);
        }
    }
    found.ok_or_else(|| std::io::Error::other("no netlink socket found"))
}

/// Waits until `fd` is readable or `timeout` (None: forever) passes.
#[allow(unsafe_code)] // poll(2) on a descriptor the nfq crate owns and does not lend out
fn wait_readable(fd: i32, timeout: Option<Duration>) {
    let mut poll = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // Rounded up: waking a little early would only loop once more.
    let ms = timeout.map_or(-1, |t| t.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32);
    // SAFETY: one valid pollfd for the duration of the call.
    unsafe { libc::poll(&mut poll, 1, ms) };
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let usage = "usage: net_delay QUEUE ONE_WAY_MS";
    let mut args = std::env::args().skip(1);
    let queue_num: u16 = args.next().ok_or(usage)?.parse()?;
    let delay = Duration::from_micros((args.next().ok_or(usage)?.parse::<f64>()? * 1000.0) as u64);

    let mut queue = nfq::Queue::open()?;
    queue.bind(queue_num)?;
    queue.set_queue_max_len(queue_num, 65_536)?;
    queue.set_nonblocking(true);
    let fd = queue_socket()?;
    // Ready: the script starts sending only after this line.
    println!("delaying queue {queue_num} by {delay:?}");

    let mut held: VecDeque<(Instant, nfq::Message)> = VecDeque::new();
    loop {
        // Take in everything that has arrived.
        loop {
            match queue.recv() {
                Ok(mut msg) => {
                    msg.set_verdict(nfq::Verdict::Accept);
                    held.push_back((Instant::now() + delay, msg));
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(e.into()),
            }
        }
        // Let through what is due (one delay for all, so the queue is in deadline order).
        let now = Instant::now();
        while held.front().is_some_and(|(due, _)| *due <= now) {
            let (_, msg) = held.pop_front().expect("front checked");
            queue.verdict(msg)?;
        }
        wait_readable(
            fd,
            held.front().map(|(due, _)| due.saturating_duration_since(now)),
        );
    }
}
