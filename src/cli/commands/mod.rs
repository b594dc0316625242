//! Running each command against the core: one file per command, and the dispatch here.

mod add;
mod apps;
mod check;
mod connect;
mod doctor;
mod edit;
mod input;
mod list;
mod refresh;
mod remove;
mod settings;
mod show;
mod test;
mod token;
mod views;

use super::report::{code_for, report};
use super::{Cli, Command, exit};
use crate::model::health::Level;
use crate::store::{Store, StoreError};

/// Runs a CLI command; returns the process exit code.
pub async fn run(cli: Cli, command: Command) -> u8 {
    // The demo never opens the user's own store.
    let command = match command {
        Command::Demo(a) => {
            let opts = crate::demo::Options {
                keep: a.keep,
                print_env: a.print_env,
            };
            return crate::demo::run(opts).await;
        }
        // Generated from the clap definitions; no store needed.
        Command::Completions(a) => return super::docs::completions(a.shell),
        Command::Man => return super::docs::man(),
        // Prints a script; the store is not needed.
        Command::SetupScript(a) => return super::setup::script(&a),
        other => other,
    };
    // A write that would exceed RLIMIT_FSIZE must fail with EFBIG (and leave no temp file),
    // not kill the process by SIGXFSZ mid-write.
    let _xfsz = crate::services::signals::ignore_file_size_limit();
    // Only a command that may make the first record creates a store; every other one needs
    // an existing store and never creates anything (a mistyped --config-dir is an error, not
    // a new empty store that reports OK).
    let opened = if creates_store(&command) {
        Store::open_deferred(cli.config_dir.clone(), cli.allow_other_owner)
    } else {
        Store::open_existing(cli.config_dir.clone(), cli.allow_other_owner)
    };
    let store = match opened {
        Ok(s) => s,
        Err(e) => {
            let monitoring = matches!(command, Command::Check(_) | Command::Doctor(_));
            if matches!(command, Command::Check(_)) {
                // Monitoring reads the first line of stdout.
                out!("UNKNOWN - {}", crate::cli::fix::store_message(&e));
            } else {
                say!("inbound: {}", crate::cli::fix::store_message(&e));
            }
            return if monitoring {
                Level::Unknown as u8
            } else if matches!(e, StoreError::NoStore { .. }) {
                exit::NOT_FOUND
            } else {
                exit::STORE
            };
        }
    };
    // Best effort: a log we cannot write is said once on stderr, never fatal. A read-only
    // store has no log, and says nothing about it (it is read-only on purpose).
    if store.is_writable()
        && let Some(w) = crate::logging::init(&store.log_dir()).warning()
    {
        say!("inbound: {w}");
    }
    let result = match command {
        Command::Add(a) => add::add(&store, a).await,
        Command::Edit(a) => edit::edit(&store, a).await,
        Command::Doctor(a) => return doctor::doctor(&store, a).await,
        Command::List(a) => list::list(&store, a.json),
        Command::Apps(a) => apps::apps(&store, a.json),
        Command::Show(a) => show::show(&store, &a.name, a.json),
        Command::Connect(a) => connect::connect(&store, a).await,
        Command::Test(a) => test::test(&store, a).await,
        Command::Token(a) => token::token(&store, a).await,
        Command::Tunnel(a) => return super::tunnel::run(&store, a).await,
        Command::Proxy(a) => super::proxy::run(&store, a).await,
        Command::Refresh(a) => refresh::refresh(&store, a).await,
        Command::Check(a) => return check::check(&store, a).await,
        Command::Remove(a) => remove::remove(&store, a),
        Command::ExchangeSetup(a) => super::exchange::exchange_setup(&store, &a.name, a.json),
        Command::Cert(c) => super::cert::run(&store, c).await,
        Command::Settings(a) => settings::settings(&store, a),
        Command::Serve(a) => return super::serve::run(&store, a).await,
        Command::Import(a) => return super::import::run(&store, &a),
        Command::Demo(_) | Command::Completions(_) | Command::Man | Command::SetupScript(_) => {
            return exit::USAGE;
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            report(&e);
            code_for(&e)
        }
    }
}

/// True for the commands that may write the first record of a store (and so may create it).
fn creates_store(command: &Command) -> bool {
    match command {
        Command::Add(_) | Command::Cert(super::CertCommand::New(_)) => true,
        Command::Settings(a) => a.changes_something(),
        // --save may write the first settings; --print-unit only names the store's path.
        Command::Serve(a) => a.save || a.print_unit,
        _ => false,
    }
}
