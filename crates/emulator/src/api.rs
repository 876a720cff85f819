//! The handlers of the public API (webhooks, subscriptions, call logs): request validation
//! and the JSON answers.
//!
//! Handlers parse the body themselves (as a `serde_json::Value`, then field by field) instead of
//! using axum's `Json` extractor, so that every malformed input gets a 400 with the API's error
//! envelope and a message naming the field, never a 415/422 or a message quoting the body.

use std::sync::Arc;

use atoms_webhook_models::{
    ids::is_object_id, AgentId, CallId, EventType, Fields, HeadersUpdate, WebhookId,
};
use axum::{
    body::Bytes,
    extract::{rejection::PathRejection, Path, RawQuery, State as AxState},
    http::StatusCode,
    routing::{get, patch},
    Router,
};
use serde_json::{Map, Value};

use crate::calls::{LogQuery, SortBy, CALL_TYPES, STATUSES};
use crate::responses::{
    json_object, ok, Answer, ApiError, MSG_CALL_NOT_FOUND, MSG_INVALID_AGENT_ID,
    MSG_INVALID_WEBHOOK_ID,
};
use crate::routes::{
    webhook_id_param, CONVERSATION, CONVERSATIONS, SUBSCRIPTIONS, WEBHOOK, WEBHOOKS,
};
use crate::shared::Shared;
use crate::state::{NewWebhook, WebhookChanges};
use crate::validate;

/// The API's routes; the server puts them behind the gate (hit counting, faults, then
/// Bearer auth).
pub(crate) fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route(WEBHOOKS, get(list_or_get_webhooks).post(create_webhook))
        .route(WEBHOOK, patch(update_webhook).delete(delete_webhook))
        .route(
            SUBSCRIPTIONS,
            get(get_subscriptions)
                .post(replace_subscriptions)
                .delete(clear_subscriptions),
        )
        .route(CONVERSATIONS, get(list_conversations))
        .route(CONVERSATION, get(get_conversation))
}

pub(crate) type SharedState = AxState<Arc<Shared>>;

// ----- input helpers --------------------------------------------------------------------------------

fn webhook_id(raw: &str) -> Result<WebhookId, ApiError> {
    if is_object_id(raw) {
        Ok(WebhookId::new(raw))
    } else {
        Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            MSG_INVALID_WEBHOOK_ID,
        ))
    }
}

fn path_webhook_id(path: Result<Path<String>, PathRejection>) -> Result<WebhookId, ApiError> {
    match path {
        Ok(Path(raw)) => webhook_id(&raw),
        Err(_) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            MSG_INVALID_WEBHOOK_ID,
        )),
    }
}

fn path_agent_id(path: Result<Path<String>, PathRejection>) -> Result<AgentId, ApiError> {
    match path {
        Ok(Path(raw)) if is_object_id(&raw) => Ok(AgentId::new(raw)),
        _ => Err(ApiError::new(StatusCode::BAD_REQUEST, MSG_INVALID_AGENT_ID)),
    }
}

/// A required string field; pushes a message and returns `None` when absent or not a string.
fn required_str<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    errors: &mut Vec<String>,
) -> Option<&'a str> {
    match obj.get(key) {
        None => {
            errors.push(format!("{key} is required"));
            None
        }
        Some(Value::String(s)) => Some(s),
        Some(_) => {
            errors.push(format!("{key} must be a string"));
            None
        }
    }
}

fn event_types_message(field: &str) -> String {
    format!("{field} must be one of {}", EventType::KNOWN.join(", "))
}

/// A known event type, or a message naming `field`.
fn event_type(value: &Value, field: &str) -> Result<EventType, String> {
    match value {
        Value::String(s) => match EventType::parse(s) {
            EventType::Unknown(_) => Err(event_types_message(field)),
            known => Ok(known),
        },
        _ => Err(format!("{field} must be a string")),
    }
}

// ----- handlers -------------------------------------------------------------------------------------

/// `GET /webhook[?webhookId=ID]`.
async fn list_or_get_webhooks(AxState(shared): SharedState, RawQuery(query): RawQuery) -> Answer {
    match webhook_id_param(query.as_deref()) {
        None => {
            let list = shared.state().list_webhooks();
            Ok(ok(StatusCode::OK, list))
        }
        Some(raw) => {
            let id = webhook_id(&raw)?;
            let webhook = shared.state().get_webhook(&id)?;
            Ok(ok(StatusCode::OK, webhook))
        }
    }
}

/// `POST /webhook`.
async fn create_webhook(AxState(shared): SharedState, body: Bytes) -> Answer {
    let obj = json_object(&body)?;
    let mut errors = Vec::new();

    let url = required_str(&obj, "endpoint", &mut errors);
    if url.is_some_and(|u| !validate::is_http_url(u)) {
        errors.push(validate::MSG_BAD_ENDPOINT.to_owned());
    }
    let description = required_str(&obj, "description", &mut errors);

    let mut events = Vec::new();
    match obj.get("events") {
        None => errors.push("events is required".to_owned()),
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                let Value::Object(item) = item else {
                    errors.push(format!(
                        "events[{i}] must be an object with agentId and eventType"
                    ));
                    continue;
                };
                let agent = match item.get("agentId") {
                    None => {
                        errors.push(format!("events[{i}].agentId is required"));
                        None
                    }
                    Some(Value::String(s)) if is_object_id(s) => Some(AgentId::new(s.as_str())),
                    Some(Value::String(_)) => {
                        errors.push(MSG_INVALID_AGENT_ID.to_owned());
                        None
                    }
                    Some(_) => {
                        errors.push(format!("events[{i}].agentId must be a string"));
                        None
                    }
                };
                let event = match item.get("eventType") {
                    None => {
                        errors.push(format!("events[{i}].eventType is required"));
                        None
                    }
                    Some(v) => match event_type(v, &format!("events[{i}].eventType")) {
                        Ok(e) => Some(e),
                        Err(m) => {
                            errors.push(m);
                            None
                        }
                    },
                };
                if let (Some(agent), Some(event)) = (agent, event) {
                    events.push((agent, event));
                }
            }
        }
        Some(_) => errors.push("events must be an array".to_owned()),
    }

    match (url, description) {
        (Some(url), Some(description)) if errors.is_empty() => {
            let new = NewWebhook {
                url: url.to_owned(),
                description: description.to_owned(),
                events,
            };
            let id = shared.state().create_webhook(new)?;
            Ok(ok(StatusCode::CREATED, id))
        }
        _ => Err(ApiError::bad_request(errors)),
    }
}

/// `PATCH /webhook/{id}`.
async fn update_webhook(
    AxState(shared): SharedState,
    path: Result<Path<String>, PathRejection>,
    body: Bytes,
) -> Answer {
    let id = path_webhook_id(path)?;
    let obj = json_object(&body).map_err(|e| {
        if body.iter().all(u8::is_ascii_whitespace) {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "The request body is empty; provide at least one of endpoint, description, headers",
            )
        } else {
            e
        }
    })?;
    if !["endpoint", "description", "headers"]
        .iter()
        .any(|k| obj.contains_key(*k))
    {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "Provide at least one of endpoint, description, headers",
        ));
    }

    let mut errors = Vec::new();
    let mut changes = WebhookChanges::default();
    match obj.get("endpoint") {
        None => {}
        Some(Value::String(u)) if validate::is_http_url(u) => changes.url = Some(u.clone()),
        Some(Value::String(_)) => errors.push(validate::MSG_BAD_ENDPOINT.to_owned()),
        Some(_) => errors.push("endpoint must be a string".to_owned()),
    }
    match obj.get("description") {
        None => {}
        Some(Value::String(d)) => changes.description = Some(d.clone()),
        Some(_) => errors.push("description must be a string".to_owned()),
    }
    match obj.get("headers") {
        None => {}
        Some(Value::Object(map)) if map.is_empty() => changes.headers = HeadersUpdate::Clear,
        Some(Value::Object(map)) => match validate::headers(map) {
            Ok(pairs) => changes.headers = HeadersUpdate::Replace(in_sent_order(&body, pairs)),
            Err(mut e) => errors.append(&mut e),
        },
        Some(_) => {
            errors.push("headers must be an object of header names to string values".to_owned())
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::bad_request(errors));
    }

    shared.state().update_webhook(&id, changes)?;
    Ok(ok(StatusCode::OK, id))
}

/// `pairs` in the order the body's `headers` object lists them (serde_json's own map sorts
/// keys; the deliveries send custom headers in the order they were set).
fn in_sent_order(body: &Bytes, mut pairs: Vec<(String, String)>) -> Vec<(String, String)> {
    let order: Vec<String> = serde_json::from_slice::<Fields>(body)
        .ok()
        .and_then(|f| f.get("headers").and_then(|h| h.parse::<Fields>().ok()))
        .map(|h| h.keys().map(str::to_owned).collect())
        .unwrap_or_default();
    pairs.sort_by_key(|(k, _)| order.iter().position(|o| o == k).unwrap_or(usize::MAX));
    pairs
}

/// `DELETE /webhook/{id}`.
async fn delete_webhook(
    AxState(shared): SharedState,
    path: Result<Path<String>, PathRejection>,
) -> Answer {
    let id = path_webhook_id(path)?;
    shared.state().delete_webhook(&id)?;
    Ok(ok(StatusCode::OK, "Webhook deleted successfully"))
}

/// `GET /agent/{agentId}/webhook-subscriptions`.
async fn get_subscriptions(
    AxState(shared): SharedState,
    path: Result<Path<String>, PathRejection>,
) -> Answer {
    let agent = path_agent_id(path)?;
    let subscriptions = shared.state().agent_subscriptions(&agent);
    Ok(ok(StatusCode::OK, subscriptions))
}

/// `POST /agent/{agentId}/webhook-subscriptions`.
async fn replace_subscriptions(
    AxState(shared): SharedState,
    path: Result<Path<String>, PathRejection>,
    body: Bytes,
) -> Answer {
    let agent = path_agent_id(path)?;
    let obj = json_object(&body)?;
    let mut errors = Vec::new();

    let webhook = match required_str(&obj, "webhookId", &mut errors) {
        Some(raw) if is_object_id(raw) => Some(WebhookId::new(raw)),
        Some(_) => {
            errors.push(MSG_INVALID_WEBHOOK_ID.to_owned());
            None
        }
        None => None,
    };

    let mut event_types: Vec<EventType> = Vec::new();
    match obj.get("eventTypes") {
        None => errors.push("eventTypes is required".to_owned()),
        Some(Value::Array(items)) if items.is_empty() => {
            errors.push("eventTypes must contain at least one event type".to_owned())
        }
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                match event_type(item, &format!("eventTypes[{i}]")) {
                    Ok(e) if !event_types.contains(&e) => event_types.push(e),
                    Ok(_) => {}
                    Err(m) => errors.push(m),
                }
            }
        }
        Some(_) => errors.push("eventTypes must be an array".to_owned()),
    }

    match webhook {
        Some(webhook) if errors.is_empty() => {
            shared
                .state()
                .replace_subscriptions(&agent, &webhook, event_types)?;
            Ok(ok(
                StatusCode::CREATED,
                "Subscriptions created successfully",
            ))
        }
        _ => Err(ApiError::bad_request(errors)),
    }
}

/// `DELETE /agent/{agentId}/webhook-subscriptions`.
async fn clear_subscriptions(
    AxState(shared): SharedState,
    path: Result<Path<String>, PathRejection>,
) -> Answer {
    let agent = path_agent_id(path)?;
    shared.state().clear_subscriptions(&agent);
    Ok(ok(StatusCode::OK, "Subscriptions deleted successfully"))
}

/// The largest page `GET /conversation` serves; larger limits are clamped to it.
pub(crate) const MAX_LOG_LIMIT: usize = 500;
/// The page size of `GET /conversation` without `limit`.
pub(crate) const DEFAULT_LOG_LIMIT: usize = 5;

/// A comma-separated filter: its non-empty items, `None` when absent or empty.
fn list_param(value: &str) -> Option<Vec<String>> {
    let items: Vec<String> = value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    (!items.is_empty()).then_some(items)
}

/// The query of `GET /conversation`, or one message per problem. Unknown parameters are
/// ignored, like the documented ones this emulator does not implement (dates, campaigns, ...).
fn log_query(query: Option<&str>) -> Result<LogQuery, Vec<String>> {
    let mut q = LogQuery {
        page: 1,
        limit: DEFAULT_LOG_LIMIT,
        ..LogQuery::default()
    };
    let mut errors = Vec::new();
    for (key, value) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        match &*key {
            "page" => match value.trim().parse::<usize>() {
                Ok(n) if n >= 1 => q.page = n,
                _ => errors.push("page must be a whole number from 1".to_owned()),
            },
            "limit" => match value.trim().parse::<u64>() {
                Ok(n) if n >= 1 => {
                    q.limit = usize::try_from(n)
                        .unwrap_or(MAX_LOG_LIMIT)
                        .min(MAX_LOG_LIMIT)
                }
                _ => errors.push(format!(
                    "limit must be a whole number from 1 (at most {MAX_LOG_LIMIT} are served)"
                )),
            },
            "agentIds" => q.agent_ids = list_param(&value),
            "callTypes" => {
                q.call_types = list_param(&value);
                for t in q.call_types.iter().flatten() {
                    if !CALL_TYPES.contains(&t.as_str()) {
                        errors.push(format!("callTypes must be among {}", CALL_TYPES.join(", ")));
                    }
                }
            }
            "statusFilter" => {
                q.statuses = list_param(&value);
                for s in q.statuses.iter().flatten() {
                    if !STATUSES.contains(&s.as_str()) {
                        errors.push(format!(
                            "statusFilter must be among {}",
                            STATUSES.join(", ")
                        ));
                    }
                }
            }
            "search" => {
                q.search = Some(value.trim().to_owned()).filter(|s| !s.is_empty());
            }
            "sortBy" => match &*value {
                "updatedAt" => q.sort_by = SortBy::UpdatedAt,
                "createdAt" => q.sort_by = SortBy::CreatedAt,
                "callDuration" => q.sort_by = SortBy::CallDuration,
                _ => errors.push("sortBy must be updatedAt, createdAt or callDuration".to_owned()),
            },
            "sortOrder" => match &*value {
                "asc" => q.ascending = true,
                "desc" => q.ascending = false,
                _ => errors.push("sortOrder must be asc or desc".to_owned()),
            },
            _ => {}
        }
    }
    if errors.is_empty() {
        Ok(q)
    } else {
        Err(errors)
    }
}

/// `GET /conversation`.
async fn list_conversations(AxState(shared): SharedState, RawQuery(query): RawQuery) -> Answer {
    shared.record_query(query.as_deref().unwrap_or(""));
    let q = log_query(query.as_deref()).map_err(ApiError::bad_request)?;
    let page = shared.calls().page(&q, chrono::Utc::now());
    Ok(ok(StatusCode::OK, page))
}

/// `GET /conversation/{callId}`: 404 for a call id this account never had.
async fn get_conversation(
    AxState(shared): SharedState,
    path: Result<Path<String>, PathRejection>,
) -> Answer {
    let not_found = || ApiError::new(StatusCode::NOT_FOUND, MSG_CALL_NOT_FOUND);
    let Ok(Path(raw)) = path else {
        return Err(not_found());
    };
    let log = shared
        .calls()
        .get(&CallId::new(raw), chrono::Utc::now())
        .ok_or_else(not_found)?;
    Ok(ok(StatusCode::OK, log))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_queries() {
        let q = log_query(None).unwrap();
        assert_eq!(
            (q.page, q.limit, q.sort_by, q.ascending),
            (1, 5, SortBy::UpdatedAt, false)
        );
        let q = log_query(Some(
            "page=3&limit=9999&agentIds=a,,b&callTypes=telephony_inbound&statusFilter=completed,failed&search=x",
        ))
        .unwrap();
        assert_eq!((q.page, q.limit), (3, MAX_LOG_LIMIT));
        assert_eq!(q.agent_ids, Some(vec!["a".to_owned(), "b".to_owned()]));
        assert_eq!(q.call_types, Some(vec!["telephony_inbound".to_owned()]));
        assert_eq!(q.statuses.map(|s| s.len()), Some(2));
        let q = log_query(Some("sortBy=createdAt&sortOrder=asc&agentIds=")).unwrap();
        assert_eq!(
            (q.sort_by, q.ascending, q.agent_ids),
            (SortBy::CreatedAt, true, None)
        );
        let errors = log_query(Some(
            "page=0&limit=-1&callTypes=fax&statusFilter=done&sortBy=x&sortOrder=up",
        ))
        .unwrap_err();
        assert_eq!(errors.len(), 6, "{errors:?}");
    }
}
