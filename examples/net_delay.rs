//! Holds every packet of an NFQUEUE queue for a fixed time before letting it through: a delay
//! in the kernel's path, so that it covers the TCP handshake too, which a user-space proxy
//! cannot delay (the kernel completes the handshake before `accept`).
//!
//! `net_delay QUEUE ONE_WAY_MS`, for `scripts/bench-net.sh`, which runs it inside a network
//! namespace of its own whose iptables rules send the loopback packets of one TCP port to
//! QUEUE in both directions, so that the round trip is twice ONE_WAY_MS. This kernel is built
//! without `netem`, the usual way to do this (`tc qdisc add dev lo root netem delay …`).
//!
//! The queue is polled (the nfq crate exposes no descriptor to wait on), so each packet may
//! wait up to one poll interval longer than asked ([`POLL`]); the script runs this at real-time
//! priority, since on a busy machine an ordinary thread wakes up milliseconds late.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark helper, not the product

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// How often the queue is looked at while nothing is due: the delay's granularity.
const POLL: Duration = Duration::from_micros(100);

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let usage = "usage: net_delay QUEUE ONE_WAY_MS";
    let mut args = std::env::args().skip(1);
    let queue_num: u16 = args.next().ok_or(usage)?.parse()?;
    let delay = Duration::from_micros((args.next().ok_or(usage)?.parse::<f64>()? * 1000.0) as u64);

    let mut queue = nfq::Queue::open()?;
    queue.bind(queue_num)?;
    queue.set_queue_max_len(queue_num, 65_536)?;
    queue.set_nonblocking(true);
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
        let wait = held
            .front()
            .map_or(POLL, |(due, _)| due.saturating_duration_since(now).min(POLL));
        std::thread::sleep(wait);
    }
}
