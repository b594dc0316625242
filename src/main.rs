//! Thin binary: parse, then hand over to the CLI or the TUI.

use inbound::cli::exit;
use std::process::ExitCode;

fn main() -> ExitCode {
    // `COMPLETE=bash inbound …` is the shell asking for completions (stored server names
    // among them): answered here, before anything else is printed, and the process ends.
    inbound::cli::answer_completion_if_asked();
    let mut cli = match inbound::cli::parse() {
        Ok(cli) => cli,
        // Help and version as clap prints them; an error quotes what was typed, so it goes
        // through the same cleaning as every other line (no escapes reach the terminal).
        Err(e) if !e.use_stderr() => e.exit(),
        Err(e) => {
            use std::io::Write as _;
            let text = e.render().to_string();
            let _ = write!(std::io::stderr(), "{}", inbound::sanitize::terminal(&text));
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(exit::USAGE));
        }
    };
    // Commands are short and I/O bound: one thread starts fastest (`inbound token` is called
    // by mail programs on every connection). The interactive app, the demo and the commands that
    // test or refresh many servers at once get worker threads.
    let mut builder = if cli
        .command
        .as_ref()
        .is_some_and(|c| !c.fans_out() && !matches!(c, inbound::cli::Command::Demo(_)))
    {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    };
    let runtime = match builder.enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("inbound: cannot start the async runtime: {e}");
            return ExitCode::from(exit::FAILED);
        }
    };
    let code = match cli.command.take() {
        Some(command) => runtime.block_on(inbound::cli::run(cli, command)),
        None => runtime.block_on(inbound::tui::main(
            cli.config_dir.take(),
            cli.allow_other_owner,
            cli.server.take(),
        )),
    };
    // A stdin reader (paste-back) may still be blocked in read(); don't wait for it.
    runtime.shutdown_background();
    ExitCode::from(code)
}
