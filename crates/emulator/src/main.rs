//! `atoms-webhook-emulator`: runs the Atoms webhook API emulator until Ctrl-C or SIGTERM.
//!
//! Prints `Atoms emulator listening on http://HOST:PORT ...` on stdout once it serves; logs
//! one line per request (method, path, status) on stderr, filtered by `RUST_LOG` (default
//! `info`). Arguments, logging and shutdown are [`atoms_webhook_emulator::run`]'s, shared with
//! `atoms-webhook emulate`.

use std::io::Write;
use std::process::ExitCode;

use atoms_webhook_emulator::run::{self, ApiKeyChoice, ServeArgs};
use clap::Parser;

/// A local, in-memory Atoms webhook API.
#[derive(Debug, Parser)]
#[command(name = "atoms-webhook-emulator", version, about)]
struct Args {
    #[command(flatten)]
    serve: ServeArgs,

    /// API key clients must send as `Authorization: Bearer <key>` (default `test-api-key`).
    #[arg(
        long,
        env = "SMALLEST_API_KEY",
        hide_env_values = true,
        value_name = "KEY"
    )]
    api_key: Option<String>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    run::init_logging(Some("info"));
    let key = ApiKeyChoice::from_given(args.api_key.as_deref());
    let emulator = match run::start(&args.serve, &key).await {
        Ok(e) => e,
        Err(e) => {
            let mut msg = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                msg.push_str(&format!(": {s}"));
                source = s.source();
            }
            eprintln!("error: {msg}");
            return ExitCode::FAILURE;
        }
    };
    let mut out = std::io::stdout().lock();
    let printed = writeln!(out, "{}", run::banner(&emulator, &key)).and_then(|()| out.flush());
    drop(out);
    if let Err(e) = printed {
        tracing::warn!("could not write the listening line to stdout: {e}");
    }
    run::until_stopped(emulator).await;
    ExitCode::SUCCESS
}
