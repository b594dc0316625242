//! The configuration and the token cache read side by side: at 10,000 servers each is about
//! 3 MB of JSON, and parsing them one after the other left the second core idle.

use super::{NameOrder, Store, StoreError, TokenCache, TokenCacheBytes};
use crate::model::Config;

impl Store {
    /// The configuration (as [`Store::load`]) and the token cache `bytes` (read before with
    /// [`Store::read_token_cache`]) parsed, to hand to [`Store::token_health_files_from`]. A
    /// large cache is parsed on a second thread while this one parses the configuration; a
    /// small one here, after it (a thread's start would cost more than it saves).
    pub fn load_with_token_cache<'c>(
        &self,
        bytes: &'c TokenCacheBytes,
    ) -> Result<(Config, TokenCache<'c>), StoreError> {
        if !bytes.is_large() {
            let config = self.load()?;
            return Ok((config, bytes.parse()));
        }
        // Both are always replaced: `join` returns when both closures ran. The cache's parse
        // takes the longer: meanwhile this thread sorts the servers' names for its use.
        let (mut config, mut order, mut parsed) =
            (Ok(Config::default()), NameOrder::default(), TokenCache::default());
        crate::parallel::join(
            &mut || {
                config = self.load();
                if let Ok(c) = &config {
                    order = NameOrder::of(&c.servers);
                }
            },
            &mut || parsed = bytes.parse(),
        );
        parsed.set_name_order(order);
        Ok((config?, parsed))
    }
}
