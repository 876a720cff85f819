//! The public webhook API: routes, request validation, and the JSON answers.
//!
//! Handlers parse the body themselves (as a `serde_json::Value`, then field by field) instead of
//! using axum's `Json` extractor, so that every malformed input gets a 400 with the API's error
//! envelope and a message naming the field, never a 415/422 or a message quoting the body.

use std::sync::Arc;

use atoms_webhook_models::{
    ids::is_object_id, AgentId, ApiErrorBody, ApiResponse, EventType, HeadersUpdate, WebhookId,
};
use axum::{
    body::Bytes,
    extract::{rejection::PathRejection, Path, RawQuery, State as AxState},
    http::StatusCode,
    middleware::from_fn_with_state,
    response::{IntoResponse, Response},
    routing::{get, patch},
    Json, Router,
};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::server::gate;
use crate::shared::Shared;
use crate::state::{NewWebhook, StateError, WebhookChanges};
use crate::validate;

/// Route template of the webhook collection.
pub(crate) const WEBHOOKS: &str = "/webhook";
/// Route template of one webhook.
pub(crate) const WEBHOOK: &str = "/webhook/{id}";
/// Route template of an agent's subscriptions.
pub(crate) const SUBSCRIPTIONS: &str = "/agent/{agentId}/webhook-subscriptions";

pub(crate) const MSG_UNAUTHORIZED: &str = "Unauthorized: User not found";
pub(crate) const MSG_INVALID_WEBHOOK_ID: &str = "The provided Webhook ID is invalid.";
pub(crate) const MSG_INVALID_AGENT_ID: &str = "The provided Agent ID is invalid.";
pub(crate) const MSG_NOT_FOUND: &str = "Webhook not found";
pub(crate) const MSG_DUPLICATE_URL: &str = "A webhook with this URL has already been registered";
pub(crate) const MSG_STILL_ASSIGNED: &str = "Cannot delete webhook: It is currently assigned to one or more agents. Please remove all agent assignments first.";

/// The API's routes, each behind the gate (hit counting, faults, then Bearer auth).
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(WEBHOOKS, get(list_or_get_webhooks).post(create_webhook))
        .route(WEBHOOK, patch(update_webhook).delete(delete_webhook))
        .route(
            SUBSCRIPTIONS,
            get(get_subscriptions)
                .post(replace_subscriptions)
                .delete(clear_subscriptions),
        )
        .route_layer(from_fn_with_state(shared.clone(), gate))
        .with_state(shared)
}

pub(crate) type SharedState = AxState<Arc<Shared>>;

// ----- answers ------------------------------------------------------------------------------------

/// An error answer: status plus the `{"status": false, "errors": [...]}` body.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    messages: Vec<String>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            messages: vec![message.into()],
        }
    }

    pub(crate) fn bad_request(messages: Vec<String>) -> Self {
        let mut unique: Vec<String> = Vec::with_capacity(messages.len());
        for m in messages {
            if !unique.contains(&m) {
                unique.push(m);
            }
        }
        Self {
            status: StatusCode::BAD_REQUEST,
            messages: unique,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(ApiErrorBody::new(self.messages))).into_response()
    }
}

impl From<StateError> for ApiError {
    fn from(e: StateError) -> Self {
        match e {
            StateError::WebhookNotFound => ApiError::new(StatusCode::NOT_FOUND, MSG_NOT_FOUND),
            StateError::DuplicateUrl => ApiError::new(StatusCode::BAD_REQUEST, MSG_DUPLICATE_URL),
            StateError::StillAssigned => ApiError::new(StatusCode::BAD_REQUEST, MSG_STILL_ASSIGNED),
        }
    }
}

pub(crate) fn ok<T: Serialize>(status: StatusCode, data: T) -> Response {
    (status, Json(ApiResponse::ok(data))).into_response()
}

pub(crate) type Answer = Result<Response, ApiError>;

// ----- input helpers --------------------------------------------------------------------------------

/// The `webhookId` query parameter, when present (even empty).
pub(crate) fn webhook_id_param(query: Option<&str>) -> Option<String> {
    let query = query?;
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "webhookId")
        .map(|(_, v)| v.into_owned())
}

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

pub(crate) fn path_webhook_id(
    path: Result<Path<String>, PathRejection>,
) -> Result<WebhookId, ApiError> {
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

/// The body as a JSON object. The messages describe the problem without quoting the body.
pub(crate) fn json_object(body: &Bytes) -> Result<Map<String, Value>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "The request body is empty; a JSON object is required",
        ));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "The request body must be a JSON object",
        )),
        Err(e) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!(
                "The request body is not valid JSON ({} at line {} column {})",
                match e.classify() {
                    serde_json::error::Category::Eof => "unexpected end of input",
                    _ => "syntax error",
                },
                e.line(),
                e.column()
            ),
        )),
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
            Ok(pairs) => changes.headers = HeadersUpdate::Replace(pairs),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_param() {
        assert_eq!(webhook_id_param(None), None);
        assert_eq!(webhook_id_param(Some("a=1")), None);
        assert_eq!(webhook_id_param(Some("webhookId=")), Some(String::new()));
        assert_eq!(
            webhook_id_param(Some("x=1&webhookId=ab%63")),
            Some("abc".to_owned())
        );
    }

    #[test]
    fn body_errors_do_not_quote_the_body() {
        let secret = "sk-live-very-secret";
        for body in [
            format!("{{\"endpoint\": \"{secret}"),
            secret.to_owned(),
            format!("[\"{secret}\"]"),
        ] {
            let e = json_object(&Bytes::from(body)).unwrap_err();
            assert_eq!(e.status, StatusCode::BAD_REQUEST);
            assert!(!e.messages.concat().contains(secret), "{:?}", e.messages);
        }
    }
}
