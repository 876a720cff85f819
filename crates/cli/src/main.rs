//! `atoms-webhook`: manage the webhooks of Smallest.ai Atoms voice agents, and trigger, listen
//! for, verify and emulate their signed deliveries.
//!
//! Exit status: 0 on success, 1 when the API or a verification says no (or anything else
//! fails at run time), 2 for a usage error. Every failure prints exactly one line on stderr.
//! `RUST_LOG` turns on tracing to stderr (off by default); it never carries secrets or bodies.
#![forbid(unsafe_code)]

mod cli;
mod demo;
mod demo_lost;
mod emulate;
mod error;
mod inbox;
mod listen;
mod manage;
mod output;
mod receiver;
mod term;
mod trigger;
mod verify;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::error::CliError;

fn main() -> ExitCode {
    install_panic_hook();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return clap_exit(e),
    };
    init_tracing();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => e.report(),
    }
}

/// Dispatches to the subcommand.
fn run(cli: Cli) -> Result<(), CliError> {
    let global = cli.global;
    match cli.command {
        Command::Webhooks(cmd) => manage::webhooks(&global, cmd),
        Command::Subscriptions(cmd) => manage::subscriptions(&global, cmd),
        Command::Secret(args) => manage::secret(&global, args),
        Command::Verify(args) => verify::run(&global, args),
        Command::Listen(args) => listen::run(&global, args),
        Command::Trigger(args) => trigger::run(&global, args),
        Command::Emulate(args) => emulate::run(&global, args),
        Command::Demo(args) => demo::run(&global, args),
        Command::Inbox(cmd) => inbox::run(&global, cmd),
    }
}

/// Help and version go to stdout with status 0, as clap does. A usage error is printed on one
/// line (clap's own rendering spans several) and exits with 2.
fn clap_exit(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            // Printing help can only fail on a closed pipe; nothing is left to report then.
            let _ = e.print();
            if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            }
        }
        _ => CliError::usage(one_line_clap_error(&e)).report(),
    }
}

/// The problem part of a clap error as one line: the lines before the usage block, joined.
fn one_line_clap_error(e: &clap::Error) -> String {
    let rendered = e.render().to_string();
    let mut parts: Vec<&str> = Vec::new();
    for line in rendered.lines() {
        let line = line.trim();
        if line.starts_with("Usage:") || line.starts_with("For more information") {
            break;
        }
        if !line.is_empty() {
            parts.push(line);
        }
    }
    let text = parts.join(" ");
    let text = text.strip_prefix("error: ").unwrap_or(&text);
    format!("{text} (see --help)")
}

/// `RUST_LOG` turns tracing on, to stderr; without it nothing is logged. The implementation
/// is the emulator's (shared with its binary): only `tracing` events are shown, no bridge from
/// the `log` crate is installed (ureq logs raw request bytes, the `Authorization` header
/// included, and bodies at trace level), and the HTTP libraries are switched off by name
/// whatever `RUST_LOG` says.
fn init_tracing() {
    atoms_webhook_emulator::run::init_logging(None);
}

/// The last resort: a panic prints one line and exits with 1, never a backtrace.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let payload = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_owned());
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let line = format!("{payload}{at}").replace(['\n', '\r'], " ");
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "error: internal error (this is a bug): {line}");
        let _ = err.flush();
        std::process::exit(1);
    }));
}
