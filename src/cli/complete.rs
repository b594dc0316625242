//! Dynamic shell completion (`source <(COMPLETE=bash inbound)`): the shell asks the binary, so
//! the names of the stored servers and apps come from the store as it is now, which the static
//! scripts of `inbound completions SHELL` cannot know.

use crate::model::Config;
use crate::store::Store;
use clap_complete::engine::CompletionCandidate;
use clap_complete::env::{CompleteEnv, EnvCompleter, Shells};
use std::ffi::{OsStr, OsString};
use std::path::PathBuf;

/// Answers `COMPLETE=SHELL inbound …` (the shell asking for completions, or for the script
/// that asks) and ends the process; returns at once when no shell is asking.
pub fn answer_if_asked() {
    const SHELLS: Shells<'static> = Shells(&[
        &Bash,
        &clap_complete::env::Elvish,
        &clap_complete::env::Fish,
        &clap_complete::env::Powershell,
        &clap_complete::env::Zsh,
    ]);
    CompleteEnv::with_factory(super::command)
        .shells(SHELLS)
        .complete();
}

/// clap's bash adapter, with quoting: clap's own gives bash each candidate as it is, so
/// "Support inbox" became two words on the line. Here each candidate is escaped for bash, and
/// the word being completed is read without its escapes or opening quote. (Zsh, fish, elvish
/// and PowerShell quote what they insert themselves.)
struct Bash;

impl EnvCompleter for Bash {
    fn name(&self) -> &'static str {
        clap_complete::env::Bash.name()
    }

    fn is(&self, name: &str) -> bool {
        clap_complete::env::Bash.is(name)
    }

    fn write_registration(
        &self,
        var: &str,
        name: &str,
        bin: &str,
        completer: &str,
        buf: &mut dyn std::io::Write,
    ) -> Result<(), std::io::Error> {
        clap_complete::env::Bash.write_registration(var, name, bin, completer, buf)
    }

    fn write_complete(
        &self,
        cmd: &mut clap::Command,
        mut args: Vec<OsString>,
        current_dir: Option<&std::path::Path>,
        buf: &mut dyn std::io::Write,
    ) -> Result<(), std::io::Error> {
        // The same variables clap's bash script sets and its adapter reads.
        let index: usize = std::env::var("_CLAP_COMPLETE_INDEX")
            .ok()
            .and_then(|i| i.parse().ok())
            .unwrap_or_default();
        let separator = std::env::var("_CLAP_IFS").unwrap_or_else(|_| "\n".to_string());
        if let Some(word) = args.get_mut(index)
            && let Some(typed) = word.to_str()
        {
            *word = OsString::from(unescape(typed));
        }
        let candidates = clap_complete::engine::complete(cmd, args, index, current_dir)?;
        for (i, candidate) in candidates.iter().enumerate() {
            if i != 0 {
                write!(buf, "{separator}")?;
            }
            write!(buf, "{}", escape(&candidate.get_value().to_string_lossy()))?;
        }
        Ok(())
    }
}

/// A word as bash would take it back: `Support\ inbox` for `Support inbox`.
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if !(c.is_alphanumeric() || "-_./,@+%^".contains(c)) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The word being completed as typed so far, without an opening quote or backslashes:
/// `"Support i` and `Support\ i` are both `Support i`.
fn unescape(typed: &str) -> String {
    let typed = typed.strip_prefix(['"', '\'']).unwrap_or(typed);
    let mut out = String::with_capacity(typed.len());
    let mut chars = typed.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            c => out.push(c),
        }
    }
    out
}

/// The stored servers whose name starts with what was typed, each with its mailbox as help.
pub fn server_names(typed: &OsStr) -> Vec<CompletionCandidate> {
    candidates(typed, |config| {
        config
            .servers
            .iter()
            .map(|s| (s.name.clone(), s.username.clone()))
            .collect()
    })
}

/// The stored Azure apps whose name starts with what was typed, each with its tenant as help.
pub fn app_names(typed: &OsStr) -> Vec<CompletionCandidate> {
    candidates(typed, |config| {
        config
            .apps
            .iter()
            .map(|a| (a.name.clone(), a.tenant.clone()))
            .collect()
    })
}

fn candidates(
    typed: &OsStr,
    names: impl FnOnce(&Config) -> Vec<(String, String)>,
) -> Vec<CompletionCandidate> {
    let Some(typed) = typed.to_str() else {
        return Vec::new();
    };
    let Some(config) = stored_config(std::env::args_os()) else {
        return Vec::new();
    };
    names(&config)
        .into_iter()
        // A name with control characters (a hand-edited store) is not offered: it could not
        // be typed, and the shell would print it raw.
        .filter(|(name, _)| {
            name.starts_with(typed)
                && !name.chars().any(char::is_control)
                && crate::sanitize::terminal(name) == *name
        })
        .map(|(name, help)| {
            CompletionCandidate::new(name).help(Some(crate::sanitize::terminal(&help).into_owned().into()))
        })
        .collect()
}

/// The store the completed command would use: its --config-dir when one is typed, else
/// INBOUND_CONFIG_DIR, else the default. Read only, and quietly: a missing, foreign or damaged
/// store completes nothing (completion must never print an error into the command line).
fn stored_config(args: impl Iterator<Item = OsString>) -> Option<Config> {
    let dir = typed_config_dir(args).or_else(|| std::env::var_os("INBOUND_CONFIG_DIR").map(PathBuf::from));
    let allow_other_owner = std::env::var_os("INBOUND_ALLOW_OTHER_OWNER")
        .is_some_and(|v| !matches!(v.to_str(), Some("" | "0" | "n" | "no" | "f" | "false" | "off")));
    Store::open_existing(dir, allow_other_owner).ok()?.load().ok()
}

/// `--config-dir DIR` or `--config-dir=DIR` on the command line being completed (the shell
/// passes it after `--`); the completer itself is given only the word being completed.
fn typed_config_dir(args: impl Iterator<Item = OsString>) -> Option<PathBuf> {
    let mut words = args.skip_while(|a| a != "--");
    let mut found = None;
    while let Some(word) = words.next() {
        if word == "--config-dir" {
            found = words.next().map(PathBuf::from);
        } else if let Some(dir) = word.to_str().and_then(|w| w.strip_prefix("--config-dir=")) {
            found = Some(PathBuf::from(dir));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &[&str]) -> impl Iterator<Item = OsString> {
        line.iter().map(OsString::from).collect::<Vec<_>>().into_iter()
    }

    #[test]
    fn bash_gets_each_name_as_one_word_and_the_typed_word_without_escapes() {
        assert_eq!(escape("Support inbox"), "Support\\ inbox");
        assert_eq!(escape("it's (new)"), "it\\'s\\ \\(new\\)");
        assert_eq!(escape("sales@contoso.com"), "sales@contoso.com");
        for typed in ["Support\\ i", "\"Support i", "'Support i"] {
            assert_eq!(unescape(typed), "Support i", "{typed}");
        }
        assert_eq!(unescape(&escape("a\\b c")), "a\\b c");
    }

    #[test]
    fn the_config_dir_typed_on_the_completed_line_is_used() {
        let line = ["inbound", "--", "inbound", "--config-dir", "/s", "show", "A"];
        assert_eq!(typed_config_dir(words(&line)), Some(PathBuf::from("/s")));
        let line = ["inbound", "--", "inbound", "show", "--config-dir=/t", "A"];
        assert_eq!(typed_config_dir(words(&line)), Some(PathBuf::from("/t")));
        // Words before the `--` are the completer's own, not the completed line's.
        let line = ["inbound", "--config-dir", "/x", "--", "inbound", "show", "A"];
        assert_eq!(typed_config_dir(words(&line)), None);
    }
}
