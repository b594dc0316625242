//! The command line as it is parsed, shown by --help and the manual page, and completed: the
//! clap definitions of this module, with the store's options hidden on the commands that never
//! open a store.

use super::Cli;
use clap::{CommandFactory, FromArgMatches};

/// The heading of the options every command takes (they say which store to use).
pub const GLOBAL_OPTIONS: &str = "Global options";

/// Commands that open no store: `--config-dir` and `--allow-other-owner` mean nothing there.
const WITHOUT_STORE: [&str; 4] = ["demo", "man", "completions", "setup-script"];

/// The global options, by id.
const STORE_OPTIONS: [&str; 2] = ["config_dir", "allow_other_owner"];

/// The whole command line. Global options reach the subcommands only when the command is
/// built, so it is built first and then they are hidden where they mean nothing (still
/// accepted there, as before, so no script breaks).
pub fn command() -> clap::Command {
    let mut cmd = Cli::command();
    cmd.build();
    // `mut_args` keeps the order of the arguments, which a built command's lookup relies on.
    cmd.mut_subcommands(|sub| {
        if WITHOUT_STORE.contains(&sub.get_name()) {
            sub.mut_args(|a| {
                let hide = a.is_hide_set() || STORE_OPTIONS.contains(&a.get_id().as_str());
                a.hide(hide)
            })
        } else {
            sub
        }
    })
}

/// Parses this process's arguments with [`command`].
pub fn parse() -> Result<Cli, clap::Error> {
    let mut cmd = command();
    let mut matches = cmd.try_get_matches_from_mut(std::env::args_os())?;
    Cli::from_arg_matches_mut(&mut matches).map_err(|e| e.format(&mut cmd))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every argument and option a newcomer can see says what it is (a bare `<NAME>` does not).
    #[test]
    fn every_visible_argument_says_what_it_is() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for arg in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
                if arg.get_help().is_none() && arg.get_long_help().is_none() {
                    missing.push(format!("{path}: {}", arg.get_id()));
                }
            }
            for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
                walk(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let mut missing = Vec::new();
        walk(&command(), "inbound", &mut missing);
        assert!(missing.is_empty(), "no help: {missing:?}");
    }

    #[test]
    fn the_store_options_are_global_and_hidden_only_where_no_store_is_opened() {
        let cmd = command();
        for id in STORE_OPTIONS {
            let top = cmd.get_arguments().find(|a| a.get_id() == id).unwrap();
            assert_eq!(top.get_help_heading(), Some(GLOBAL_OPTIONS));
        }
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            for id in STORE_OPTIONS {
                let arg = sub.get_arguments().find(|a| a.get_id() == id).unwrap();
                let hidden = WITHOUT_STORE.contains(&sub.get_name());
                assert_eq!(arg.is_hide_set(), hidden, "{} --{id}", sub.get_name());
                assert_eq!(arg.get_help_heading(), Some(GLOBAL_OPTIONS), "{}", sub.get_name());
            }
        }
        assert!(
            WITHOUT_STORE
                .iter()
                .all(|name| cmd.find_subcommand(name).is_some())
        );
    }

    /// Hiding changes only the help: the options still parse before and after any command.
    #[test]
    fn the_store_options_parse_before_and_after_the_command() {
        for line in [
            ["inbound", "--config-dir", "/s", "list"],
            ["inbound", "list", "--config-dir", "/s"],
            ["inbound", "demo", "--config-dir", "/s"],
        ] {
            let mut matches = command().try_get_matches_from(line).unwrap();
            let cli = Cli::from_arg_matches_mut(&mut matches).unwrap();
            assert_eq!(cli.config_dir, Some("/s".into()), "{line:?}");
        }
        let mut matches = command()
            .try_get_matches_from(["inbound", "show", "--allow-other-owner", "A"])
            .unwrap();
        assert!(Cli::from_arg_matches_mut(&mut matches).unwrap().allow_other_owner);
    }
}
