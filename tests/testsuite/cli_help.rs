//! What `--help` and the shell's completion tell a newcomer, through the binary: the store's
//! options under their own heading (and absent where no store is used), and the names of the
//! stored servers and apps offered on Tab.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use crate::support;

use std::process::Output;
use support::cli::{Cli, text};

/// The lines of one section of a help text ("Options:", "Global options:"), up to the next.
fn section(help: &str, heading: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| *l != heading)
        .skip(1)
        .take_while(|l| l.is_empty() || l.starts_with(' '))
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn global_options_have_their_own_heading_and_only_where_a_store_is_used() {
    let cli = Cli::new();
    for command in ["list", "add", "show", "serve"] {
        let help = text(&cli.run(&[command, "--help"], None).await.stdout);
        let options = section(&help, "Options:").join("\n");
        let globals = section(&help, "Global options:").join("\n");
        assert!(!options.contains("--config-dir"), "{command}: {help}");
        assert!(
            globals.contains("--config-dir") && globals.contains("--allow-other-owner"),
            "{command}: {help}"
        );
    }
    for command in ["demo", "man", "completions", "setup-script"] {
        let help = text(&cli.run(&[command, "--help"], None).await.stdout);
        assert!(
            !help.contains("--config-dir") && !help.contains("--allow-other-owner"),
            "{command}: {help}"
        );
    }
    // Still a global option: given after the command, it names the store as before.
    let missing = cli.dir.path().join("nowhere");
    let out = cli
        .run(&["list", "--config-dir", missing.to_str().unwrap()], None)
        .await;
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("nowhere"), "{}", text(&out.stderr));
}

#[tokio::test]
async fn every_name_argument_says_what_it_names() {
    let cli = Cli::new();
    for (command, expected) in [
        (vec!["cert", "use", "--help"], "<APP>"),
        (vec!["exchange-setup", "--help"], "<NAME>"),
    ] {
        let help = text(&cli.run(&command, None).await.stdout);
        let line = section(&help, "Arguments:").join(" ");
        assert!(line.contains(expected), "{command:?}: {help}");
        assert!(line.split_whitespace().count() > 2, "{command:?}: {help}");
    }
    let help = text(&cli.run(&["exchange-setup", "--help"], None).await.stdout);
    assert!(!help.contains("The server to show"), "{help}");
}

/// Asks the binary for completions as the bash script of `COMPLETE=bash inbound` does.
async fn complete(cli: &Cli, line: &[&str], env_dir: bool) -> Output {
    let mut c = tokio::process::Command::new(env!("CARGO_BIN_EXE_inbound"));
    c.env("COMPLETE", "bash")
        .env("_CLAP_COMPLETE_INDEX", (line.len() - 1).to_string())
        .env("_CLAP_IFS", "\n")
        .env_remove("INBOUND_CONFIG_DIR")
        // Never the default store of whoever runs the tests.
        .env("HOME", cli.dir.path())
        .env("XDG_CONFIG_HOME", cli.dir.path().join("config"))
        .arg("--")
        .args(line);
    if env_dir {
        c.env("INBOUND_CONFIG_DIR", cli.config_dir());
    }
    c.output().await.unwrap()
}

fn offered(out: &Output) -> Vec<String> {
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout).lines().map(str::to_string).collect()
}

#[tokio::test]
async fn completion_offers_the_stored_server_and_app_names() {
    let cli = Cli::new();
    for (name, user) in [
        ("Support inbox", "support@example.com"),
        ("Sales", "sales@example.com"),
    ] {
        let out = cli
            .run(
                &[
                    "add",
                    name,
                    "--username",
                    user,
                    "--auth",
                    "basic",
                    "--password-stdin",
                ],
                Some("pw\n"),
            )
            .await;
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    let out = cli
        .run(
            &[
                "add",
                "Helpdesk",
                "--username",
                "help@example.com",
                "--client-id",
                "00000000-0000-0000-0000-000000000001",
                "--tenant",
                "contoso.onmicrosoft.com",
                "--secret-stdin",
                "--app",
                "Helpdesk app",
                "--no-check",
            ],
            Some("a-secret-value\n"),
        )
        .await;
    assert!(out.status.success(), "{}", text(&out.stderr));

    let names = offered(&complete(&cli, &["inbound", "show", "S"], true).await);
    // Escaped for bash: one word on the line, as typed back.
    assert_eq!(names, ["Support\\ inbox", "Sales"], "{names:?}");
    let names = offered(&complete(&cli, &["inbound", "test", "Support\\ i"], true).await);
    assert_eq!(names, ["Support\\ inbox"], "{names:?}");
    // The store named on the line being completed is the one read.
    let dir = cli.config_dir();
    let line = ["inbound", "--config-dir", dir.to_str().unwrap(), "token", "H"];
    let names = offered(&complete(&cli, &line, false).await);
    assert_eq!(names, ["Helpdesk"], "{names:?}");
    let names = offered(&complete(&cli, &["inbound", "edit", "--app", "He"], true).await);
    assert_eq!(names, ["Helpdesk\\ app"], "{names:?}");
    // No store: nothing offered, and nothing said into the command line.
    let out = complete(&cli, &["inbound", "show", "S"], false).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).trim().is_empty(), "{}", text(&out.stdout));
    assert!(text(&out.stderr).is_empty(), "{}", text(&out.stderr));

    // The shell's side: the script to source names the binary and passes the line after --.
    let mut c = tokio::process::Command::new(env!("CARGO_BIN_EXE_inbound"));
    let script = c.env("COMPLETE", "bash").output().await.unwrap();
    assert!(script.status.success());
    let script = text(&script.stdout);
    assert!(
        script.contains("complete -o nospace") && script.contains("-- \"${words[@]}\""),
        "{script}"
    );
}
