//! `listen`: the local receiver, until Ctrl-C.

use std::time::Duration;

use atoms_webhook_models::{SigningSecret, Verifier};

use crate::cli::{GlobalArgs, ListenArgs};
use crate::error::CliError;
use crate::output;
use crate::receiver::{Forward, Receiver};

/// How long a forward may take when `--timeout` is not given.
pub const DEFAULT_FORWARD_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs `listen`.
pub fn run(global: &GlobalArgs, args: ListenArgs) -> Result<(), CliError> {
    let verifier = verifier(&args.secrets)?.max_body(args.max_body);
    let forward = match &args.forward {
        Some(url) => {
            atoms_webhook_transport::validate::http_url("--forward", url)
                .map_err(|e| CliError::usage(e.to_string()))?;
            Some(Forward::new(
                url.as_str(),
                global.timeout.unwrap_or(DEFAULT_FORWARD_TIMEOUT),
            ))
        }
        None => None,
    };
    let router = Receiver::new(verifier, global.json)
        .forward(forward)
        .router();
    let runtime = runtime()?;
    runtime.block_on(async move {
        let (listener, addr) = bind(&args.host, args.port).await?;
        output::line(format!("listening on http://{addr}"))?;
        axum::serve(listener, router)
            .with_graceful_shutdown(stop_signal())
            .await
            .map_err(|e| CliError::failure(format!("the receiver stopped: {e}")))
    })?;
    // Give in-flight handlers no more time: the signal asked to stop.
    runtime.shutdown_timeout(Duration::from_millis(200));
    Ok(())
}

/// A verifier for every `--secret`; an empty one is a usage error.
pub fn verifier(secrets: &[String]) -> Result<Verifier, CliError> {
    Verifier::with_secrets(secrets.iter().map(|s| SigningSecret::new(s.as_str())))
        .map_err(|_| CliError::usage("--secret must not be empty"))
}

/// A listener on `host:port` (port 0: a free one) and the address it got.
pub async fn bind(
    host: &str,
    port: u16,
) -> Result<(tokio::net::TcpListener, std::net::SocketAddr), CliError> {
    let listener = tokio::net::TcpListener::bind((host, port))
        .await
        .map_err(|e| CliError::failure(format!("cannot listen on {host}:{port}: {e}")))?;
    let addr = listener
        .local_addr()
        .map_err(|e| CliError::failure(format!("cannot read the listening address: {e}")))?;
    Ok((listener, addr))
}

/// A small multi-thread runtime (the machine may be shared; two workers are plenty).
pub fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::failure(format!("cannot start the async runtime: {e}")))
}

/// Resolves on Ctrl-C, or SIGTERM on Unix (the emulator's implementation, shared).
pub async fn stop_signal() {
    atoms_webhook_emulator::run::stop_signal().await;
}
