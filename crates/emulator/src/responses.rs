//! Answers: the API's error messages and `{"status": false, "errors": [...]}` bodies
//! ([`ApiError`]), the `{"status": true, "data": ...}` envelope ([`ok`]), the reading of JSON
//! request bodies, raw answers for injected faults, and the JSON envelope for every error axum
//! produces itself. Above the routes and the state; below middleware and handlers.

use atoms_webhook_models::{ApiErrorBody, ApiResponse};
use axum::{
    body::{Body, Bytes},
    http::{header, HeaderName, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::state::StateError;

pub(crate) const MSG_UNAUTHORIZED: &str = "Unauthorized: User not found";
pub(crate) const MSG_INVALID_WEBHOOK_ID: &str = "The provided Webhook ID is invalid.";
pub(crate) const MSG_INVALID_AGENT_ID: &str = "The provided Agent ID is invalid.";
pub(crate) const MSG_NOT_FOUND: &str = "Webhook not found";
pub(crate) const MSG_CALL_NOT_FOUND: &str = "Conversation log not found";
pub(crate) const MSG_DUPLICATE_URL: &str = "A webhook with this URL has already been registered";
pub(crate) const MSG_STILL_ASSIGNED: &str = "Cannot delete webhook: It is currently assigned to one or more agents. Please remove all agent assignments first.";

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

    /// A 400 with these messages, each once, in order.
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

    /// The 401 of a missing or wrong API key, with its `WWW-Authenticate` header.
    pub(crate) fn unauthorized() -> Response {
        let mut response =
            ApiError::new(StatusCode::UNAUTHORIZED, MSG_UNAUTHORIZED).into_response();
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        response
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

/// A success answer: `status` and `{"status": true, "data": data}`.
pub(crate) fn ok<T: Serialize>(status: StatusCode, data: T) -> Response {
    (status, Json(ApiResponse::ok(data))).into_response()
}

/// What a handler returns.
pub(crate) type Answer = Result<Response, ApiError>;

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

/// Marks a response made by an injected fault, which must go out exactly as configured.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RawFault;

/// The answer of an injected fault: this status (500 when invalid), these headers (invalid
/// ones left out) and body, nothing added.
pub(crate) fn raw_response(status: u16, headers: &[(String, String)], body: String) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or_else(|_| {
        tracing::warn!(
            status,
            "injected fault has an invalid status code; sending 500"
        );
        StatusCode::INTERNAL_SERVER_ERROR
    });
    for (name, value) in headers {
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            (Ok(name), Ok(value)) => {
                response.headers_mut().append(name, value);
            }
            _ => tracing::warn!("injected fault has an invalid header; left out"),
        }
    }
    response.extensions_mut().insert(RawFault);
    response
}

/// Unknown paths.
pub(crate) async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "Not found")
}

/// Gives every error the API's JSON envelope, including those axum produces itself (405 for a
/// wrong method, 413 for an oversized body, ...). Injected faults are left untouched.
pub(crate) async fn json_errors(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error())
        || is_json
        || response.extensions().get::<RawFault>().is_some()
    {
        return response;
    }
    let message = match status {
        StatusCode::METHOD_NOT_ALLOWED => "Method not allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "The request body is too large",
        other => other.canonical_reason().unwrap_or("Error"),
    };
    let (mut parts, _) = response.into_parts();
    let json = ApiError::new(status, message).into_response();
    let (json_parts, body) = json.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    for (name, value) in &json_parts.headers {
        parts.headers.insert(name, value.clone());
    }
    Response::from_parts(parts, body)
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn bad_request_keeps_each_message_once() {
        let e = ApiError::bad_request(vec!["a".into(), "b".into(), "a".into()]);
        assert_eq!(e.messages, ["a", "b"]);
    }
}
