//! `inbound refresh`.

use crate::cli::RefreshArgs;
use crate::cli::output;
use crate::cli::report::{advice, code_for};
use crate::exit;
use crate::ops::tokens::{Policy, fresh_token};
use crate::ops::{self as core_ops, Error};
use crate::store::Store;
use futures_util::StreamExt;
use jiff::Timestamp;

pub(super) async fn refresh(store: &Store, a: RefreshArgs) -> Result<u8, Error> {
    let config = store.load()?;
    let names: Vec<String> = if a.all {
        config
            .servers
            .iter()
            .filter(|s| s.auth.is_oauth())
            .map(|s| s.name.clone())
            .collect()
    } else {
        a.name.into_iter().collect()
    };
    let mut results: Vec<(usize, String, Result<core_ops::tokens::Fresh, Error>)> =
        futures_util::stream::iter(names.into_iter().enumerate())
            .map(|(i, name)| async move {
                let r = fresh_token(store, &name, Policy::Force, Timestamp::now).await;
                (i, name, r)
            })
            // Unordered: a slow server must not hold back the start of the others.
            .buffer_unordered(usize::from(a.jobs))
            .collect()
            .await;
    results.sort_by_key(|(i, ..)| *i);
    let results: Vec<(String, Result<core_ops::tokens::Fresh, Error>)> =
        results.into_iter().map(|(_, n, r)| (n, r)).collect();
    let (mut ok, mut failed) = (0, 0);
    let mut worst = exit::OK;
    let mut json = Vec::new();
    for (name, r) in &results {
        match r {
            Ok(f) if f.warning.is_none() => {
                ok += 1;
                if !a.json {
                    out!(
                        "✔ {name}: refreshed, valid until {}",
                        crate::timefmt::local(f.tokens.expires_at)
                    );
                }
                json.push(output::RefreshRow::Refreshed {
                    server: name.clone(),
                    ok: true,
                    expires_at: f.tokens.expires_at.to_string(),
                });
            }
            Ok(f) => {
                failed += 1;
                worst = worst.max(exit::FAILED);
                let w = f.warning.clone().unwrap_or_default();
                if !a.json {
                    out!("! {name}: {w}");
                }
                json.push(output::RefreshRow::Warning {
                    server: name.clone(),
                    ok: false,
                    error: w,
                });
            }
            Err(e) => {
                failed += 1;
                worst = worst.max(code_for(e));
                if !a.json {
                    out!("✖ {name}: {e}");
                    for line in advice(e) {
                        out!("  → {line}");
                    }
                }
                json.push(output::RefreshRow::Failed {
                    server: name.clone(),
                    ok: false,
                    error: output::ErrorFields::new(e),
                });
            }
        }
    }
    if a.json {
        out!("{}", output::pretty(&json));
    } else if a.all {
        out!("{ok} refreshed, {failed} failed");
    }
    Ok(worst)
}
