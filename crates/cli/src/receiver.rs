//! The local receiver behind `listen` and `demo`: reads the raw body under a size limit,
//! verifies `X-Signature` on those bytes, parses, prints a summary, optionally forwards.

use std::io::Write;
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::time::Duration;

use atoms_webhook_models::{EventType, Verifier, VerifyError, WebhookEvent};
use atoms_webhook_receiver::Outcome;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::{json, Value};

use crate::error::chain;
use crate::output::Style;

/// What the receiver tells an observer (the demo) about each request.
#[derive(Debug, Clone)]
pub enum Notice {
    /// A delivery verified and was accepted.
    Verified(EventType),
    /// A request was refused with this status.
    Rejected(u16),
}

/// Where verified bodies are forwarded.
#[derive(Debug, Clone)]
pub struct Forward {
    url: String,
    agent: ureq::Agent,
}

impl Forward {
    /// Forwards to `url`, each POST allowed `timeout`.
    pub fn new(url: impl Into<String>, timeout: Duration) -> Self {
        Self {
            url: url.into(),
            agent: http_agent(timeout),
        }
    }
}

/// A ureq agent that reports every status as a response (never as an error).
pub fn http_agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .max_redirects(0)
        .build()
        .new_agent()
}

/// The receiver's configuration, shared by its request handlers.
pub struct Receiver {
    core: atoms_webhook_receiver::Receiver,
    /// The same secrets, only to say why a signature was refused (mismatch or malformed).
    verifier: Verifier,
    forward: Option<Forward>,
    json: bool,
    style: Style,
    indent: &'static str,
    notify: Option<Sender<Notice>>,
}

impl Receiver {
    /// A receiver for `verifier` (which holds the secrets and the size limit).
    pub fn new(verifier: Verifier, json: bool) -> Self {
        Self {
            core: atoms_webhook_receiver::Receiver::from_verifier(verifier.clone()),
            verifier,
            forward: None,
            json,
            style: Style::stdout(),
            indent: "",
            notify: None,
        }
    }

    /// Forwards verified bodies.
    pub fn forward(mut self, forward: Option<Forward>) -> Self {
        self.forward = forward;
        self
    }

    /// Indents the human summaries (the demo nests them under its steps).
    pub fn indent(mut self, indent: &'static str) -> Self {
        self.indent = indent;
        self
    }

    /// Reports each request's outcome on `tx`.
    pub fn notify(mut self, tx: Sender<Notice>) -> Self {
        self.notify = Some(tx);
        self
    }

    /// The routes: POST on any path.
    pub fn router(self) -> Router {
        Router::new()
            .fallback(handle)
            // The limit is ours (`Verifier::max_body`), applied while reading.
            .layer(DefaultBodyLimit::disable())
            .with_state(Arc::new(self))
    }

    fn tell(&self, notice: Notice) {
        if let Some(tx) = &self.notify {
            // The observer may be gone (the demo timed out); nothing to do then.
            let _ = tx.send(notice);
        }
    }

    /// Refuses a request: one line on stderr, and the status.
    fn reject(&self, method: &Method, uri: &Uri, status: StatusCode, why: &str) -> Response {
        tracing::info!(status = status.as_u16(), "delivery rejected");
        let line = format!(
            "rejected {method} {}: {} {}",
            uri.path(),
            status.as_u16(),
            crate::error::one_line(why)
        );
        // Not `eprintln!`: a closed stderr must not bring the receiver down.
        let _ = writeln!(std::io::stderr().lock(), "{}", self.style_err(&line));
        self.tell(Notice::Rejected(status.as_u16()));
        let body = json!({ "received": false, "error": crate::error::one_line(why) });
        (status, axum::Json(body)).into_response()
    }

    /// Refuses a request the receive core rejected, saying why in words.
    fn refuse(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        body: &[u8],
        rejection: atoms_webhook_receiver::Rejection,
    ) -> Response {
        use atoms_webhook_receiver::Rejection;
        let why = match rejection {
            Rejection::TooLarge { limit } => match declared_length(headers) {
                Some(len) if len > limit as u64 => {
                    format!("body of {len} bytes is over the {limit}-byte limit")
                }
                _ => format!("body is over the {limit}-byte limit"),
            },
            // Only the words: the decision was the core's.
            Rejection::MissingSignature | Rejection::BadSignature => {
                match headers.get(atoms_webhook_models::SIGNATURE_HEADER) {
                    None => verify_reason(&VerifyError::MissingHeader),
                    Some(v) => v
                        .to_str()
                        .ok()
                        .and_then(|v| self.verifier.verify(body, v).err())
                        .map_or_else(|| rejection.to_string(), |e| verify_reason(&e)),
                }
            }
            Rejection::MethodNotAllowed => "deliveries are POSTs".to_owned(),
            other => other.to_string(),
        };
        let mut response = self.reject(method, uri, rejection.status(), &why);
        if rejection == Rejection::MethodNotAllowed {
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("POST"));
        }
        response
    }

    fn style_err(&self, line: &str) -> String {
        use std::io::IsTerminal;
        if std::io::stderr().is_terminal() && crate::term::no_color_unset() {
            format!("\x1b[33m{line}\x1b[0m")
        } else {
            line.to_owned()
        }
    }
}

/// Every request: POST with a verified, parseable body gets 200; see [`Receiver`]. The decision
/// is the receive core's (`atoms_webhook_receiver::Receiver`), the one implementation of
/// receiving in the project; this only reads the body and reports.
async fn handle(
    State(rx): State<Arc<Receiver>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let limit = rx.core.max_body_len();
    // The method and a declared length over the limit are refused before a byte is read.
    if let Err(rejection) = rx.core.check_head(&method, &headers) {
        return rx.refuse(&method, &uri, &headers, &[], rejection);
    }
    let bytes = match axum::body::to_bytes(body, limit).await {
        Ok(b) => b,
        Err(e) if is_length_limit(&e) => {
            let rejection = atoms_webhook_receiver::Rejection::TooLarge { limit };
            return rx.refuse(&method, &uri, &headers, &[], rejection);
        }
        Err(_) => {
            return rx.reject(
                &method,
                &uri,
                StatusCode::BAD_REQUEST,
                "could not read the body",
            )
        }
    };
    let event = match rx.core.receive(&method, &headers, &bytes) {
        Outcome::Verified(event) => *event,
        Outcome::Unparseable(u) => {
            let why = format!("unparseable: signature valid but {}", u.error);
            return rx.reject(&method, &uri, StatusCode::BAD_REQUEST, &why);
        }
        Outcome::Rejected(rejection) => {
            return rx.refuse(&method, &uri, &headers, &bytes, rejection)
        }
        _ => return rx.reject(&method, &uri, StatusCode::BAD_REQUEST, "not accepted"),
    };
    tracing::info!(event_type = %event.event_type(), bytes = bytes.len(), "delivery verified");

    let forwarded = match &rx.forward {
        Some(forward) => {
            let content_type = headers
                .get(header::CONTENT_TYPE)
                .cloned()
                .unwrap_or_else(|| HeaderValue::from_static("application/json"));
            // The older doc pages' header name is accepted too.
            let signature = headers
                .get("x-signature")
                .or_else(|| headers.get("x-atoms-signature"))
                .cloned();
            let forward = forward.clone();
            let body = bytes.to_vec();
            let result = tokio::task::spawn_blocking(move || {
                send_forward(&forward, content_type, signature, &body)
            })
            .await
            .unwrap_or_else(|e| Err(format!("forwarding task failed: {e}")));
            Some((rx.forward.as_ref().map(|f| f.url.clone()), result))
        }
        None => None,
    };

    let text = if rx.json {
        let mut line = event_json(&event);
        if let Some((url, result)) = &forwarded {
            line["forward"] = match result {
                Ok(status) => json!({ "url": url, "status": status }),
                Err(e) => json!({ "url": url, "error": e }),
            };
        }
        format!("{line}\n")
    } else {
        let mut text = summary(&event, rx.style, rx.indent);
        if let Some((url, result)) = &forwarded {
            let url = url.as_deref().unwrap_or("?");
            let line = match result {
                Ok(status) => {
                    let reason = StatusCode::from_u16(*status)
                        .ok()
                        .and_then(|s| s.canonical_reason())
                        .unwrap_or("");
                    format!("forwarded to {url}: {status} {reason}")
                }
                Err(e) => format!("forward to {url} failed: {e}"),
            };
            text.push_str(&format!("{}  {}\n", rx.indent, line.trim_end()));
        }
        text
    };
    if let Err(e) = std::io::stdout().lock().write_all(text.as_bytes()) {
        tracing::warn!("cannot write to stdout: {e}");
    }
    rx.tell(Notice::Verified(event.event_type()));
    (StatusCode::OK, axum::Json(json!({ "received": true }))).into_response()
}

/// The `Content-Length` a request announced.
fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
}

/// True when reading stopped because the body went over the limit.
fn is_length_limit(e: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if s.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = s.source();
    }
    false
}

/// One POST of the verified bytes, with the original content type and signature.
fn send_forward(
    forward: &Forward,
    content_type: HeaderValue,
    signature: Option<HeaderValue>,
    body: &[u8],
) -> Result<u16, String> {
    let mut request = forward
        .agent
        .post(forward.url.as_str())
        .header(header::CONTENT_TYPE, content_type);
    if let Some(signature) = signature {
        request = request.header("x-signature", signature);
    }
    match request.send(body) {
        Ok(response) => Ok(response.status().as_u16()),
        Err(e) => Err(crate::error::one_line(&chain(&e))),
    }
}

/// Why verification failed, in words (`missing`, `malformed`, `mismatch`, `unparseable`).
pub fn verify_reason(e: &VerifyError) -> String {
    match e {
        VerifyError::MissingHeader => "missing signature: no X-Signature header".to_owned(),
        VerifyError::MalformedHeader(why) => format!("malformed signature: {why}"),
        VerifyError::Mismatch => {
            "signature mismatch: the body was not signed with this secret".to_owned()
        }
        VerifyError::Parse(p) => format!("unparseable: signature valid but {p}"),
        other => other.to_string(),
    }
}

/// The event's kind for display: its type, or `unknown` for a type this version does not know.
fn kind(event: &WebhookEvent) -> String {
    if event.is_unknown() {
        "unknown".to_owned()
    } else {
        event.event_type().to_string()
    }
}

/// One JSON line per event: kind, ids, `verified`, and the event itself.
pub fn event_json(event: &WebhookEvent) -> Value {
    json!({
        "kind": kind(event),
        "eventType": event.event_type(),
        "callId": event.call_id(),
        "agentId": event.agent_id(),
        "deliveryId": event.delivery_id(),
        "verified": true,
        "event": event.to_value(),
    })
}

/// Cuts `s` to `max` characters, marking the cut.
fn cut(s: &str, max: usize) -> String {
    let s = crate::error::one_line(s);
    if s.chars().count() <= max {
        s
    } else {
        let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// A readable summary of one event, a few lines: kind, call, agent, delivery id, duration,
/// status, transcript turns, metrics. Phone numbers are left out.
pub fn summary(event: &WebhookEvent, style: Style, indent: &str) -> String {
    let or_dash = |v: Option<String>| v.unwrap_or_else(|| "-".to_owned());
    let call = or_dash(event.call_id().map(|c| c.to_string()));
    let agent = or_dash(event.agent_id().map(|a| a.to_string()));
    let delivery = or_dash(event.delivery_id().map(|d| d.to_string()));
    let title = if event.is_unknown() {
        style.yellow(&format!("unknown event {:?}", event.event_type().as_str()))
    } else {
        style.bold(&style.green(event.event_type().as_str()))
    };
    let mut out = format!(
        "{indent}{title}  call {}  agent {agent}  {}\n",
        style.cyan(&call),
        style.dim("verified")
    );
    let mut details = vec![format!("delivery {delivery}")];
    if let Some(data) = event.call_data() {
        if let Some(secs) = data.duration_secs() {
            details.push(format!("duration {secs:.1}s"));
        }
        if let Some(status) = &data.call_status {
            details.push(format!("status {status}"));
        }
    }
    match event {
        WebhookEvent::PreConversation(_) => {
            if let Some(t) = event.conversation_type() {
                details.push(format!("type {t}"));
            }
        }
        WebhookEvent::PostConversation(e) => {
            let turns = e.metadata.transcript.as_ref().map_or(0, Vec::len);
            details.push(format!("turns {turns}"));
        }
        WebhookEvent::Unknown(_) => {
            details.push("accepted: this version does not know the event type".to_owned())
        }
        _ => {}
    }
    out.push_str(&format!("{indent}  {}\n", details.join("  ")));
    if let WebhookEvent::AnalyticsCompleted(e) = event {
        if let Some(analytics) = &e.metadata.analytics {
            if let Some(s) = &analytics.summary {
                out.push_str(&format!("{indent}  summary  {}\n", cut(s, 100)));
            }
            let metrics: Vec<String> = analytics
                .disposition_list()
                .iter()
                .chain(analytics.success_list())
                .map(|m| {
                    let name = m.identifier.as_deref().unwrap_or("?");
                    let value = m
                        .value
                        .as_ref()
                        .map_or_else(|| "-".to_owned(), |v| cut(&v.to_string(), 40));
                    format!("{name}={value}")
                })
                .collect();
            // Several lines of about 100 columns rather than one very long one.
            let mut lines: Vec<String> = Vec::new();
            for m in metrics {
                match lines.last_mut() {
                    Some(l) if l.chars().count() + 2 + m.chars().count() <= 100 => {
                        l.push_str("  ");
                        l.push_str(&m);
                    }
                    _ => lines.push(m),
                }
            }
            for (i, l) in lines.iter().enumerate() {
                let label = if i == 0 { "metrics" } else { "       " };
                out.push_str(&format!("{indent}  {label}  {l}\n"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use atoms_webhook_emulator::sample::{call_events, CallOptions};

    #[test]
    fn summaries_name_the_essentials_and_no_phone_numbers() {
        let opts = CallOptions::new().turns(4);
        let events = call_events(&opts, "http://127.0.0.1/h", "d");
        let (from, to) = opts.numbers();
        let call_id = events[0].call_id().expect("a call id").to_string();
        for e in &events {
            let s = summary(e, Style::plain(), "");
            assert!(s.contains(&call_id), "{s}");
            assert!(s.contains(e.event_type().as_str()), "{s}");
            assert!(!s.contains(&from) && !s.contains(&to), "{s}");
        }
        assert!(summary(&events[1], Style::plain(), "").contains("turns 4"));
        let analytics = summary(&events[2], Style::plain(), "");
        assert!(analytics.contains("metrics  "), "{analytics}");
        assert!(analytics.contains('='), "{analytics}");
    }

    #[test]
    fn unknown_events_are_shown_as_unknown() {
        let e = WebhookEvent::from_slice(
            br#"{"id":"d1","metadata":{"eventType":"call-transferred","callId":"C1","agentId":"a"}}"#,
        )
        .unwrap();
        let s = summary(&e, Style::plain(), "");
        assert!(
            s.starts_with("unknown event \"call-transferred\"  call C1"),
            "{s}"
        );
        let j = event_json(&e);
        assert_eq!(j["kind"], "unknown");
        assert_eq!(j["eventType"], "call-transferred");
        assert_eq!(j["verified"], true);
    }
}
