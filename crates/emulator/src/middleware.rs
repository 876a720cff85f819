//! What runs around the handlers: the API's gate (hit counting, injected faults, Bearer
//! authentication), the emulator routes' key check, and request logging. Above the shared
//! state and the responses; the server composes these with the handlers.

use std::sync::Arc;
use std::time::Instant;

use axum::{
    extract::{MatchedPath, Request, State as AxState},
    http::StatusCode,
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::control::Fault;
use crate::responses::{raw_response, ApiError};
use crate::routes::{webhook_id_param, Op};
use crate::shared::Shared;

/// Runs before every API handler: counts the hit, applies a queued fault, then checks the
/// Bearer key. Counting comes first so that tests see every attempt, even refused ones.
pub(crate) async fn gate(
    AxState(shared): AxState<Arc<Shared>>,
    req: Request,
    next: Next,
) -> Response {
    let op = req.extensions().get::<MatchedPath>().and_then(|m| {
        let has_id = webhook_id_param(req.uri().query()).is_some();
        Op::classify(req.method(), m.as_str(), has_id)
    });
    let fault = op.and_then(|op| {
        shared.record_hit(op);
        shared.next_fault(op)
    });
    match fault {
        None => authorize_then_run(shared, req, next).await,
        Some(Fault::Respond {
            status,
            headers,
            body,
        }) => raw_response(status, &headers, body),
        Some(Fault::Delay(d)) => {
            // A separate task, so that the request is still handled (and the state changed)
            // when the client gives up and hyper drops this connection's future.
            let task = tokio::spawn(async move {
                tokio::time::sleep(d).await;
                authorize_then_run(shared, req, next).await
            });
            match task.await {
                Ok(response) => response,
                Err(_) => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal error")
                    .into_response(),
            }
        }
    }
}

/// Runs before every emulator-only handler: the Bearer key check alone (these routes are not
/// API operations, so they are neither counted nor faulted).
pub(crate) async fn require_key(
    AxState(shared): AxState<Arc<Shared>>,
    req: Request,
    next: Next,
) -> Response {
    authorize_then_run(shared, req, next).await
}

async fn authorize_then_run(shared: Arc<Shared>, req: Request, next: Next) -> Response {
    if !shared.authorized(req.headers()) {
        return ApiError::unauthorized();
    }
    next.run(req).await
}

/// One log line per request: method, path, status, time. Never the query, headers or body.
pub(crate) async fn log_request(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let start = Instant::now();
    let response = next.run(req).await;
    tracing::info!(
        %method,
        path = %path,
        status = response.status().as_u16(),
        elapsed_ms = u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX),
        "request"
    );
    response
}
