//! The process's open-file limit (RLIMIT_NOFILE). A proxy session holds two descriptors (the
//! client's and the upstream's), so the usual soft limit of 1,024 caps the proxy near 500
//! sessions while the hard limit (often 4,096 to 1M) allows far more: an unprivileged process
//! may raise its soft limit up to the hard one, and the proxy does so at start. rustix (already
//! used for signals and terminals) makes the two system calls; nothing here needs more.

use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};

/// The open-file limit after [`raise_to_hard`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FileLimit {
    /// The soft limit now in force (None: unlimited).
    pub soft: Option<u64>,
    /// The hard limit (None: unlimited).
    pub hard: Option<u64>,
    /// The soft limit before, when it was raised.
    pub raised_from: Option<u64>,
    /// Why it could not be raised, when it was below the hard limit and stayed there.
    pub not_raised: Option<String>,
}

/// Raises the soft open-file limit to the hard limit (a no-op when they are equal). Never
/// fails: a refusal is reported in [`FileLimit::not_raised`] and the old limit stays. Done
/// once per process: later calls (serve raises it at start, then the proxy it hosts asks
/// again) get the first answer, which says what the limit was raised from.
pub fn raise_to_hard() -> FileLimit {
    static FIRST: std::sync::OnceLock<FileLimit> = std::sync::OnceLock::new();
    FIRST.get_or_init(raise).clone()
}

fn raise() -> FileLimit {
    let before = getrlimit(Resource::Nofile);
    let mut limit = FileLimit {
        soft: before.current,
        hard: before.maximum,
        raised_from: None,
        not_raised: None,
    };
    let below_hard = match (before.current, before.maximum) {
        (Some(soft), Some(hard)) => soft < hard,
        (Some(_), None) => true,
        (None, _) => false,
    };
    if !below_hard {
        return limit;
    }
    // An unlimited hard limit cannot be the soft one for files (Linux caps it at
    // fs.nr_open): ask for the kernel's own ceiling then, which setrlimit accepts.
    let target = before.maximum.or_else(nr_open);
    let Some(target) = target else {
        return limit;
    };
    match setrlimit(
        Resource::Nofile,
        Rlimit {
            current: Some(target),
            maximum: before.maximum,
        },
    ) {
        Ok(()) => {
            limit.raised_from = before.current;
            limit.soft = getrlimit(Resource::Nofile).current;
        }
        Err(e) => limit.not_raised = Some(e.to_string()),
    }
    limit
}

/// Linux's ceiling for any open-file limit.
fn nr_open() -> Option<u64> {
    std::fs::read_to_string("/proc/sys/fs/nr_open")
        .ok()?
        .trim()
        .parse()
        .ok()
}
