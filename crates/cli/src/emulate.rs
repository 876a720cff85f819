//! `emulate`: the Atoms webhook API emulator, until Ctrl-C.

use atoms_webhook_emulator::{Emulator, DEFAULT_API_KEY};
use serde_json::json;

use crate::cli::{EmulateArgs, GlobalArgs};
use crate::error::{chain, CliError};
use crate::listen::{runtime, stop_signal};
use crate::output;

/// Runs `emulate`.
pub fn run(global: &GlobalArgs, args: EmulateArgs) -> Result<(), CliError> {
    let given = global
        .api_key
        .as_deref()
        .map(str::trim)
        .filter(|k| !k.is_empty());
    let key = given.unwrap_or(DEFAULT_API_KEY).to_owned();
    let runtime = runtime()?;
    runtime.block_on(async move {
        let emulator = Emulator::builder()
            .api_key(key.as_str())
            .listen(args.listen)
            .start()
            .await
            .map_err(|e| CliError::failure(format!("cannot start the emulator: {}", chain(&e))))?;
        if global.json {
            output::json_line(&json!({ "url": emulator.url(), "event": "listening" }))?;
        } else {
            // The default key is public knowledge; a key the user chose is not printed.
            let key_note = if given.is_some() {
                "the API key of --api-key / SMALLEST_API_KEY".to_owned()
            } else {
                format!("API key {DEFAULT_API_KEY}")
            };
            output::line(format!(
                "emulator listening on {} (accepting {key_note}); Ctrl-C stops it",
                emulator.url()
            ))?;
        }
        stop_signal().await;
        emulator.shutdown();
        Ok::<(), CliError>(())
    })
}
