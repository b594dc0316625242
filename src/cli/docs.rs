//! Shell completions and the manual page, generated from the same clap definitions as the
//! parser, so they cannot drift from the commands.

use super::{Cli, exit};
use clap::CommandFactory;
use std::io::Write;

pub fn completions(shell: clap_complete::Shell) -> u8 {
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "inbound", &mut buf);
    write_out(&buf)
}

pub fn man() -> u8 {
    let mut buf = Vec::new();
    if clap_mangen::Man::new(Cli::command()).render(&mut buf).is_err() {
        return exit::FAILED;
    }
    write_out(&buf)
}

fn write_out(bytes: &[u8]) -> u8 {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => exit::OK,
        Err(_) => exit::FAILED,
    }
}
