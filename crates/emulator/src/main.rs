//! `atoms-webhook-emulator`: runs the Atoms webhook API emulator until Ctrl-C or SIGTERM.
//!
//! Prints `Atoms emulator listening on http://HOST:PORT` on stdout once it serves; logs one
//! line per request (method, path, status) on stderr, filtered by `RUST_LOG` (default `info`).

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::process::ExitCode;

use atoms_webhook_emulator::{Emulator, DEFAULT_API_KEY};
use atoms_webhook_models::ids::is_object_id;
use clap::Parser;
use tracing_subscriber::EnvFilter;

/// A local, in-memory Atoms webhook API.
#[derive(Debug, Parser)]
#[command(name = "atoms-webhook-emulator", version, about)]
struct Args {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,

    /// API key clients must send as `Authorization: Bearer <key>`.
    #[arg(long, env = "SMALLEST_API_KEY", default_value = DEFAULT_API_KEY, hide_env_values = true)]
    api_key: String,

    /// Seed a named agent: `--agent 60d0fe4f5311236168a109ca="Support bot"`. Repeatable.
    #[arg(long = "agent", value_name = "ID=NAME", value_parser = parse_agent)]
    agents: Vec<(String, String)>,
}

fn parse_agent(s: &str) -> Result<(String, String), String> {
    let (id, name) = s
        .split_once('=')
        .ok_or_else(|| "expected ID=NAME".to_owned())?;
    if !is_object_id(id) {
        return Err("the agent ID must be 24 hexadecimal characters".to_owned());
    }
    Ok((id.to_owned(), name.to_owned()))
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    // `set_global_default`, not `init()`: `init()` would also forward the `log` crate's records,
    // and HTTP libraries log raw requests and bodies there at trace level.
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .finish();
    let _ = tracing::subscriber::set_global_default(subscriber);

    let mut builder = Emulator::builder()
        .api_key(args.api_key)
        .listen(args.listen);
    for (id, name) in args.agents {
        builder = builder.agent(id, name, "");
    }
    let emulator = match builder.start().await {
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
    let printed =
        writeln!(out, "Atoms emulator listening on {}", emulator.url()).and_then(|()| out.flush());
    drop(out);
    if let Err(e) = printed {
        tracing::warn!("could not write the listening line to stdout: {e}");
    }

    wait_for_stop_signal().await;
    tracing::info!("stopping");
    emulator.shutdown();
    tracing::info!("stopped");
    ExitCode::SUCCESS
}

/// Ctrl-C, or SIGTERM on Unix.
async fn wait_for_stop_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!("cannot listen for Ctrl-C: {e}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!("cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
