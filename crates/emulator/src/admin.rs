//! Emulator-only routes under `/_emulator/`: simulate a call, make its call log final, read or
//! clear the delivery log, enable or disable a webhook. The server puts them behind the same
//! Bearer key as the API, but they are not API operations: no hit counting, no injected faults.
//!
//! | method | path | body / query | success `data` |
//! |---|---|---|---|
//! | POST | /_emulator/calls | call options (below) | a [`CallReport`](crate::CallReport); HTTP 201 |
//! | POST | /_emulator/calls/{callId}/finalize | none | the call id |
//! | GET | /_emulator/deliveries | optional `callId`, `webhookId` | array of [`DeliveryRecord`](crate::DeliveryRecord) |
//! | DELETE | /_emulator/deliveries | none | a message |
//! | POST | /_emulator/webhooks/{id}/status | `{"status": "enabled"\|"disabled"}` | the webhook id |
//!
//! Call options: `agentId` (required, 24 hex), and optionally `fromNumber`, `toNumber`,
//! `direction` (`outbound`/`inbound`), `callStatus`, `turns` (0 to 200), `callId`,
//! `variables` (object), `duration` (seconds, 0 to 86400), `seed` (a whole number), `drop`
//! (`"all"` or an array of event types), `finalAfter` (reads of the call log that show
//! `in_progress`, 0 to 1000000). `null` means the default.

use std::sync::Arc;

use atoms_webhook_models::testkit::{CallOptions, MAX_DURATION, MAX_TURNS};
use atoms_webhook_models::{
    ids::is_object_id, AgentId, CallDirection, CallId, EventType, WebhookStatus,
};
use axum::{
    body::Bytes,
    extract::{rejection::PathRejection, Path, RawQuery, State as AxState},
    http::StatusCode,
    routing::{get, post},
    Router,
};
use serde_json::{Map, Value};

use crate::delivery::Mode;
use crate::responses::{
    json_object, ok, Answer, ApiError, MSG_CALL_NOT_FOUND, MSG_INVALID_AGENT_ID,
    MSG_INVALID_WEBHOOK_ID,
};
use crate::routes::{CALLS, CALL_FINALIZE, DELIVERIES, WEBHOOK_STATUS};
use crate::scenario::Scenario;
use crate::shared::Shared;
use crate::validate::shown;

type SharedState = AxState<Arc<Shared>>;

/// The most reads `finalAfter` may ask for.
const MAX_FINAL_AFTER: u64 = 1_000_000;

/// The fields `POST /_emulator/calls` accepts.
const CALL_FIELDS: [&str; 12] = [
    "agentId",
    "fromNumber",
    "toNumber",
    "direction",
    "callStatus",
    "turns",
    "callId",
    "variables",
    "duration",
    "seed",
    "drop",
    "finalAfter",
];

/// The emulator-only routes; the server puts them behind the Bearer key check.
pub(crate) fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route(CALLS, post(simulate_call))
        .route(CALL_FINALIZE, post(finalize_call))
        .route(DELIVERIES, get(list_deliveries).delete(clear_deliveries))
        .route(WEBHOOK_STATUS, post(set_webhook_status))
}

/// `POST /_emulator/calls`: answers once every delivery has ended.
async fn simulate_call(AxState(shared): SharedState, body: Bytes) -> Answer {
    let obj = json_object(&body)?;
    let scenario = scenario(&obj).map_err(ApiError::bad_request)?;
    let report = shared.simulate(&scenario, Mode::Send).await;
    Ok(ok(StatusCode::CREATED, report))
}

/// `POST /_emulator/calls/{callId}/finalize`.
async fn finalize_call(
    AxState(shared): SharedState,
    path: Result<Path<String>, PathRejection>,
) -> Answer {
    let not_found = || ApiError::new(StatusCode::NOT_FOUND, MSG_CALL_NOT_FOUND);
    let Ok(Path(raw)) = path else {
        return Err(not_found());
    };
    let id = CallId::new(raw);
    if shared.calls().finalize(&id, chrono::Utc::now()) {
        Ok(ok(StatusCode::OK, id))
    } else {
        Err(not_found())
    }
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
    let id = match path {
        Ok(Path(raw)) if is_object_id(&raw) => atoms_webhook_models::WebhookId::new(raw),
        _ => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                MSG_INVALID_WEBHOOK_ID,
            ))
        }
    };
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

/// The scenario of a `POST /_emulator/calls` body, or one message per problem. Messages
/// never quote values (variables may hold personal data).
fn scenario(obj: &Map<String, Value>) -> Result<Scenario, Vec<String>> {
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
        Some(Value::String(s)) => match direction(s) {
            Some(d) => opts.direction = d,
            None => errors.push(MSG_DIRECTION.to_owned()),
        },
        Some(_) => errors.push(MSG_DIRECTION.to_owned()),
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
        Some(Value::String(s)) if is_short_text(s, 128) => {
            opts.call_id = Some(CallId::new(s.as_str()))
        }
        Some(_) => errors.push("callId must be a string of 1 to 128 characters".to_owned()),
    }
    match field("variables") {
        None => {}
        Some(Value::Object(map)) => {
            opts = opts.variables(map.iter().map(|(k, v)| (k.clone(), v.clone())))
        }
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
    match field("seed") {
        None => {}
        Some(v) => match v.as_u64() {
            Some(seed) => opts.seed = Some(seed),
            None => errors.push("seed must be a whole number from 0".to_owned()),
        },
    }
    let mut scenario = Scenario::new(opts);
    match field("drop") {
        None => {}
        Some(Value::String(s)) if s == "all" => scenario = scenario.drop_all(),
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                match item.as_str().map(EventType::parse) {
                    Some(t) if t.is_known() => scenario = scenario.drop(t),
                    _ => errors.push(format!(
                        "drop[{i}] must be one of {}",
                        EventType::KNOWN.join(", ")
                    )),
                }
            }
        }
        Some(_) => errors.push(
            "drop must be \"all\" or an array of event types such as [\"post-conversation\"]"
                .to_owned(),
        ),
    }
    match field("finalAfter") {
        None => {}
        Some(v) => match v.as_u64().filter(|n| *n <= MAX_FINAL_AFTER) {
            Some(n) => scenario = scenario.final_after(u32::try_from(n).unwrap_or(u32::MAX)),
            None => errors.push(format!(
                "finalAfter must be a whole number from 0 to {MAX_FINAL_AFTER}"
            )),
        },
    }
    if errors.is_empty() {
        Ok(scenario)
    } else {
        Err(errors)
    }
}

const MSG_DIRECTION: &str = "direction must be \"outbound\" or \"inbound\"";

/// `outbound`/`inbound` (any case), or the call direction's own spelling.
fn direction(s: &str) -> Option<CallDirection> {
    if s.eq_ignore_ascii_case("outbound") {
        Some(CallDirection::TelephonyOutbound)
    } else if s.eq_ignore_ascii_case("inbound") {
        Some(CallDirection::TelephonyInbound)
    } else {
        Some(CallDirection::parse(s)).filter(CallDirection::is_known)
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

    fn parse(v: Value) -> Result<Scenario, Vec<String>> {
        scenario(v.as_object().unwrap())
    }

    #[test]
    fn full_options() {
        let s = parse(json!({
            "agentId": "60d0fe4f5311236168a109ca", "fromNumber": "+15550100",
            "toNumber": "+15550199", "direction": "inbound", "callStatus": "busy", "turns": 3,
            "callId": "CALL-1", "variables": {"k": 1}, "duration": 2.5, "seed": 9,
            "drop": ["post-conversation", "analytics-completed"], "finalAfter": 2
        }))
        .unwrap();
        let o = &s.call;
        assert_eq!(o.agent_id, "60d0fe4f5311236168a109ca");
        assert_eq!(o.numbers(), ("+15550100".into(), "+15550199".into()));
        assert_eq!(o.direction, CallDirection::TelephonyInbound);
        assert_eq!(o.call_status.as_str(), "busy");
        assert_eq!(o.turns, 3);
        assert_eq!(o.call_id, Some(CallId::new("CALL-1")));
        assert_eq!(o.variables, vec![("k".to_owned(), json!(1))]);
        assert_eq!(o.duration, Some(std::time::Duration::from_millis(2500)));
        assert_eq!(o.seed, Some(9));
        assert_eq!(
            s.drop,
            [EventType::PostConversation, EventType::AnalyticsCompleted]
        );
        assert_eq!(s.final_after, 2);

        let s = parse(
            json!({"agentId": "60d0fe4f5311236168a109ca", "callId": null,
            "drop": "all", "direction": "telephony_outbound"}),
        )
        .unwrap();
        assert_eq!(s.call.call_id, None);
        assert_eq!(s.drop, EventType::ALL.to_vec());
        assert_eq!(s.call.direction, CallDirection::TelephonyOutbound);
        assert_eq!(s.final_after, 0);
    }

    #[test]
    fn every_problem_is_named_without_quoting_values() {
        let errors = parse(json!({
            "agentId": "nope", "fromNumber": 5, "toNumber": "", "direction": "up",
            "callStatus": "", "turns": -1, "callId": "a\nb", "variables": [],
            "duration": 1e9, "colour": "blue", "seed": -1, "drop": ["later"],
            "finalAfter": 1e12
        }))
        .unwrap_err();
        assert_eq!(errors.len(), 13, "{errors:?}");
        assert!(errors.iter().any(|e| e.contains("colour")));
        assert!(!errors
            .iter()
            .any(|e| e.contains("blue") || e.contains("up\"") || e.contains("later")));
        assert_eq!(parse(json!({})).unwrap_err(), vec!["agentId is required"]);
        assert_eq!(
            parse(json!({"agentId": 1, "turns": 201})).unwrap_err(),
            vec![
                "agentId must be a string".to_owned(),
                format!("turns must be a whole number from 0 to {MAX_TURNS}")
            ]
        );
        assert_eq!(
            parse(json!({"agentId": "60d0fe4f5311236168a109ca", "drop": "some"})).unwrap_err(),
            vec!["drop must be \"all\" or an array of event types such as [\"post-conversation\"]"]
        );
    }
}
