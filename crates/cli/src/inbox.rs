//! `inbox ...`: the durable inbox of `atoms-webhook-receiver` as a command.

use crate::cli::{GlobalArgs, InboxCmd};
use crate::error::CliError;

/// Runs an `inbox` subcommand.
pub fn run(_global: &GlobalArgs, _cmd: InboxCmd) -> Result<(), CliError> {
    Err(CliError::failure(
        "the inbox is not built into this binary yet",
    ))
}
