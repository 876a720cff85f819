//! Tracing helpers shared by the clients. Spans carry only the operation, the method, the path
//! template, the attempt number, the status and the elapsed time: never bodies (deliveries and
//! webhooks carry phone numbers and signing secrets), never the API key.

use http::Method;
use tracing::field::Empty;
use tracing::Span;

/// The name of the span around one call.
pub const SPAN_NAME: &str = "atoms_webhook.request";

/// Opens the span of one call (at `DEBUG` level); `attempt`, `status` and `elapsed_ms` are
/// recorded as the call goes on.
pub fn request_span(operation: &'static str, method: &Method, path_template: &'static str) -> Span {
    tracing::debug_span!(
        "atoms_webhook.request",
        operation,
        method = method.as_str(),
        path = path_template,
        attempt = Empty,
        status = Empty,
        elapsed_ms = Empty,
    )
}

/// Opens the span of a convenience that makes several calls (`add_agent_events`,
/// `delete_webhook_cascade`, ...); the calls' own spans nest inside it.
pub fn operation_span(operation: &'static str) -> Span {
    tracing::debug_span!("atoms_webhook.operation", operation)
}
