//! `cargo xtask`: project automation for the atoms-webhook workspace.
//!
//! Run as `cargo xtask <command> [options]` (the alias lives in
//! `.cargo/config.toml`). Every subcommand is a module exposing one
//! [`cli::Command`]; dispatch, usage text and exit codes are shared:
//!
//! * 0: success,
//! * 1: the command failed (`error: ...` on stderr) or found drift,
//! * 2: bad arguments or unknown subcommand (usage on stderr).
//!
//! To add a subcommand, write `src/<name>.rs` (or `src/<name>/mod.rs`) with a
//! `pub const COMMAND: cli::Command`, declare the module below and append
//! the constant to [`COMMANDS`].

use std::process::ExitCode;

mod cli;
mod compare;
mod fixtures;

/// Every subcommand `cargo xtask` knows, in the order the usage lists them.
const COMMANDS: &[cli::Command] = &[fixtures::COMMAND, compare::COMMAND];

fn main() -> ExitCode {
    cli::dispatch(COMMANDS, std::env::args().skip(1).collect())
}
