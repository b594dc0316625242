//! `inbound apps`.

use crate::cli::output;
use crate::exit;
use crate::ops::Error;
use crate::store::Store;

pub(super) fn apps(store: &Store, json: bool) -> Result<u8, Error> {
    let config = store.load()?;
    if json {
        let apps: Vec<output::AppRow> = config
            .apps
            .iter()
            .map(|a| output::AppRow::new(a, &config))
            .collect();
        out!("{}", output::pretty(&apps));
    } else if config.apps.is_empty() {
        out!("No Azure apps yet; inbound add creates one with the first OAuth2 server.");
    } else {
        let table = output::apps_table(&config);
        out!("{}", table.trim_end());
    }
    Ok(exit::OK)
}
