//! The HTTP server around the routes: the composed application, the per-request gate (hits,
//! faults, auth), JSON for every error axum itself produces, request logging, the counting
//! listener, and the serve loop with graceful then forced shutdown.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::{
    body::Body,
    extract::{MatchedPath, Request, State as AxState},
    http::{header, HeaderName, HeaderValue, StatusCode},
    middleware::{from_fn, map_response, Next},
    response::{IntoResponse, Response},
    Router,
};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::admin;
use crate::api::{self, ApiError};
use crate::control::{Fault, Op};
use crate::shared::{DoneGuard, Shared};

/// After a stop is requested, requests in flight get this long to finish before the server
/// drops them.
pub(crate) const GRACE: Duration = Duration::from_secs(1);

/// The whole application: the API, the emulator-only routes under `/_emulator/...`, a JSON
/// 404 for anything else, and the response-wide layers.
///
/// New routes are merged here; they do not pass through the API's gate (no auth, no hit
/// counting, no faults) unless they add it themselves with `route_layer(from_fn_with_state(.., gate))`.
pub(crate) fn app(shared: Arc<Shared>) -> Router {
    Router::new()
        .merge(api::router(shared.clone()))
        .merge(admin::router(shared))
        .fallback(not_found)
        .layer(map_response(json_errors))
        .layer(from_fn(log_request))
}

/// Marks a response made by a [`Fault::Respond`], which must go out exactly as configured.
#[derive(Clone, Copy, Debug)]
struct RawFault;

/// Runs before every API handler: counts the hit, applies a queued fault, then checks the
/// Bearer key. Counting comes first so that tests see every attempt, even refused ones.
pub(crate) async fn gate(
    AxState(shared): AxState<Arc<Shared>>,
    req: Request,
    next: Next,
) -> Response {
    let op = req.extensions().get::<MatchedPath>().and_then(|m| {
        let has_id = api::webhook_id_param(req.uri().query()).is_some();
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
        let mut response =
            ApiError::new(StatusCode::UNAUTHORIZED, api::MSG_UNAUTHORIZED).into_response();
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return response;
    }
    next.run(req).await
}

fn raw_response(status: u16, headers: &[(String, String)], body: String) -> Response {
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
async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "Not found")
}

/// Gives every error the API's JSON envelope, including those axum produces itself (405 for a
/// wrong method, 413 for an oversized body, ...). Injected faults are left untouched.
async fn json_errors(response: Response) -> Response {
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

/// One log line per request: method, path, status, time. Never the query, headers or body.
async fn log_request(req: Request, next: Next) -> Response {
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

/// A TCP listener that counts accepted connections and turns Nagle off (small JSON answers
/// on kept-alive connections would otherwise wait for delayed ACKs).
pub(crate) struct CountingListener {
    inner: TcpListener,
    shared: Arc<Shared>,
}

impl axum::serve::Listener for CountingListener {
    type Io = TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (io, addr) = axum::serve::Listener::accept(&mut self.inner).await;
        if let Err(e) = io.set_nodelay(true) {
            tracing::debug!("could not set TCP_NODELAY: {e}");
        }
        self.shared.connection_accepted();
        (io, addr)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// Serves until `stop` turns true (or its sender is dropped): then stops accepting, lets open
/// requests finish for up to [`GRACE`], and returns. `done` is released on return.
pub(crate) async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    stop: watch::Receiver<bool>,
    done: DoneGuard,
) {
    let app = app(shared.clone());
    let listener = CountingListener {
        inner: listener,
        shared,
    };
    let mut graceful_stop = stop.clone();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        let _ = graceful_stop.wait_for(|stopped| *stopped).await;
    });
    let mut forced_stop = stop;
    let deadline = async move {
        let _ = forced_stop.wait_for(|stopped| *stopped).await;
        tokio::time::sleep(GRACE).await;
    };
    tokio::select! {
        result = server => {
            if let Err(e) = result {
                tracing::error!("emulator server failed: {e}");
            }
        }
        () = deadline => tracing::debug!("grace period over; dropping open requests"),
    }
    drop(done);
}
