//! `trigger`: sends signed sample deliveries of one simulated call to any endpoint.

use atoms_webhook_models::testkit::{CallOptions, SampleCall};
use atoms_webhook_models::{sign, EventType, SigningSecret, SIGNATURE_HEADER};
use http::StatusCode;
use serde_json::json;

use crate::cli::{flatten_events, GlobalArgs, TriggerArgs};
use crate::error::{chain, one_line, CliError};
use crate::listen::DEFAULT_FORWARD_TIMEOUT;
use crate::output::{self, Style};
use crate::receiver::http_agent;

/// The description the sample deliveries carry.
const DESCRIPTION: &str = "atoms-webhook trigger";

/// Runs `trigger`.
pub fn run(global: &GlobalArgs, args: TriggerArgs) -> Result<(), CliError> {
    atoms_webhook_transport::validate::http_url("--url", &args.url)
        .map_err(|e| CliError::usage(e.to_string()))?;
    if args.secret.is_empty() {
        return Err(CliError::usage("--secret must not be empty"));
    }
    let secret = SigningSecret::new(args.secret.as_str());
    let wanted = flatten_events(&args.events);
    let mut opts = CallOptions::new();
    if let Some(agent) = &args.agent {
        opts = opts.agent_id(agent.as_str());
    }
    let agent = http_agent(global.timeout.unwrap_or(DEFAULT_FORWARD_TIMEOUT));
    let style = Style::stdout();
    let (mut sent, mut failed) = (0usize, 0usize);
    // The three events of one call, in delivery order; only the wanted ones are sent, as the
    // generator wrote them.
    let call = SampleCall::generate(&opts);
    let bodies = call.bodies(&args.url, DESCRIPTION);
    for (n, (event_type, body)) in EventType::ALL.into_iter().zip(bodies).enumerate() {
        if !wanted.contains(&event_type) {
            continue;
        }
        let delivery_id = call.delivery_id(n as u64);
        let signature = sign(&secret, &body);
        sent += 1;
        let result = agent
            .post(args.url.as_str())
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, signature.as_str())
            .send(&body[..]);
        let (ok, status, error) = match result {
            Ok(response) => {
                let status = response.status();
                (status.is_success(), Some(status), None)
            }
            Err(e) => (false, None, Some(one_line(&chain(&e)))),
        };
        if !ok {
            failed += 1;
        }
        tracing::info!(%event_type, status = status.map(|s| s.as_u16()), "trigger");
        if global.json {
            output::json_line(&json!({
                "kind": event_type.as_str(),
                "callId": call.call_id.as_str(),
                "deliveryId": delivery_id.as_str(),
                "status": status.map(|s| s.as_u16()),
                "ok": ok,
                "error": error,
            }))?;
        } else {
            let outcome = match (status, &error) {
                (Some(s), _) => status_text(s),
                (None, Some(e)) => format!("failed: {e}"),
                (None, None) => "failed".to_owned(),
            };
            let outcome = if ok {
                style.green(&outcome)
            } else {
                style.red(&outcome)
            };
            output::line(format!(
                "{:<20} call {}  -> {outcome}",
                event_type.as_str(),
                call.call_id,
            ))?;
        }
    }
    if failed > 0 {
        return Err(CliError::failure(format!(
            "{failed} of {sent} deliveries to {} failed",
            args.url
        )));
    }
    Ok(())
}

/// `200 OK`.
fn status_text(s: StatusCode) -> String {
    format!("{} {}", s.as_u16(), s.canonical_reason().unwrap_or(""))
        .trim_end()
        .to_owned()
}
