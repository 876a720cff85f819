//! `verify`: checks a saved delivery body against its signature, then parses it.

use std::io::Read;
use std::path::Path;

use atoms_webhook_models::verify::DEFAULT_MAX_BODY;
use atoms_webhook_models::{SigningSecret, Verifier, VerifyError, WebhookEvent};
use serde_json::json;

use crate::cli::{GlobalArgs, VerifyArgs};
use crate::error::CliError;
use crate::output;
use crate::receiver::verify_reason;

/// Runs `verify`.
pub fn run(global: &GlobalArgs, args: VerifyArgs) -> Result<(), CliError> {
    let body = read_body(&args.file)?;
    let checked = args.signature.is_some();
    let result = match (&args.secret, &args.signature) {
        // An empty --signature is what a script passes when the header was absent.
        (Some(_), Some(signature)) if signature.trim().is_empty() => {
            Err(VerifyError::MissingHeader)
        }
        (Some(secret), Some(signature)) => Verifier::new(SigningSecret::new(secret.as_str()))
            .map_err(|_| CliError::usage("--secret must not be empty"))?
            .verify_and_parse(&body, signature),
        // Only parsing: no secret is needed.
        _ => WebhookEvent::from_slice(&body).map_err(VerifyError::Parse),
    };
    match result {
        Ok(event) => {
            let call = event
                .call_id()
                .map_or_else(|| "-".to_owned(), |c| c.to_string());
            let kind = if event.is_unknown() {
                format!("unknown event type {:?}", event.event_type().as_str())
            } else {
                event.event_type().to_string()
            };
            if global.json {
                return output::json_pretty(&json!({
                    "valid": true,
                    "signatureChecked": checked,
                    "kind": if event.is_unknown() { "unknown".to_owned() } else { event.event_type().to_string() },
                    "eventType": event.event_type(),
                    "callId": event.call_id(),
                    "agentId": event.agent_id(),
                    "deliveryId": event.delivery_id(),
                }));
            }
            if checked {
                output::line(format!("valid: {kind} call {call}"))
            } else {
                output::line(format!(
                    "parsed: {kind} call {call} (signature not checked; pass --signature to verify it)"
                ))
            }
        }
        Err(e) => {
            let reason = match (&e, checked) {
                (VerifyError::Parse(p), false) => format!("unparseable: {p}"),
                (VerifyError::MissingHeader, _) => {
                    "missing signature: --signature is empty".to_owned()
                }
                _ => verify_reason(&e),
            };
            if global.json {
                output::json_pretty(&json!({
                    "valid": false,
                    "reason": reason_code(&e),
                    "message": reason,
                }))?;
            } else {
                output::line(format!("invalid: {reason}"))?;
            }
            Err(CliError::silent())
        }
    }
}

/// A stable word for scripts.
fn reason_code(e: &VerifyError) -> &'static str {
    match e {
        VerifyError::MissingHeader => "missing",
        VerifyError::MalformedHeader(_) => "malformed",
        VerifyError::Mismatch => "mismatch",
        VerifyError::Parse(_) => "unparseable",
        VerifyError::BodyTooLarge { .. } => "too-large",
        _ => "invalid",
    }
}

/// The body from a file or stdin, refused past the receiver's default limit.
fn read_body(path: &Path) -> Result<Vec<u8>, CliError> {
    let limit = DEFAULT_MAX_BODY as u64;
    let mut body = Vec::new();
    let (name, read) = if path.as_os_str() == "-" {
        let stdin = std::io::stdin();
        let mut lock = stdin.lock();
        (
            "stdin".to_owned(),
            (&mut lock).take(limit + 1).read_to_end(&mut body),
        )
    } else {
        match std::fs::File::open(path) {
            Ok(f) => (
                path.display().to_string(),
                f.take(limit + 1).read_to_end(&mut body),
            ),
            Err(e) => {
                return Err(CliError::failure(format!(
                    "cannot read {}: {e}",
                    path.display()
                )))
            }
        }
    };
    read.map_err(|e| CliError::failure(format!("cannot read {name}: {e}")))?;
    if body.len() as u64 > limit {
        return Err(CliError::failure(format!(
            "{name} is over the {limit}-byte limit of a delivery body"
        )));
    }
    Ok(body)
}
