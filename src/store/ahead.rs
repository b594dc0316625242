//! The configuration and the token cache read side by side: at 10,000 servers each is about
//! 3 MB of JSON, and parsing them one after the other left the second core idle.

use super::{Store, StoreError, TokenCache};
use crate::model::Config;

impl Store {
    /// The configuration (as [`Store::load`]) and the token cache (to hand to
    /// [`Store::token_health_files_from`]). A large cache is parsed on a second thread while
    /// this one parses the configuration; a small one here, after it (a thread's start would
    /// cost more than it saves).
    pub fn load_with_token_cache(&self) -> Result<(Config, TokenCache), StoreError> {
        let cache = self.read_token_cache();
        if !cache.is_large() {
            let config = self.load()?;
            return Ok((config, cache.parse()));
        }
        // Both are always replaced: `join` returns when both closures ran.
        let (mut config, mut parsed, mut cache) = (Ok(Config::default()), TokenCache::default(), cache);
        crate::parallel::join(&mut || config = self.load(), &mut || {
            parsed = std::mem::take(&mut cache).parse()
        });
        Ok((config?, parsed))
    }
}
