//! `emulate`: the Atoms webhook API emulator, until Ctrl-C. Arguments, start, banner and
//! shutdown are `atoms_webhook_emulator::run`'s, shared with the `atoms-webhook-emulator`
//! binary; the key is the global `--api-key`.

use atoms_webhook_emulator::run::{self, ApiKeyChoice};
use serde_json::json;

use crate::cli::{EmulateArgs, GlobalArgs};
use crate::error::{chain, CliError};
use crate::listen::runtime;
use crate::output;

/// Runs `emulate`.
pub fn run(global: &GlobalArgs, args: EmulateArgs) -> Result<(), CliError> {
    let key = ApiKeyChoice::from_given(global.api_key.as_deref());
    let runtime = runtime()?;
    runtime.block_on(async move {
        let emulator = run::start(&args.serve, &key)
            .await
            .map_err(|e| CliError::failure(format!("cannot start the emulator: {}", chain(&e))))?;
        if global.json {
            output::json_line(&json!({ "url": emulator.url(), "event": "listening" }))?;
        } else {
            output::line(run::banner(&emulator, &key))?;
        }
        run::until_stopped(emulator).await;
        Ok::<(), CliError>(())
    })
}
