//! `inbound import FILE [--dry-run]`: many servers from a CSV or JSON file (the core checks
//! and stores them; this prints what happened).

use crate::exit;
use crate::ops::import::{ImportError, import};
use crate::store::Store;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
#[command(after_help = "\
CSV: the first line names the columns, e.g.
  name,username,app
  Helpdesk 2,help2@contoso.com,Contoso mail
Missing columns take add's defaults (host outlook.office365.com, port 993, auth OAuth2.0).
OAuth2.0 rows name a stored Azure app (inbound apps lists them). JSON: what list --json
prints (the fields that describe a stored server, such as state and health, are ignored).
Every row is checked as add checks it; one bad row and nothing is imported: each bad row is
named by its line in the file (the header is line 1) and its column.")]
pub struct ImportArgs {
    /// The CSV or JSON file.
    pub file: PathBuf,
    /// Check every row and say what would be added; write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

pub fn run(store: &Store, args: &ImportArgs) -> u8 {
    match import(store, &args.file, args.dry_run) {
        Ok(done) => {
            let names: Vec<String> = done.servers.iter().map(|s| format!("\"{}\"", s.name)).collect();
            let n = names.len();
            let servers = if n == 1 { "server" } else { "servers" };
            if done.dry_run {
                say!(
                    "{n} {servers} would be added as Draft (nothing was written): {}",
                    names.join(", ")
                );
            } else if n == 0 {
                say!("No rows in {}: nothing was added.", args.file.display());
            } else {
                say!("Added {n} {servers} as Draft: {}", names.join(", "));
                say!("Next: inbound connect NAME signs each in, then inbound test --all confirms them.");
            }
            exit::OK
        }
        Err(e) => {
            say!("inbound: {e}");
            match &e {
                ImportError::Rows { rows, .. } => {
                    for r in rows {
                        say!("  {r}");
                    }
                    say!("  → fix these lines and run the import again (--dry-run checks without writing)");
                    exit::USAGE
                }
                ImportError::Format { .. } | ImportError::TooLarge { .. } => exit::USAGE,
                ImportError::Read { .. } => exit::NOT_FOUND,
                ImportError::Store(_) => exit::STORE,
            }
        }
    }
}
