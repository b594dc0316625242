//! Certificate credentials in the store: `certs/<id>.key.pem` (the private key, 0600) and
//! `certs/<id>.crt.pem` (the public certificate) in a 0700 directory, each written atomically.
//! config.json names them by id only, so a moved store keeps working.

use super::{Store, StoreError};
use crate::model::Config;
use crate::secret::Secret;
use crate::store::atomic::{TEMP_PREFIX, create_private_dir, write_atomic};
use std::collections::HashSet;
use std::fs;
use std::path::PathBuf;

const CERTS_DIR: &str = "certs";
/// A PEM certificate or key is a few KiB.
const MAX_PEM_BYTES: u64 = 64 * 1024;

impl Store {
    fn certs_dir(&self) -> PathBuf {
        self.dir.join(CERTS_DIR)
    }

    /// Where the private key of certificate `id` lives.
    pub fn certificate_key_path(&self, id: &str) -> PathBuf {
        self.certs_dir().join(format!("{id}.key.pem"))
    }

    /// Where the public certificate `id` lives.
    pub fn certificate_path(&self, id: &str) -> PathBuf {
        self.certs_dir().join(format!("{id}.crt.pem"))
    }

    /// Writes a key and its certificate. Call it inside [`Store::update`] (under the config
    /// lock), in the transaction that makes an app reference `id`: a key no app references is
    /// removed by the next write's sweep, so one written outside the lock could be swept
    /// before its record is committed.
    pub fn write_certificate(&self, id: &str, key_pem: &Secret, cert_pem: &str) -> Result<(), StoreError> {
        let dir = self.certs_dir();
        if !create_private_dir(&dir).map_err(|e| StoreError::write(&dir, e))? {
            self.check_meta(&dir, true)?;
        }
        let key = self.certificate_key_path(id);
        write_atomic(&key, key_pem.expose().as_bytes()).map_err(|e| StoreError::write(&key, e))?;
        let cert = self.certificate_path(id);
        write_atomic(&cert, cert_pem.as_bytes()).map_err(|e| StoreError::write(&cert, e))
    }

    /// Removes the files of certificate `id` (a key written for a transaction that then
    /// failed). Best effort: the next write's sweep removes what is left.
    pub fn discard_certificate(&self, id: &str) {
        let _ = fs::remove_file(self.certificate_key_path(id));
        let _ = fs::remove_file(self.certificate_path(id));
    }

    /// Removes, under the config lock, keys and certificates no app references (a replaced
    /// certificate, an app removed, a key a killed process wrote) and temporary files.
    /// Best effort, like the token sweep: it never fails the write that triggered it.
    pub(super) fn sweep_certificates(&self, config: &Config) {
        let live: HashSet<&str> = config
            .apps
            .iter()
            .filter_map(|a| a.certificate.as_ref().map(|c| c.id.as_str()))
            .chain(
                config
                    .pending_certificates
                    .iter()
                    .map(|p| p.certificate.id.as_str()),
            )
            .collect();
        let Ok(entries) = fs::read_dir(self.certs_dir()) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if !is_ours(name) {
                continue;
            }
            let id = name
                .trim_start_matches(TEMP_PREFIX)
                .split('.')
                .next()
                .unwrap_or("");
            if name.starts_with(TEMP_PREFIX) || !live.contains(id) {
                let _ = fs::remove_file(entry.path());
            }
        }
    }

    /// The public certificate (PEM) of `id`, if stored.
    pub fn read_certificate(&self, id: &str) -> Result<Option<String>, StoreError> {
        let path = self.certificate_path(id);
        Ok(self
            .read_bytes(&path, MAX_PEM_BYTES)?
            .map(|b| String::from_utf8_lossy(&b).into_owned()))
    }

    /// Fills in where each app's certificate key is (not stored: the store may move).
    pub(super) fn locate_certificates(&self, config: &mut Config) {
        for app in &mut config.apps {
            if let Some(c) = app.certificate.as_mut() {
                c.key_file = Some(self.certificate_key_path(&c.id));
            }
        }
        for p in &mut config.pending_certificates {
            p.certificate.key_file = Some(self.certificate_key_path(&p.certificate.id));
        }
    }
}

/// A file the store writes in `certs/`: `<id>.key.pem`, `<id>.crt.pem` or a temporary file of
/// one (anything else someone put there is left alone).
fn is_ours(name: &str) -> bool {
    let base = name.strip_prefix(TEMP_PREFIX).unwrap_or(name);
    let Some((id, rest)) = base.split_once('.') else {
        return false;
    };
    let id_like = !id.is_empty() && id.chars().all(|c| c.is_ascii_hexdigit());
    id_like && (rest.starts_with("key.pem") || rest.starts_with("crt.pem"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_stores_own_certificate_files_are_swept() {
        assert!(is_ours("0123abcd.key.pem"));
        assert!(is_ours("0123abcd.crt.pem"));
        assert!(is_ours(".tmp-0123abcd.key.pem.Xy12Z9"));
        assert!(!is_ours("notes.txt"));
        assert!(!is_ours("my-ca.pem"));
    }
}
