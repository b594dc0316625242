//! Failed logins per client address: a leaky bucket. [`BURST`] failures in a row are allowed,
//! then one more every [`LEAK`]; the table is bounded.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Failures allowed before the address must wait.
pub const BURST: f64 = 10.0;
/// One failure leaks out of the bucket this often (10 a minute at most, sustained).
pub const LEAK: Duration = Duration::from_secs(6);
/// Addresses remembered at most; beyond that, those whose bucket is emptiest go first.
const MAX_ADDRESSES: usize = 10_000;

#[derive(Debug, Default)]
pub struct FailedLogins {
    buckets: HashMap<IpAddr, (f64, Instant)>,
}

impl FailedLogins {
    fn level(&self, ip: IpAddr, now: Instant) -> f64 {
        self.buckets.get(&ip).map_or(0.0, |&(level, at)| {
            let leaked = now.saturating_duration_since(at).as_secs_f64() / LEAK.as_secs_f64();
            (level - leaked).max(0.0)
        })
    }

    /// `Some(wait)` when `ip` may not try now.
    pub fn blocked(&self, ip: IpAddr, now: Instant) -> Option<Duration> {
        let level = self.level(ip, now);
        // One more try needs room for one more failure in the bucket.
        (level > BURST - 1.0).then(|| LEAK.mul_f64(level - (BURST - 1.0)))
    }

    /// Counts one failure of `ip`.
    pub fn failed(&mut self, ip: IpAddr, now: Instant) {
        let level = self.level(ip, now) + 1.0;
        if self.buckets.len() >= MAX_ADDRESSES && !self.buckets.contains_key(&ip) {
            self.buckets.retain(|_, &mut (l, at)| {
                l - now.saturating_duration_since(at).as_secs_f64() / LEAK.as_secs_f64() > 0.0
            });
            if self.buckets.len() >= MAX_ADDRESSES {
                // Still full of live buckets: forget the lowest.
                if let Some(ip) = self
                    .buckets
                    .iter()
                    .min_by(|a, b| a.1.0.total_cmp(&b.1.0))
                    .map(|(ip, _)| *ip)
                {
                    self.buckets.remove(&ip);
                }
            }
        }
        self.buckets.insert(ip, (level.min(BURST * 4.0), now));
    }

    pub fn len(&self) -> usize {
        self.buckets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bucket_fills_blocks_and_leaks() {
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let other: IpAddr = "127.0.0.2".parse().unwrap();
        let t0 = Instant::now();
        let mut f = FailedLogins::default();
        for _ in 0..10 {
            assert_eq!(f.blocked(ip, t0), None);
            f.failed(ip, t0);
        }
        assert!(f.blocked(ip, t0).is_some());
        assert_eq!(f.blocked(other, t0), None, "per address");
        assert_eq!(f.blocked(ip, t0 + LEAK), None, "one more after one leak");
        assert!(f.blocked(ip, t0 + LEAK / 2).is_some());
    }

    #[test]
    fn the_table_is_bounded() {
        let t0 = Instant::now();
        let mut f = FailedLogins::default();
        for i in 0..(MAX_ADDRESSES as u32 + 50) {
            f.failed(IpAddr::from(i.to_be_bytes()), t0);
        }
        assert!(f.len() <= MAX_ADDRESSES);
    }
}
