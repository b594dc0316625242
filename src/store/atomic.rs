//! Crash-safe file replacement and advisory locks.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Temporary files are `.tmp-<target file name>.<random>`, so a sweep knows which lock
/// guards each one.
pub const TEMP_PREFIX: &str = ".tmp-";

/// Writes `bytes` to `path` so that a reader sees either the old or the new content, never a
/// mix, even across a crash or a full disk: temp file in the same directory (0600), fsync,
/// rename over, fsync the directory. On failure the old file is untouched and the temp
/// removed. A replaced file keeps its owner (root repairing a user's store).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    // tempfile creates the file with mode 0600 on Unix and removes it when dropped, so every
    // error path below leaves nothing behind.
    let tmp = tempfile::Builder::new()
        .prefix(&format!("{TEMP_PREFIX}{name}."))
        .tempfile_in(dir)?;
    replace_with(tmp, path, dir, bytes)
}

/// The name of the one temporary file of [`write_atomic_locked`] for `target`.
pub fn locked_temp_name(target: &str) -> String {
    format!("{TEMP_PREFIX}{target}.w")
}

/// [`write_atomic`] for a file whose writers all hold one exclusive lock (a token file): the
/// temporary file has one fixed name, `.tmp-<file name>.w`, so the temporary file of a writer
/// killed mid-write is removed by the next write of the same file, without listing the
/// directory for it (the token directory holds two files per server: listing it on every
/// write was over a third of serve's CPU in a refresh wave of 1,000). The caller holds the
/// lock: no live writer owns that name.
pub fn write_atomic_locked(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let temp = locked_temp_name(name);
    // No random part: created with O_EXCL (never through a link), 0600, removed when dropped.
    let create = || {
        tempfile::Builder::new()
            .prefix(&temp)
            .rand_bytes(0)
            .tempfile_in(dir)
    };
    let tmp = match create() {
        // A killed writer's: removed, then made anew (without one, nothing is removed).
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            fs::remove_file(dir.join(&temp))?;
            create()?
        }
        other => other?,
    };
    replace_with(tmp, path, dir, bytes)
}

/// Fills `tmp` with `bytes`, syncs it, renames it over `path` and syncs `dir` (one sync for
/// the renames of many writers at once: [`super::dir_sync`]).
fn replace_with(mut tmp: tempfile::NamedTempFile, path: &Path, dir: &Path, bytes: &[u8]) -> io::Result<()> {
    if let Ok(old) = fs::metadata(path) {
        let new = tmp.as_file().metadata()?;
        if old.uid() != new.uid() || old.gid() != new.gid() {
            std::os::unix::fs::fchown(tmp.as_file(), Some(old.uid()), Some(old.gid()))?;
        }
    }
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    super::dir_sync::sync_dir(dir)
}

/// Removes temporary files for `target` left in `dir` by a process killed mid-write. The
/// caller holds the lock that guards `target`, so no live writer owns them. Temp files of
/// the older naming (`.tmp-XXXXXX`) go once they are an hour old. Best effort.
pub fn sweep_temp_files(dir: &Path, target: &str) {
    let ours = format!("{TEMP_PREFIX}{target}.");
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let legacy = name.starts_with(TEMP_PREFIX) && !name[TEMP_PREFIX.len()..].contains('.');
        let stale_legacy = legacy
            && entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| SystemTime::now().duration_since(t).ok())
                .is_some_and(|age| age > Duration::from_secs(3600));
        if name.starts_with(&ours) || stale_legacy {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// An advisory lock held on a dedicated lock file (never renamed, so it stays valid while the
/// data file is replaced). Released on drop.
#[derive(Debug)]
pub struct LockGuard {
    file: File,
    path: PathBuf,
}

impl LockGuard {
    fn open(path: &Path) -> io::Result<File> {
        let open = |create: bool| {
            OpenOptions::new()
                .read(true)
                .write(true)
                .create(create)
                .truncate(false)
                .mode(0o600)
                // A FIFO planted as a lock file must not block the open.
                .custom_flags(libc::O_NONBLOCK)
                .open(path)
        };
        // The lock file exists after its first use: opened without O_CREAT, which takes the
        // directory's exclusive lock even for an existing file (a refresh wave's 1,000 opens
        // queued behind each other's creates and renames in `tokens/`).
        let file = match open(false) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => open(true)?,
            other => other?,
        };
        if !file.metadata()?.is_file() {
            return Err(io::Error::other(
                "the lock file is not a regular file; move it away",
            ));
        }
        Ok(file)
    }

    /// The exclusive lock if nobody holds the file locked now, without waiting.
    pub fn try_exclusive(path: &Path) -> io::Result<Option<Self>> {
        let file = Self::open(path)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(Self {
                file,
                path: path.to_path_buf(),
            })),
            Err(fs::TryLockError::WouldBlock) => Ok(None),
            Err(fs::TryLockError::Error(e)) => Err(e),
        }
    }

    pub fn exclusive(path: &Path) -> io::Result<Self> {
        let file = Self::open(path)?;
        file.lock()?;
        Ok(Self {
            file,
            path: path.to_path_buf(),
        })
    }

    pub fn shared(path: &Path) -> io::Result<Self> {
        let file = Self::open(path)?;
        file.lock_shared()?;
        Ok(Self {
            file,
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}

/// Creates `dir` (and parents) with mode 0700 when missing.
pub fn create_private_dir(dir: &Path) -> io::Result<bool> {
    if dir.is_dir() {
        return Ok(false);
    }
    fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    Ok(true)
}

use std::os::unix::fs::DirBuilderExt;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_keeps_0600() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.json");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        assert_eq!(fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o600);
        // no temp files left behind
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_locked_write_replaces_the_temp_file_a_killed_writer_left() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.json");
        let left = dir.path().join(locked_temp_name("f.json"));
        fs::write(&left, b"{\"half\": ").unwrap();
        write_atomic_locked(&p, b"one").unwrap();
        write_atomic_locked(&p, b"two").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        assert_eq!(fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o600);
        assert!(!left.exists(), "the killed writer's temp file is gone");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn exclusive_lock_excludes_a_second_holder() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.lock");
        let _g = LockGuard::exclusive(&p).unwrap();
        let other = LockGuard::open(&p).unwrap();
        assert!(matches!(other.try_lock(), Err(std::fs::TryLockError::WouldBlock)));
        assert!(matches!(
            other.try_lock_shared(),
            Err(std::fs::TryLockError::WouldBlock)
        ));
    }

    #[test]
    fn shared_locks_coexist() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.lock");
        let _a = LockGuard::shared(&p).unwrap();
        let _b = LockGuard::shared(&p).unwrap();
        let other = LockGuard::open(&p).unwrap();
        assert!(matches!(other.try_lock(), Err(std::fs::TryLockError::WouldBlock)));
    }
}
