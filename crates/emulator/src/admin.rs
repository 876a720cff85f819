//! Emulator-only routes under `/_emulator/`: simulate a call, read or clear the delivery log,
//! enable or disable a webhook. They need the same Bearer key as the API, but are not API
//! operations: no hit counting, no injected faults.
//!
//! | method | path | body / query | success `data` |
//! |---|---|---|---|
//! | POST | /_emulator/calls | call options (below) | a [`CallReport`](crate::CallReport); HTTP 201 |
//! | GET | /_emulator/deliveries | optional `callId`, `webhookId` | array of [`DeliveryRecord`](crate::DeliveryRecord) |
//! | DELETE | /_emulator/deliveries | none | a message |
//! | POST | /_emulator/webhooks/{id}/status | `{"status": "enabled"\|"disabled"}` | the webhook id |
//!
//! Call options: `agentId` (required, 24 hex), and optionally `fromNumber`, `toNumber`,
//! `direction` (`outbound`/`inbound`), `callStatus`, `turns` (0 to 200), `callId`,
//! `variables` (object), `duration` (seconds, 0 to 86400). `null` means the default.

use std::sync::Arc;

use atoms_webhook_models::{ids::is_object_id, AgentId, CallId, Variables, WebhookStatus};
use axum::{
    body::Bytes,
    extract::{rejection::PathRejection, Path, RawQuery, State as AxState},
    http::StatusCode,
    middleware::from_fn_with_state,
    routing::{get, post},
    Router,
};
use serde_json::{Map, Value};

use crate::api::{
    json_object, ok, path_webhook_id, Answer, ApiError, SharedState, MSG_INVALID_AGENT_ID,
};
use crate::delivery;
use crate::sample::{CallOptions, Direction, MAX_DURATION, MAX_TURNS};
use crate::server::require_key;
use crate::shared::Shared;
use crate::validate::shown;

/// Route of call simulation.
pub(crate) const CALLS: &str = "/_emulator/calls";
/// Route of the delivery log.
pub(crate) const DELIVERIES: &str = "/_emulator/deliveries";
/// Route of a webhook's status.
pub(crate) const WEBHOOK_STATUS: &str = "/_emulator/webhooks/{id}/status";

/// The fields `POST /_emulator/calls` accepts.
const CALL_FIELDS: [&str; 9] = [
    "agentId",
    "fromNumber",
    "toNumber",
    "direction",
    "callStatus",
    "turns",
    "callId",
    "variables",
    "duration",
];

/// The emulator-only routes, each behind the Bearer key check.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(CALLS, post(simulate_call))
        .route(DELIVERIES, get(list_deliveries).delete(clear_deliveries))
        .route(WEBHOOK_STATUS, post(set_webhook_status))
        .route_layer(from_fn_with_state(shared.clone(), require_key))
        .with_state(shared)
}

/// `POST /_emulator/calls`: answers once every delivery has ended.
async fn simulate_call(AxState(shared): SharedState, body: Bytes) -> Answer {
    let obj = json_object(&body)?;
    let opts = call_options(&obj).map_err(ApiError::bad_request)?;
    let report = delivery::run_call(&shared, &opts).await;
    Ok(ok(StatusCode::CREATED, report))
}

/// `GET /_emulator/deliveries[?callId=][&webhookId=]`.
async fn list_deliveries(AxState(shared): SharedState, RawQuery(query): RawQuery) -> Answer {
    let (mut call_id, mut webhook_id) = (None, None);
    for (key, value) in url::form_urlencoded::parse(query.as_deref().unwrap_or("").as_bytes()) {
        match &*key {
            "callId" => call_id = Some(value.into_owned()),
            "webhookId" => webhook_id = Some(value.into_owned()),
            _ => {}
        }
    }
    let records: Vec<_> = shared
        .deliverer()
        .records()
        .into_iter()
        .filter(|r| call_id.as_deref().is_none_or(|c| r.call_id == c))
        .filter(|r| webhook_id.as_deref().is_none_or(|w| r.webhook_id == w))
        .collect();
    Ok(ok(StatusCode::OK, records))
}

/// `DELETE /_emulator/deliveries`.
async fn clear_deliveries(AxState(shared): SharedState) -> Answer {
    shared.deliverer().clear();
    Ok(ok(StatusCode::OK, "Delivery log cleared"))
}

/// `POST /_emulator/webhooks/{id}/status`.
async fn set_webhook_status(
    AxState(shared): SharedState,
    path: Result<Path<String>, PathRejection>,
    body: Bytes,
) -> Answer {
    let id = path_webhook_id(path)?;
    let obj = json_object(&body)?;
    const MSG: &str = "status must be \"enabled\" or \"disabled\"";
    let status = match obj.get("status") {
        None => return Err(ApiError::new(StatusCode::BAD_REQUEST, "status is required")),
        Some(Value::String(s)) => match WebhookStatus::parse(s) {
            WebhookStatus::Unknown(_) => return Err(ApiError::new(StatusCode::BAD_REQUEST, MSG)),
            known => known,
        },
        Some(_) => return Err(ApiError::new(StatusCode::BAD_REQUEST, MSG)),
    };
    if let Some(other) = obj.keys().find(|k| *k != "status") {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("unknown field {}; only status is accepted", shown(other)),
        ));
    }
    shared.state().set_webhook_status(&id, status)?;
    Ok(ok(StatusCode::OK, id))
}

/// The call options of a `POST /_emulator/calls` body, or one message per problem. Messages
/// never quote values (variables may hold personal data).
fn call_options(obj: &Map<String, Value>) -> Result<CallOptions, Vec<String>> {
    let mut errors = Vec::new();
    for key in obj.keys() {
        if !CALL_FIELDS.contains(&key.as_str()) {
            errors.push(format!(
                "unknown field {}; the fields are {}",
                shown(key),
                CALL_FIELDS.join(", ")
            ));
        }
    }
    let mut opts = CallOptions::new();
    let field = |key: &str| obj.get(key).filter(|v| !v.is_null());

    match obj.get("agentId") {
        None | Some(Value::Null) => errors.push("agentId is required".to_owned()),
        Some(Value::String(s)) if is_object_id(s) => opts.agent_id = AgentId::new(s.as_str()),
        Some(Value::String(_)) => errors.push(MSG_INVALID_AGENT_ID.to_owned()),
        Some(_) => errors.push("agentId must be a string".to_owned()),
    }
    for key in ["fromNumber", "toNumber"] {
        let number = match field(key) {
            None => continue,
            Some(Value::String(s)) if is_short_text(s, 32) => s.clone(),
            Some(_) => {
                errors.push(format!(
                    "{key} must be a phone number string such as +918045671234 \
                     (1 to 32 characters)"
                ));
                continue;
            }
        };
        if key == "fromNumber" {
            opts.from_number = Some(number);
        } else {
            opts.to_number = Some(number);
        }
    }
    match field("direction") {
        None => {}
        Some(Value::String(s)) => match s.parse::<Direction>() {
            Ok(d) => opts.direction = d,
            Err(e) => errors.push(e.to_string()),
        },
        Some(_) => errors.push("direction must be \"outbound\" or \"inbound\"".to_owned()),
    }
    match field("callStatus") {
        None => {}
        Some(Value::String(s)) if is_short_text(s, 64) => opts.call_status = s.as_str().into(),
        Some(_) => errors.push(
            "callStatus must be a string such as completed, no_answer, busy, failed or \
             cancelled (1 to 64 characters)"
                .to_owned(),
        ),
    }
    match field("turns") {
        None => {}
        Some(v) => match v.as_u64().and_then(|n| usize::try_from(n).ok()) {
            Some(n) if n <= MAX_TURNS => opts.turns = n,
            _ => errors.push(format!(
                "turns must be a whole number from 0 to {MAX_TURNS}"
            )),
        },
    }
    match field("callId") {
        None => {}
        Some(Value::String(s)) if is_short_text(s, 128) => opts.call_id = CallId::new(s.as_str()),
        Some(_) => errors.push("callId must be a string of 1 to 128 characters".to_owned()),
    }
    match field("variables") {
        None => {}
        Some(Value::Object(map)) => opts.variables = Variables(map.clone().into()),
        Some(_) => errors.push("variables must be an object".to_owned()),
    }
    match field("duration") {
        None => {}
        Some(v) => match v.as_f64() {
            Some(secs) if (0.0..=MAX_DURATION.as_secs_f64()).contains(&secs) => {
                opts.duration = Some(std::time::Duration::from_secs_f64(secs));
            }
            _ => errors.push(format!(
                "duration must be a number of seconds from 0 to {}",
                MAX_DURATION.as_secs()
            )),
        },
    }
    if errors.is_empty() {
        Ok(opts)
    } else {
        Err(errors)
    }
}

/// Non-empty, at most `max` characters, no control characters.
fn is_short_text(s: &str, max: usize) -> bool {
    !s.is_empty() && s.chars().count() <= max && !s.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> Result<CallOptions, Vec<String>> {
        call_options(v.as_object().unwrap())
    }

    #[test]
    fn full_options() {
        let o = parse(json!({
            "agentId": "60d0fe4f5311236168a109ca", "fromNumber": "+15550100",
            "toNumber": "+15550199", "direction": "inbound", "callStatus": "busy", "turns": 3,
            "callId": "CALL-1", "variables": {"k": 1}, "duration": 2.5
        }))
        .unwrap();
        assert_eq!(o.agent_id, "60d0fe4f5311236168a109ca");
        assert_eq!(o.numbers(), ("+15550100".into(), "+15550199".into()));
        assert_eq!(o.direction, Direction::Inbound);
        assert_eq!(o.call_status.as_str(), "busy");
        assert_eq!(o.turns, 3);
        assert_eq!(o.call_id, "CALL-1");
        assert_eq!(o.variables.get("k").map(|v| v.to_value()), Some(json!(1)));
        assert_eq!(o.duration, Some(std::time::Duration::from_millis(2500)));

        let o = parse(json!({"agentId": "60d0fe4f5311236168a109ca", "callId": null})).unwrap();
        assert!(o.call_id.as_str().starts_with("CALL-"));
    }

    #[test]
    fn every_problem_is_named_without_quoting_values() {
        let errors = parse(json!({
            "agentId": "nope", "fromNumber": 5, "toNumber": "", "direction": "up",
            "callStatus": "", "turns": -1, "callId": "a\nb", "variables": [],
            "duration": 1e9, "colour": "blue"
        }))
        .unwrap_err();
        assert_eq!(errors.len(), 10, "{errors:?}");
        assert!(errors.iter().any(|e| e.contains("colour")));
        assert!(!errors
            .iter()
            .any(|e| e.contains("blue") || e.contains("up\"")));
        assert_eq!(parse(json!({})).unwrap_err(), vec!["agentId is required"]);
        assert_eq!(
            parse(json!({"agentId": 1, "turns": 201})).unwrap_err(),
            vec![
                "agentId must be a string".to_owned(),
                format!("turns must be a whole number from 0 to {MAX_TURNS}")
            ]
        );
    }
}
