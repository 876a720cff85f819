//! Running the emulator as a program: the one implementation of argument handling, logging and
//! shutdown behind both `atoms-webhook-emulator` (this crate's binary) and `atoms-webhook
//! emulate` (the CLI, which flattens [`ServeArgs`] into its own command and passes its global
//! `--api-key`).
//!
//! ```no_run
//! use atoms_webhook_emulator::run::{self, ServeArgs};
//! use clap::Parser;
//!
//! #[derive(Parser)]
//! struct Cli {
//!     #[command(flatten)]
//!     serve: ServeArgs,
//!     #[arg(long)]
//!     api_key: Option<String>,
//! }
//!
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let cli = Cli::parse();
//! run::init_logging(Some("info"));
//! let key = run::ApiKeyChoice::from_given(cli.api_key.as_deref());
//! let emulator = run::start(&cli.serve, &key).await?;
//! println!("{}", run::banner(&emulator, &key));
//! run::until_stopped(emulator).await;
//! # Ok(()) }
//! ```

use std::io::IsTerminal;
use std::net::SocketAddr;

use atoms_webhook_models::ids::is_object_id;

use crate::{Emulator, EmulatorError, DEFAULT_API_KEY};

/// The arguments of a running emulator (everything but the API key, which each program takes
/// its own way: the binary has `--api-key`, the CLI a global `--api-key`; both also read
/// `SMALLEST_API_KEY`).
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// The address to listen on (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    pub listen: SocketAddr,

    /// Seed a named agent: `--agent 60d0fe4f5311236168a109ca="Support bot"`. Repeatable.
    #[arg(long = "agent", value_name = "ID=NAME", value_parser = parse_agent)]
    pub agents: Vec<(String, String)>,
}

/// `ID=NAME`, the id 24 hexadecimal characters.
fn parse_agent(s: &str) -> Result<(String, String), String> {
    let (id, name) = s
        .split_once('=')
        .ok_or_else(|| "expected ID=NAME".to_owned())?;
    if !is_object_id(id) {
        return Err("the agent ID must be 24 hexadecimal characters".to_owned());
    }
    Ok((id.to_owned(), name.to_owned()))
}

/// The API key the emulator accepts, and whether the user chose it. `Debug` hides the key.
#[derive(Clone)]
pub struct ApiKeyChoice {
    key: String,
    given: bool,
}

impl std::fmt::Debug for ApiKeyChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKeyChoice")
            .field("key", &"[redacted]")
            .field("given", &self.given)
            .finish()
    }
}

impl ApiKeyChoice {
    /// The key given (trimmed), or [`DEFAULT_API_KEY`] when none or an empty one was.
    pub fn from_given(given: Option<&str>) -> Self {
        match given.map(str::trim).filter(|k| !k.is_empty()) {
            Some(key) => Self {
                key: key.to_owned(),
                given: true,
            },
            None => Self {
                key: DEFAULT_API_KEY.to_owned(),
                given: false,
            },
        }
    }

    /// The key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// True when the user chose the key (it is then never printed).
    pub fn is_given(&self) -> bool {
        self.given
    }
}

/// The line that says the emulator serves: its URL and which key it accepts. The default key
/// is public knowledge; a key the user chose is not printed.
pub fn banner(emulator: &Emulator, key: &ApiKeyChoice) -> String {
    let accepting = if key.is_given() {
        "the API key of --api-key / SMALLEST_API_KEY".to_owned()
    } else {
        format!("API key {DEFAULT_API_KEY}")
    };
    format!(
        "Atoms emulator listening on {} (accepting {accepting}); Ctrl-C stops it",
        emulator.url()
    )
}

/// Starts an emulator with these arguments on the current tokio runtime.
pub async fn start(args: &ServeArgs, key: &ApiKeyChoice) -> Result<Emulator, EmulatorError> {
    let mut builder = Emulator::builder().api_key(key.key()).listen(args.listen);
    for (id, name) in &args.agents {
        builder = builder.agent(id.as_str(), name.as_str(), "");
    }
    builder.start().await
}

/// Waits for Ctrl-C (or SIGTERM on Unix), then stops the emulator and waits for it to end.
pub async fn until_stopped(emulator: Emulator) {
    stop_signal().await;
    tracing::info!("stopping");
    // `shutdown` waits on a worker of a multi-thread runtime (or returns at once on a
    // current-thread one): fine here, nothing else runs.
    emulator.shutdown();
    tracing::info!("stopped");
}

/// Resolves on Ctrl-C, or SIGTERM on Unix. A signal that cannot be listened for is logged
/// and never fires.
pub async fn stop_signal() {
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

/// Crates whose logs are never shown, whatever `RUST_LOG` says: HTTP and TLS libraries log raw
/// requests (the `Authorization` header included) and bodies at trace level.
const QUIET: [&str; 7] = [
    "ureq",
    "ureq_proto",
    "rustls",
    "reqwest",
    "hyper",
    "hyper_util",
    "h2",
];

/// Installs the process's tracing subscriber: to stderr, filtered by `RUST_LOG`, or by
/// `default` when `RUST_LOG` is unset or empty (`None`: then nothing is logged and nothing is
/// installed). Colours only on a terminal and without a non-empty `NO_COLOR`. The HTTP libraries are
/// switched off by name (ureq, rustls, reqwest, hyper, h2) and no bridge from the `log` crate is installed. Does
/// nothing when a subscriber is already set.
pub fn init_logging(default: Option<&str>) {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::EnvFilter;

    let from_env = std::env::var("RUST_LOG")
        .ok()
        .filter(|v| !v.trim().is_empty());
    let Some(directives) = from_env.or_else(|| default.map(str::to_owned)) else {
        return;
    };
    let mut filter = EnvFilter::try_new(&directives).unwrap_or_else(|_| EnvFilter::new("warn"));
    for quiet in QUIET {
        if let Ok(directive) = format!("{quiet}=off").parse() {
            filter = filter.add_directive(directive);
        }
    }
    // https://no-color.org: a non-empty NO_COLOR turns colours off.
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let colour = std::io::stderr().is_terminal() && !no_color;
    let subscriber = tracing_subscriber::registry().with(filter).with(
        tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_ansi(colour),
    );
    // Refused only when a subscriber is already installed, which is then kept.
    let _ = tracing::subscriber::set_global_default(subscriber);
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        serve: ServeArgs,
    }

    #[test]
    fn arguments() {
        let cli = Cli::try_parse_from(["x"]).unwrap();
        assert_eq!(cli.serve.listen, "127.0.0.1:8080".parse().unwrap());
        let cli = Cli::try_parse_from([
            "x",
            "--listen",
            "127.0.0.1:0",
            "--agent",
            "60d0fe4f5311236168a109ca=Support bot",
        ])
        .unwrap();
        assert_eq!(
            cli.serve.agents,
            [(
                "60d0fe4f5311236168a109ca".to_owned(),
                "Support bot".to_owned()
            )]
        );
        for bad in ["nope=Name", "60d0fe4f5311236168a109ca"] {
            assert!(Cli::try_parse_from(["x", "--agent", bad]).is_err(), "{bad}");
        }
    }

    #[test]
    fn key_choice() {
        let k = ApiKeyChoice::from_given(Some("  sk-1 "));
        assert_eq!((k.key(), k.is_given()), ("sk-1", true));
        assert!(!format!("{k:?}").contains("sk-1"));
        for none in [None, Some(""), Some("  ")] {
            let k = ApiKeyChoice::from_given(none);
            assert_eq!((k.key(), k.is_given()), (DEFAULT_API_KEY, false));
        }
    }
}
