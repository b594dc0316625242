//! Waiting out replication lag: an app or secret created a moment ago is refused for a while
//! (AADSTS700016 / 7000215 for about 4–30 s, microsoft-facts §9), so just after a setup code
//! the client-credentials request is retried with back-off for up to about a minute, and each
//! wait is reported. The sleep is injected so tests never wait.

use std::time::Duration;

/// The waits between attempts: 2 + 4 + 8 + 16 + 30 s = 60 s at most.
pub const DEFAULT_BACKOFF: [Duration; 5] = [
    Duration::from_secs(2),
    Duration::from_secs(4),
    Duration::from_secs(8),
    Duration::from_secs(16),
    Duration::from_secs(30),
];

/// The codes a just-created registration gets until Microsoft's replicas have it.
pub fn is_replication_lag(codes: &[u64]) -> bool {
    codes.iter().any(|c| matches!(c, 700016 | 7000215))
}

/// One announced wait.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wait {
    /// 1 for the first retry.
    pub attempt: u32,
    pub retry_in: Duration,
}

impl Wait {
    /// "Microsoft has not seen the new app yet; retrying in 8 s…"
    pub fn message(&self) -> String {
        format!(
            "Microsoft has not seen the new app yet (a new registration takes up to a minute to reach every server); retrying in {} s…",
            self.retry_in.as_secs()
        )
    }
}

/// Runs `attempt` until it succeeds, fails for another reason, or the waits run out.
/// `lagging` says whether a failure looks like replication lag.
pub async fn with_backoff<T, E, A, AF, S, SF>(
    waits: &[Duration],
    mut attempt: A,
    lagging: impl Fn(&E) -> bool,
    mut on_wait: impl FnMut(Wait),
    mut sleep: S,
) -> Result<T, E>
where
    A: FnMut() -> AF,
    AF: Future<Output = Result<T, E>>,
    S: FnMut(Duration) -> SF,
    SF: Future<Output = ()>,
{
    let mut waits = waits.iter().copied();
    let mut n = 0;
    loop {
        let result = attempt().await;
        match result {
            Err(e) if lagging(&e) => match waits.next() {
                Some(d) => {
                    n += 1;
                    on_wait(Wait {
                        attempt: n,
                        retry_in: d,
                    });
                    sleep(d).await;
                }
                None => return Err(e),
            },
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    fn run(answers: Vec<Result<u8, u64>>) -> (Result<u8, u64>, Vec<Duration>, Vec<Duration>) {
        let answers = RefCell::new(answers.into_iter());
        let announced = RefCell::new(Vec::new());
        let slept = RefCell::new(Vec::new());
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let result = rt.block_on(with_backoff(
            &DEFAULT_BACKOFF,
            || {
                let next = answers.borrow_mut().next().unwrap_or(Ok(0));
                async move { next }
            },
            |code| is_replication_lag(&[*code]),
            |w| announced.borrow_mut().push(w.retry_in),
            |d| {
                slept.borrow_mut().push(d);
                async {}
            },
        ));
        (result, announced.into_inner(), slept.into_inner())
    }

    #[test]
    fn lag_is_waited_out_with_growing_waits() {
        let (r, announced, slept) = run(vec![Err(700016), Err(7000215), Ok(7)]);
        assert_eq!(r, Ok(7));
        assert_eq!(announced, DEFAULT_BACKOFF[..2].to_vec());
        assert_eq!(slept, announced);
    }

    #[test]
    fn gives_up_after_about_a_minute_and_never_retries_other_errors() {
        let (r, announced, _) = run(vec![Err(700016); 10]);
        assert_eq!(r, Err(700016));
        assert_eq!(announced.iter().sum::<Duration>(), Duration::from_secs(60));
        let (r, announced, _) = run(vec![Err(7000222), Ok(1)]);
        assert_eq!(r, Err(7000222));
        assert!(announced.is_empty());
    }

    #[test]
    fn the_message_says_it_is_waiting() {
        let w = Wait {
            attempt: 3,
            retry_in: Duration::from_secs(8),
        };
        assert!(w.message().contains("retrying in 8 s"));
    }
}
