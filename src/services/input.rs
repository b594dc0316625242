//! Reading what the user points us at — a secret file, a setup code, a certificate, standard
//! input — so that nothing can block for ever and nothing is read without a bound.
//!
//! A regular file is read up to a limit. An input that may rightly be a pipe
//! (`--secret-file <(pass show …)`, `… | inbound add --secret-stdin`) is read without
//! blocking, each wait bounded by a deadline: a pipe with nothing writing to it is refused at
//! once (its read returns end-of-file), one whose writer never writes times out. A FIFO is
//! opened with `O_NONBLOCK`, so even the open cannot wait for a writer. A directory is refused.
//!
//! Written by hand on rustix's `poll`/`read`: the crates that read with a timeout do it on a
//! thread left blocked in `read`, which is the hang this module exists to prevent.

use rustix::event::{PollFd, PollFlags, Timespec, poll};
use rustix::io::Errno;
use std::fs::File;
use std::io::{IsTerminal, Read};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;
use std::time::{Duration, Instant};
use thiserror::Error;

/// How long a pipe may take to deliver what it holds: enough for `pass show` to decrypt
/// (gpg-agent usually holds the passphrase), short enough that a mail program or a monitoring
/// check calling us with a silent pipe on standard input gets an answer instead of a hang.
pub const PIPE_WAIT: Duration = Duration::from_secs(20);

/// Where to read from.
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    Stdin,
    Path(&'a Path),
}

impl Source<'_> {
    fn name(&self) -> String {
        match self {
            Source::Stdin => "standard input".into(),
            Source::Path(p) => crate::sanitize::echo(&p.to_string_lossy()),
        }
    }
}

#[derive(Debug, Error)]
pub enum InputError {
    #[error("cannot read {name}: {source}")]
    Open { name: String, source: std::io::Error },
    #[error("{name} is a directory; give the file inside it")]
    Directory { name: String },
    #[error(
        "{name} is a pipe with nothing writing to it: start the program that writes it first (in bash, e.g. <(pass show …)), or give a regular file"
    )]
    NoWriter { name: String },
    #[error("{name} gave nothing within {} s; nothing was read", wait.as_secs())]
    TimedOut { name: String, wait: Duration },
    #[error("{name} holds more than {limit} bytes, too much for {what}")]
    TooLarge {
        name: String,
        limit: u64,
        what: &'static str,
    },
}

/// Reads all of `source` (at most `limit` bytes; `what` names it in errors), waiting at most
/// `wait` for a pipe's data. A terminal on standard input is read as typed (the caller has
/// asked the person there), without a deadline.
pub fn read_all(
    source: Source<'_>,
    limit: u64,
    what: &'static str,
    wait: Duration,
) -> Result<Vec<u8>, InputError> {
    let name = source.name();
    let open_error = |e: std::io::Error| InputError::Open {
        name: name.clone(),
        source: e,
    };
    match source {
        Source::Stdin => {
            let stdin = std::io::stdin();
            let fd = stdin.as_fd();
            let meta = File::from(fd.try_clone_to_owned().map_err(open_error)?)
                .metadata()
                .map_err(open_error)?;
            if meta.is_file() || stdin.is_terminal() {
                return read_bounded(stdin.lock(), &name, limit, what);
            }
            // The descriptor is shared with other processes: poll before each read instead
            // of switching it to non-blocking.
            read_stream(fd, &name, limit, what, wait, false)
        }
        Source::Path(path) => {
            let file = std::fs::OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_NONBLOCK)
                .open(path)
                .map_err(open_error)?;
            let meta = file.metadata().map_err(open_error)?;
            let kind = meta.file_type();
            if kind.is_dir() {
                return Err(InputError::Directory { name });
            }
            if kind.is_file() {
                return read_bounded(file, &name, limit, what);
            }
            let named_fifo = kind.is_fifo();
            read_stream(file.as_fd(), &name, limit, what, wait, named_fifo)
        }
    }
}

/// A regular file or a terminal: plain reads, at most `limit` bytes.
fn read_bounded(r: impl Read, name: &str, limit: u64, what: &'static str) -> Result<Vec<u8>, InputError> {
    let mut bytes = Vec::new();
    r.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| InputError::Open {
            name: name.to_string(),
            source: e,
        })?;
    if bytes.len() as u64 > limit {
        return Err(InputError::TooLarge {
            name: name.to_string(),
            limit,
            what,
        });
    }
    Ok(bytes)
}

/// A pipe, FIFO, socket or device: wait (poll) at most until the deadline for each chunk,
/// read what is there, stop at end-of-file. `nonblocking` says the descriptor is
/// `O_NONBLOCK` (a FIFO we opened): then a read comes first, so that a FIFO nobody writes to
/// (end-of-file at once) is refused at once, where a poll would wait for a writer.
fn read_stream(
    fd: BorrowedFd<'_>,
    name: &str,
    limit: u64,
    what: &'static str,
    wait: Duration,
    nonblocking: bool,
) -> Result<Vec<u8>, InputError> {
    let deadline = Instant::now() + wait;
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 8192];
    let mut ready = nonblocking;
    loop {
        if !ready {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(InputError::TimedOut {
                    name: name.to_string(),
                    wait,
                });
            }
            let timeout = Timespec {
                tv_sec: i64::try_from(left.as_secs()).unwrap_or(i64::MAX),
                tv_nsec: i64::from(left.subsec_nanos()),
            };
            let mut fds = [PollFd::new(&fd, PollFlags::IN)];
            match poll(&mut fds, Some(&timeout)) {
                Ok(0) => continue,
                Ok(_) => {}
                Err(Errno::INTR) => continue,
                Err(e) => {
                    return Err(InputError::Open {
                        name: name.to_string(),
                        source: e.into(),
                    });
                }
            }
        }
        match rustix::io::read(fd, &mut chunk) {
            Ok(0) if bytes.is_empty() && nonblocking => {
                return Err(InputError::NoWriter {
                    name: name.to_string(),
                });
            }
            Ok(0) => return Ok(bytes),
            Ok(n) => {
                bytes.extend_from_slice(&chunk[..n]);
                if bytes.len() as u64 > limit {
                    return Err(InputError::TooLarge {
                        name: name.to_string(),
                        limit,
                        what,
                    });
                }
                ready = nonblocking;
            }
            Err(Errno::AGAIN | Errno::INTR) => ready = false,
            Err(e) => {
                return Err(InputError::Open {
                    name: name.to_string(),
                    source: e.into(),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    fn fifo(dir: &Path) -> std::path::PathBuf {
        let p = dir.join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&p).status().unwrap();
        assert!(made.success());
        p
    }

    #[test]
    fn a_fifo_nobody_writes_to_is_refused_at_once() {
        let tmp = tempfile::tempdir().unwrap();
        let p = fifo(tmp.path());
        let err = read_all(Source::Path(&p), 1024, "a secret", Duration::from_secs(600)).unwrap_err();
        assert!(matches!(err, InputError::NoWriter { .. }), "{err}");
    }

    #[test]
    fn a_fifo_with_a_writer_is_read_to_its_end() {
        let tmp = tempfile::tempdir().unwrap();
        let p = fifo(tmp.path());
        let writer_path = p.clone();
        // The writer's open counts as a writer as soon as it starts waiting for a reader.
        let writer = std::thread::spawn(move || {
            let mut w = std::fs::OpenOptions::new().write(true).open(writer_path).unwrap();
            w.write_all(b"the secret\n").unwrap();
        });
        // The writer may not have reached its open yet: a first "no writer" is a real answer,
        // so retry until it is in place (bounded).
        let deadline = Instant::now() + Duration::from_secs(30);
        let got = loop {
            match read_all(Source::Path(&p), 1024, "a secret", Duration::from_secs(30)) {
                Ok(b) => break b,
                Err(InputError::NoWriter { .. }) if Instant::now() < deadline => std::thread::yield_now(),
                Err(e) => panic!("{e}"),
            }
        };
        writer.join().unwrap();
        assert_eq!(got, b"the secret\n");
    }

    #[test]
    fn a_writer_that_never_writes_times_out() {
        let tmp = tempfile::tempdir().unwrap();
        let p = fifo(tmp.path());
        // Held open for writing (non-blocking needs a reader: open one for the duration).
        let _reader = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&p)
            .unwrap();
        let _writer = std::fs::OpenOptions::new().write(true).open(&p).unwrap();
        let err = read_all(Source::Path(&p), 1024, "a secret", Duration::from_millis(50)).unwrap_err();
        assert!(matches!(err, InputError::TimedOut { .. }), "{err}");
    }

    #[test]
    fn files_are_bounded_and_directories_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let big = tmp.path().join("big");
        std::fs::write(&big, vec![b'x'; 2048]).unwrap();
        let err = read_all(Source::Path(&big), 1024, "a secret", PIPE_WAIT).unwrap_err();
        assert!(matches!(err, InputError::TooLarge { .. }), "{err}");
        let err = read_all(Source::Path(tmp.path()), 1024, "a secret", PIPE_WAIT).unwrap_err();
        assert!(matches!(err, InputError::Directory { .. }), "{err}");
        let err = read_all(Source::Path(Path::new("/dev/zero")), 1024, "a secret", PIPE_WAIT).unwrap_err();
        assert!(matches!(err, InputError::TooLarge { .. }), "{err}");
        let small = tmp.path().join("small");
        std::fs::write(&small, b"abc").unwrap();
        assert_eq!(
            read_all(Source::Path(&small), 1024, "a secret", PIPE_WAIT).unwrap(),
            b"abc"
        );
    }
}
