//! `ir_per_request`: N sequential `get_webhook` calls with one async client, for counting
//! instructions under callgrind (wall-clock figures are noisy on a shared machine; instruction
//! counts are not).
//!
//! ```text
//! ir_per_request sdk|raw N
//! ```
//!
//! Starts the emulator in-process (on its own threads) and, on the main thread, a current-thread
//! tokio runtime like `measure`'s, makes one warm-up call (connection, pool, first-use
//! allocations), then `N` calls in a row. Run it under
//! `valgrind --tool=callgrind --separate-threads=yes` for two values of `N`: the difference of the
//! main thread's `Ir` divided by the difference of `N` is the client's instructions per request,
//! without the set-up and without the emulator (which runs on other threads).

use std::hint::black_box;
use std::process::ExitCode;

use atoms_webhook_bench::server::Server;
use atoms_webhook_bench::BoxError;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(which), Some(Ok(n))) = (args.next(), args.next().map(|n| n.parse::<u64>())) else {
        eprintln!("usage: ir_per_request sdk|raw N");
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
    match which {
        "sdk" => {
            let sdk = server.async_sdk()?;
            rt.block_on(async {
                sdk.get_webhook(id.clone()).await?;
                for _ in 0..n {
                    black_box(sdk.get_webhook(id.clone()).await?);
                }
                Ok::<_, BoxError>(())
            })?;
        }
        "raw" => {
            let raw = server.async_raw();
            rt.block_on(async {
                raw.get_webhook().await?;
                for _ in 0..n {
                    black_box(raw.get_webhook().await?);
                }
                Ok::<_, BoxError>(())
            })?;
        }
        other => return Err(format!("unknown client `{other}` (sdk or raw)").into()),
    }
    drop(rt);
    server.emulator.shutdown();
    Ok(())
}
