//! How many proxy sessions the open-file limit leaves room for, and the words that say so
//! (the proxy's banner and serve's log).

use crate::services::open_files::FileLimit;

/// Descriptors each session holds: the client's socket and the upstream's.
pub const FILES_PER_SESSION: u64 = 2;
/// Descriptors kept for everything else: listeners, the store and its lock, the log, serve's
/// HTTP server and store watcher, the runtime's own.
pub const FILES_RESERVED: u64 = 64;

/// The open-file limit at start and the sessions that fit in it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FileBudget {
    pub limit: FileLimit,
    /// Sessions at once that the limit leaves room for (None: no limit).
    pub sessions: Option<u64>,
}

impl FileBudget {
    pub fn of(limit: FileLimit) -> Self {
        Self {
            sessions: sessions_fit(limit.soft),
            limit,
        }
    }

    /// One line for the banner and the log.
    pub fn describe(&self) -> String {
        let soft = self.limit.soft.map_or("unlimited".to_string(), |s| s.to_string());
        let how = match (self.limit.raised_from, &self.limit.not_raised) {
            (Some(from), _) => format!(" (raised from {from})"),
            (None, Some(why)) => format!(" (could not be raised to the hard limit: {why})"),
            (None, None) => String::new(),
        };
        match self.sessions {
            Some(n) => format!("open-file limit {soft}{how}: room for {n} sessions at once"),
            None => format!("open-file limit {soft}{how}: no limit on sessions from it"),
        }
    }

    /// What to do when `max_connections` is more than fits: None when it fits.
    pub fn shortfall(&self, max_connections: usize) -> Option<String> {
        let fit = self.sessions?;
        let max = u64::try_from(max_connections).unwrap_or(u64::MAX);
        (max > fit).then(|| {
            let needed = max * FILES_PER_SESSION + FILES_RESERVED;
            format!(
                "the connection limit ({max}) is more than the open-file limit leaves room for ({fit}): sessions past {fit} fail to connect. Raise the hard limit to {needed} (systemd: LimitNOFILE={needed}; a shell: ulimit -Hn {needed} as root) or lower the proxy's connection limit"
            )
        })
    }
}

/// Sessions at once that `soft` open files leave room for.
pub fn sessions_fit(soft: Option<u64>) -> Option<u64> {
    soft.map(|s| s.saturating_sub(FILES_RESERVED) / FILES_PER_SESSION)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(soft: u64, raised_from: Option<u64>) -> FileLimit {
        FileLimit {
            soft: Some(soft),
            hard: Some(soft),
            raised_from,
            not_raised: None,
        }
    }

    #[test]
    fn two_files_per_session_after_a_reserve() {
        assert_eq!(sessions_fit(Some(1024)), Some(480));
        assert_eq!(sessions_fit(Some(10)), Some(0));
        assert_eq!(sessions_fit(None), None);
        let b = FileBudget::of(limit(4096, Some(1024)));
        assert_eq!(
            b.describe(),
            "open-file limit 4096 (raised from 1024): room for 2016 sessions at once"
        );
        assert_eq!(b.shortfall(2016), None);
        let short = b.shortfall(5000).unwrap();
        assert!(short.contains("LimitNOFILE=10064"), "{short}");
    }
}
