//! Shell completions and the manual page, generated from the same clap definitions as the
//! parser, so they cannot drift from the commands.

use super::{command, exit};
use std::io::Write;

pub fn completions(shell: clap_complete::Shell) -> u8 {
    let mut cmd = command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "inbound", &mut buf);
    write_out(&buf)
}

/// One page for the whole program: clap_mangen's own would point at an `inbound-add(1)` page
/// per command, which is not installed, and fill the exit codes into one paragraph. So its
/// sections are used up to the options, then the commands and the exit codes are written here.
pub fn man() -> u8 {
    let cmd = command();
    let man = clap_mangen::Man::new(cmd.clone());
    let mut buf = Vec::new();
    let sections = man
        .render_title(&mut buf)
        .and_then(|()| man.render_name_section(&mut buf))
        .and_then(|()| man.render_synopsis_section(&mut buf))
        .and_then(|()| man.render_description_section(&mut buf))
        .and_then(|()| man.render_options_section(&mut buf))
        .and_then(|()| commands_and_exit_codes(&cmd).to_writer(&mut buf))
        .and_then(|()| man.render_version_section(&mut buf));
    if sections.is_err() {
        return exit::FAILED;
    }
    write_out(&buf)
}

fn commands_and_exit_codes(cmd: &clap::Command) -> roff::Roff {
    use roff::{bold, italic, roman};
    let mut page = roff::Roff::new();
    page.control("SH", ["COMMANDS"]);
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        page.control("TP", []);
        page.text([bold(format!("inbound {}", sub.get_name()))]);
        if let Some(about) = sub.get_about().or_else(|| sub.get_long_about()) {
            page.text([roman(about.to_string())]);
        }
    }
    page.control("PP", []);
    page.text([
        roman("Each command's arguments and options: "),
        bold("inbound"),
        roman(" "),
        italic("COMMAND"),
        roman(" "),
        bold("--help"),
        roman("."),
    ]);
    page.control("SH", ["EXIT STATUS"]);
    // No fill: one code a line, as `inbound --help` prints them.
    page.control("nf", []);
    for line in super::EXIT_CODES.lines() {
        page.text([roman(line)]);
    }
    page.control("fi", []);
    page
}

fn write_out(bytes: &[u8]) -> u8 {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => exit::OK,
        Err(_) => exit::FAILED,
    }
}
