//! Event delivery as the platform does it: for each event of a call, in order, one signed POST
//! to every enabled webhook subscribed to that agent and event type, no retries; and the
//! delivery log.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use atoms_webhook_models::testkit::SampleCall;
use atoms_webhook_models::{
    sign, CallId, DeliveryId, EventType, Timestamp, WebhookId, SIGNATURE_HEADER,
};
use reqwest::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use serde::{Deserialize, Serialize};

use crate::state::DeliveryTarget;

/// How long a delivery may take unless the builder says otherwise (the platform's timeout).
pub const DEFAULT_DELIVERY_TIMEOUT: Duration = Duration::from_secs(30);

/// The delivery log keeps at most this many records (the oldest go first).
pub const MAX_LOGGED_DELIVERIES: usize = 10_000;

/// The `User-Agent` of deliveries.
const USER_AGENT: &str = concat!("atoms-webhook-emulator/", env!("CARGO_PKG_VERSION"));

/// How one delivery attempt ended.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "camelCase")]
#[non_exhaustive]
pub enum DeliveryOutcome {
    /// The receiver answered with a 2xx status.
    Delivered {
        /// The HTTP status.
        status: u16,
    },
    /// The receiver answered with another status (redirects are not followed).
    Failed {
        /// The HTTP status.
        status: u16,
    },
    /// No answer: connection refused or reset, timeout, invalid URL. The reason names the kind
    /// of failure only (never the body, the headers or the URL).
    Error {
        /// What went wrong, e.g. `timed out after 30000 ms`.
        reason: String,
    },
    /// Not sent, on purpose (`"drop"` of `POST /_emulator/calls`, [`Scenario::drop`]): as if
    /// the receiver had been down.
    ///
    /// [`Scenario::drop`]: crate::Scenario::drop
    Dropped,
}

impl DeliveryOutcome {
    /// True for [`DeliveryOutcome::Delivered`].
    pub fn is_delivered(&self) -> bool {
        matches!(self, DeliveryOutcome::Delivered { .. })
    }

    /// The receiver's HTTP status, when it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            DeliveryOutcome::Delivered { status } | DeliveryOutcome::Failed { status } => {
                Some(*status)
            }
            DeliveryOutcome::Error { .. } | DeliveryOutcome::Dropped => None,
        }
    }
}

/// One delivery attempt, as the delivery log keeps it. In JSON (camelCase):
/// `{"time", "webhookId", "url", "eventType", "callId", "deliveryId",
/// "outcome": {"result": "delivered"|"failed"|"error", "status"|"reason"}, "elapsedMs"}`.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct DeliveryRecord {
    /// When the attempt started.
    pub time: Timestamp,
    /// The webhook delivered to.
    pub webhook_id: WebhookId,
    /// The URL posted to.
    pub url: String,
    /// The event delivered.
    pub event_type: EventType,
    /// The call the event belongs to.
    pub call_id: CallId,
    /// The delivery's `id` (in the body).
    pub delivery_id: DeliveryId,
    /// How it ended.
    pub outcome: DeliveryOutcome,
    /// How long the attempt took, in milliseconds.
    pub elapsed_ms: u64,
}

/// What [`Emulator::simulate_call`](crate::Emulator::simulate_call) did: the call's id and one
/// record per delivery attempt, in delivery order (event by event; within an event, in
/// subscription order). Disabled webhooks have no records.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CallReport {
    /// The call's id, shared by its three events.
    pub call_id: CallId,
    /// Every attempt made for the call.
    pub deliveries: Vec<DeliveryRecord>,
}

impl CallReport {
    /// True when every attempt was delivered (also when there were none). A dropped delivery
    /// is not delivered.
    pub fn all_delivered(&self) -> bool {
        self.deliveries.iter().all(|r| r.outcome.is_delivered())
    }

    /// The deliveries that were dropped on purpose.
    pub fn dropped(&self) -> impl Iterator<Item = &DeliveryRecord> {
        self.deliveries
            .iter()
            .filter(|r| r.outcome == DeliveryOutcome::Dropped)
    }
}

/// The delivery engine's configuration and the log, shared by the emulator handle and the
/// server.
#[derive(Debug)]
pub(crate) struct Deliverer {
    client: reqwest::Client,
    timeout: Duration,
    log: Mutex<VecDeque<DeliveryRecord>>,
}

impl Deliverer {
    pub(crate) fn new(timeout: Duration) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .no_proxy()
            .user_agent(USER_AGENT)
            // A delivery is one POST: a redirect is an answer like any other non-2xx.
            .redirect(reqwest::redirect::Policy::none())
            // No connection outlives its delivery, so the client can be used from any runtime
            // (the sync `simulate_call` runs each call on a runtime of its own).
            .pool_max_idle_per_host(0)
            .build()?;
        Ok(Self {
            client,
            timeout,
            log: Mutex::new(VecDeque::new()),
        })
    }

    /// A copy of the log, oldest first.
    pub(crate) fn records(&self) -> Vec<DeliveryRecord> {
        self.log().iter().cloned().collect()
    }

    pub(crate) fn clear(&self) {
        self.log().clear();
    }

    fn push(&self, record: DeliveryRecord) {
        let mut log = self.log();
        if log.len() >= MAX_LOGGED_DELIVERIES {
            log.pop_front();
        }
        log.push_back(record);
    }

    fn log(&self) -> std::sync::MutexGuard<'_, VecDeque<DeliveryRecord>> {
        self.log.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// How [`run_call`] treats the deliveries of a call.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Mode<'a> {
    /// Send them.
    Send,
    /// Record each as failed with this reason, sending nothing (no runtime could be started).
    Fail(&'a str),
}

/// Delivers the call's three events in order. Each event goes to its subscribers (`targets`)
/// at once, and the next event waits until every delivery of the previous one has ended.
/// Events in `drop` are not sent: each of their deliveries is recorded as
/// [`DeliveryOutcome::Dropped`]. Disabled webhooks get nothing and no record. Needs a tokio
/// runtime in [`Mode::Send`] (the deliveries are spawned on the current one).
pub(crate) async fn run_call(
    deliverer: &Deliverer,
    targets: impl Fn(&EventType) -> Vec<DeliveryTarget>,
    call: &SampleCall,
    drop: &[EventType],
    mode: Mode<'_>,
) -> CallReport {
    let mut records = Vec::new();
    let mut n = 0;
    for event_type in EventType::ALL {
        let mut attempts = Vec::new();
        let mut ended = Vec::new();
        for target in targets(&event_type) {
            let Some(prepared) = prepare(call, &event_type, &target, n) else {
                continue;
            };
            n += 1;
            let early = if drop.contains(&event_type) {
                Some(DeliveryOutcome::Dropped)
            } else if let Mode::Fail(reason) = mode {
                Some(DeliveryOutcome::Error {
                    reason: reason.to_owned(),
                })
            } else {
                None
            };
            match early {
                Some(outcome) => {
                    ended.push((prepared.delivery_id, (target, Timestamp::now(), outcome, 0)))
                }
                None => {
                    let send = send(
                        deliverer.client.clone(),
                        deliverer.timeout,
                        target,
                        prepared.body,
                        prepared.signature,
                    );
                    attempts.push((prepared.delivery_id, tokio::spawn(send)));
                }
            }
        }
        for (delivery_id, attempt) in attempts {
            match attempt.await {
                Ok(done) => ended.push((delivery_id, done)),
                // `send` does not panic; if it ever did, its record would otherwise be lost.
                Err(e) => tracing::error!("delivery task failed: {e}"),
            }
        }
        for (delivery_id, (target, time, outcome, elapsed_ms)) in ended {
            let record = DeliveryRecord {
                time,
                webhook_id: target.webhook_id,
                url: target.url,
                event_type: event_type.clone(),
                call_id: call.call_id.clone(),
                delivery_id,
                outcome,
                elapsed_ms,
            };
            log_line(&record);
            deliverer.push(record.clone());
            records.push(record);
        }
    }
    CallReport {
        call_id: call.call_id.clone(),
        deliveries: records,
    }
}

struct Prepared {
    delivery_id: DeliveryId,
    body: Vec<u8>,
    signature: String,
}

/// The body of delivery number `n` of the call, for one webhook, and its signature; `None`
/// for a disabled webhook.
fn prepare(
    call: &SampleCall,
    event_type: &EventType,
    target: &DeliveryTarget,
    n: u64,
) -> Option<Prepared> {
    if !target.enabled {
        tracing::debug!(
            webhook_id = %target.webhook_id,
            subscription_id = %target.subscription_id,
            event_type = %event_type,
            "webhook disabled; delivery skipped"
        );
        return None;
    }
    let delivery_id = call.delivery_id(n);
    let body = call.body(event_type, &target.url, &target.description, &delivery_id)?;
    Some(Prepared {
        delivery_id,
        signature: sign(&target.secret, &body),
        body,
    })
}

/// One POST, no retry. Gives back the target (for the record), the start time, the outcome and
/// the elapsed milliseconds.
async fn send(
    client: reqwest::Client,
    timeout: Duration,
    target: DeliveryTarget,
    body: Vec<u8>,
    signature: String,
) -> (DeliveryTarget, Timestamp, DeliveryOutcome, u64) {
    let time = Timestamp::now();
    let mut request = client.post(target.url.as_str()).timeout(timeout);
    for (name, value) in &target.headers {
        // The API validated these; bytes rather than `from_str` so that non-ASCII values
        // (allowed by the API) go out as sent.
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_bytes(value.as_bytes()),
        ) {
            (Ok(name), Ok(value)) => request = request.header(name, value),
            _ => tracing::warn!(webhook_id = %target.webhook_id, "invalid custom header left out"),
        }
    }
    let request = request
        .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
        .header(SIGNATURE_HEADER, signature)
        .body(body);
    let start = Instant::now();
    let outcome = match request.send().await {
        Ok(response) => {
            let status = response.status();
            if status.is_success() {
                DeliveryOutcome::Delivered {
                    status: status.as_u16(),
                }
            } else {
                DeliveryOutcome::Failed {
                    status: status.as_u16(),
                }
            }
        }
        Err(e) => DeliveryOutcome::Error {
            reason: reason(&e, timeout),
        },
    };
    let elapsed_ms = u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX);
    (target, time, outcome, elapsed_ms)
}

/// A short description of a failed attempt: its kind, and the innermost cause (an operating
/// system or protocol error). reqwest's own message is left out because it quotes the URL,
/// which may carry a token.
fn reason(e: &reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        return format!("timed out after {} ms", timeout.as_millis());
    }
    let kind = if e.is_builder() {
        "invalid request"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    let mut cause: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(inner) = cause.and_then(std::error::Error::source) {
        cause = Some(inner);
    }
    match cause {
        Some(cause) => format!("{kind}: {cause}"),
        None => kind.to_owned(),
    }
}

/// One log line per delivery: no body, secret, URL or phone number.
fn log_line(r: &DeliveryRecord) {
    match &r.outcome {
        DeliveryOutcome::Delivered { status } => tracing::info!(
            event_type = %r.event_type,
            webhook_id = %r.webhook_id,
            call_id = %r.call_id,
            status,
            elapsed_ms = r.elapsed_ms,
            "delivered"
        ),
        DeliveryOutcome::Failed { status } => tracing::warn!(
            event_type = %r.event_type,
            webhook_id = %r.webhook_id,
            call_id = %r.call_id,
            status,
            elapsed_ms = r.elapsed_ms,
            "delivery failed"
        ),
        DeliveryOutcome::Dropped => tracing::info!(
            event_type = %r.event_type,
            webhook_id = %r.webhook_id,
            call_id = %r.call_id,
            "delivery dropped on purpose"
        ),
        DeliveryOutcome::Error { reason } => tracing::warn!(
            event_type = %r.event_type,
            webhook_id = %r.webhook_id,
            call_id = %r.call_id,
            reason = %reason,
            elapsed_ms = r.elapsed_ms,
            "delivery failed"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_json() {
        let cases = [
            (
                DeliveryOutcome::Delivered { status: 204 },
                r#"{"result":"delivered","status":204}"#,
            ),
            (
                DeliveryOutcome::Failed { status: 500 },
                r#"{"result":"failed","status":500}"#,
            ),
            (
                DeliveryOutcome::Error {
                    reason: "timed out after 5 ms".into(),
                },
                r#"{"result":"error","reason":"timed out after 5 ms"}"#,
            ),
            (DeliveryOutcome::Dropped, r#"{"result":"dropped"}"#),
        ];
        for (outcome, json) in cases {
            assert_eq!(serde_json::to_string(&outcome).unwrap(), json);
            assert_eq!(
                serde_json::from_str::<DeliveryOutcome>(json).unwrap(),
                outcome
            );
        }
        assert_eq!(DeliveryOutcome::Failed { status: 500 }.status(), Some(500));
        assert!(!DeliveryOutcome::Failed { status: 500 }.is_delivered());
    }

    #[test]
    fn log_keeps_the_newest() {
        let d = Deliverer::new(Duration::from_secs(1)).unwrap();
        let record = |n: usize| DeliveryRecord {
            time: Timestamp::now(),
            webhook_id: WebhookId::new("w"),
            url: "http://127.0.0.1/".into(),
            event_type: EventType::PreConversation,
            call_id: CallId::new(format!("CALL-{n}")),
            delivery_id: DeliveryId::new("d"),
            outcome: DeliveryOutcome::Delivered { status: 200 },
            elapsed_ms: 1,
        };
        for n in 0..MAX_LOGGED_DELIVERIES + 2 {
            d.push(record(n));
        }
        let records = d.records();
        assert_eq!(records.len(), MAX_LOGGED_DELIVERIES);
        assert_eq!(records[0].call_id, CallId::new("CALL-2"));
        d.clear();
        assert!(d.records().is_empty());
    }
}
