//! Certificate credentials in the store: `certs/<id>.key.pem` (the private key, 0600) and
//! `certs/<id>.crt.pem` (the public certificate) in a 0700 directory, each written atomically.
//! config.json names them by id only, so a moved store keeps working.

use super::{Store, StoreError};
use crate::model::Config;
use crate::secret::Secret;
use crate::store::atomic::{create_private_dir, write_atomic};
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

    /// Writes a key and its certificate (the key first: a certificate without its key is
    /// useless, a key without a record is swept by nobody but harms nobody).
    pub fn write_certificate(&self, id: &str, key_pem: &Secret, cert_pem: &str) -> Result<(), StoreError> {
        let dir = self.certs_dir();
        if !create_private_dir(&dir).map_err(|e| StoreError::io(&dir, e))? {
            self.check_meta(&dir, true)?;
        }
        let key = self.certificate_key_path(id);
        write_atomic(&key, key_pem.expose().as_bytes()).map_err(|e| StoreError::io(&key, e))?;
        let cert = self.certificate_path(id);
        write_atomic(&cert, cert_pem.as_bytes()).map_err(|e| StoreError::io(&cert, e))
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
    }
}
