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
#[inline]
pub fn request_span(operation: &'static str, method: &Method, path_template: &'static str) -> Span {
    if nothing_records_debug() {
        return Span::none();
    }
    make_request_span(operation, method, path_template)
}

#[inline(never)]
fn make_request_span(
    operation: &'static str,
    method: &Method,
    path_template: &'static str,
) -> Span {
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
    if nothing_records_debug() {
        return Span::none();
    }
    tracing::debug_span!("atoms_webhook.operation", operation)
}

/// Whether no tracing subscriber takes `DEBUG` spans and `log` writes no `DEBUG` lines. Then
/// the spans are `Span::none()`, which costs nothing to enter, leave or drop. Otherwise they are
/// made as usual: with tracing's `log` feature (which axum turns on), a span no subscriber
/// records still carries its metadata, and entering, leaving and dropping it each ask the
/// logger; that is left as it is whenever the logger may write its lines.
#[inline]
fn nothing_records_debug() -> bool {
    tracing::level_filters::LevelFilter::current() < tracing::Level::DEBUG
        && log::max_level() < log::LevelFilter::Debug
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_are_none_until_something_can_record_them() {
        // No subscriber and no logger in this test binary: nothing could record the spans.
        assert!(request_span("get_webhook", &Method::GET, "/webhook?webhookId={id}").is_none());
        assert!(operation_span("add_agent_events").is_none());

        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_writer(std::io::sink)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let span = request_span("get_webhook", &Method::GET, "/webhook?webhookId={id}");
            assert!(!span.is_disabled());
            assert_eq!(span.metadata().map(|m| m.name()), Some(SPAN_NAME));
            assert!(!operation_span("add_agent_events").is_disabled());
        });
    }
}
