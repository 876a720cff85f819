//! `ir_per_request`: N sequential `get_webhook` calls with one async client, for counting
//! instructions under callgrind (wall-clock figures are noisy on a shared machine; instruction
//! counts are not).
//!
//! ```text
//! ir_per_request sdk|raw|raw-timeout|raw-sdk-client N
//! ```
//!
//! `raw-timeout` is the raw reqwest baseline with the SDK's 30 s total timeout on its client:
//! what a per-request timer costs by itself. `raw-sdk-client` is the raw baseline on a reqwest
//! client built as `Client::new` builds it (connect timeout, total timeout, no redirects). Each run also prints the wall-clock time per
//! call on stderr (noisy on a shared machine; instruction counts are the figure to compare).
//!
//! Starts the emulator in-process (on its own threads) and, on the main thread, a current-thread
//! tokio runtime like `measure`'s, makes one warm-up call (connection, pool, first-use
//! allocations), then `N` calls in a row. Run it under
//! `valgrind --tool=callgrind --separate-threads=yes` for two values of `N`: the difference of the
//! main thread's `Ir` divided by the difference of `N` is the client's instructions per request,
//! without the set-up and without the emulator (which runs on other threads).

use std::hint::black_box;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use atoms_webhook_async::reqwest;
use atoms_webhook_bench::raw::RawAsync;
use atoms_webhook_bench::server::{Server, API_KEY};
use atoms_webhook_bench::BoxError;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(which), Some(Ok(n))) = (args.next(), args.next().map(|n| n.parse::<u64>())) else {
        eprintln!("usage: ir_per_request sdk|raw|raw-timeout|raw-sdk-client N");
        return ExitCode::from(2);
    };
    match run(&which, n) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(which: &str, n: u64) -> Result<(), BoxError> {
    let server = Server::start()?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let id = server.webhook_id.clone();
    let elapsed = match which {
        "sdk" => {
            let sdk = server.async_sdk()?;
            rt.block_on(async {
                sdk.get_webhook(id.clone()).await?;
                let start = Instant::now();
                for _ in 0..n {
                    black_box(sdk.get_webhook(id.clone()).await?);
                }
                Ok::<_, BoxError>(start.elapsed())
            })?
        }
        "raw" | "raw-timeout" | "raw-sdk-client" => {
            let config = atoms_webhook_bench::server::sdk_config(&server.url());
            let raw = match which {
                "raw" => server.async_raw(),
                "raw-timeout" => {
                    let client = reqwest::Client::builder()
                        .timeout(Duration::from_secs(30))
                        .build()?;
                    RawAsync::with_client(client, &server.url(), API_KEY, &id)
                }
                _ => {
                    let client = reqwest::Client::builder()
                        .connect_timeout(config.connect_timeout)
                        .timeout(config.timeout)
                        .redirect(reqwest::redirect::Policy::none())
                        .build()?;
                    RawAsync::with_client(client, &server.url(), API_KEY, &id)
                }
            };
            rt.block_on(async {
                raw.get_webhook().await?;
                let start = Instant::now();
                for _ in 0..n {
                    black_box(raw.get_webhook().await?);
                }
                Ok::<_, BoxError>(start.elapsed())
            })?
        }
        other => {
            return Err(format!(
                "unknown client `{other}` (sdk, raw, raw-timeout or raw-sdk-client)"
            )
            .into())
        }
    };
    if n > 0 {
        eprintln!(
            "{which}: {:.2} µs per call",
            elapsed.as_secs_f64() * 1e6 / n as f64
        );
    }
    drop(rt);
    server.emulator.shutdown();
    Ok(())
}
