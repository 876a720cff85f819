//! Event delivery to real receivers on 127.0.0.1: order, signatures, bodies, custom headers,
//! subscriptions, disabled webhooks, failures without retry, timeouts, the delivery log, the
//! emulator-only routes, and the blocking `simulate_call` in and out of tokio.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use atoms_webhook_emulator::{
    CallOptions, CallReport, DeliveryOutcome, DeliveryRecord, Emulator, Op,
};
use atoms_webhook_models::{
    CallDirection, EventType, SigningSecret, Variables, Verifier, WebhookEvent, WebhookId,
    WebhookStatus,
};
use axum::{extract::Request, http::HeaderMap, http::StatusCode, Router};
use common::*;
use reqwest::Method;
use serde_json::{json, Value};

const ALL_EVENTS: [&str; 3] = [
    "pre-conversation",
    "post-conversation",
    "analytics-completed",
];
const UNAUTHORIZED: &str = r#"{"status":false,"errors":["Unauthorized: User not found"]}"#;

/// One request a receiver got.
#[derive(Clone, Debug)]
struct Hit {
    method: String,
    path: String,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Hit {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("no {name} header in {:?}", self.headers))
            .to_str()
            .unwrap()
    }

    fn event(&self) -> WebhookEvent {
        WebhookEvent::from_slice(&self.body).expect("the body parses")
    }
}

/// A webhook receiver: records every request (before answering), then answers `status` with
/// an empty body, or never answers (`None`).
struct Receiver {
    url: String,
    hits: Arc<Mutex<Vec<Hit>>>,
}

impl Receiver {
    async fn start() -> Self {
        Self::answering(200).await
    }

    async fn answering(status: u16) -> Self {
        Self::with(Some(status)).await
    }

    /// Records the request and never answers (until the test ends).
    async fn hanging() -> Self {
        Self::with(None).await
    }

    async fn with(status: Option<u16>) -> Self {
        let hits: Arc<Mutex<Vec<Hit>>> = Arc::default();
        let keep = hits.clone();
        let app = Router::new().fallback(move |req: Request| {
            let keep = keep.clone();
            async move {
                let (parts, body) = req.into_parts();
                let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
                keep.lock().unwrap().push(Hit {
                    method: parts.method.to_string(),
                    path: parts.uri.path().to_owned(),
                    headers: parts.headers,
                    body: body.to_vec(),
                });
                match status {
                    Some(status) => StatusCode::from_u16(status).unwrap(),
                    None => std::future::pending().await,
                }
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, hits }
    }

    fn hits(&self) -> Vec<Hit> {
        self.hits.lock().unwrap().clone()
    }
}

/// A URL where nothing listens: a port bound (so that no one else gets it while the test
/// runs) but not listening, so that connecting is refused at once.
struct Closed {
    _socket: tokio::net::TcpSocket,
    url: String,
}

fn closed() -> Closed {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let url = format!("http://{}/hook", socket.local_addr().unwrap());
    Closed {
        _socket: socket,
        url,
    }
}

fn pairs<'a>(agent: &'a str, events: &[&'a str]) -> Vec<(&'a str, &'a str)> {
    events.iter().map(|e| (agent, *e)).collect()
}

async fn secret_of(c: &Client, id: &str) -> SigningSecret {
    let w = c.webhook(id).await;
    SigningSecret::new(w["decryptedSecretKey"].as_str().expect("secret"))
}

fn records_of<'a>(records: &'a [DeliveryRecord], webhook: &str) -> Vec<&'a DeliveryRecord> {
    records.iter().filter(|r| r.webhook_id == webhook).collect()
}

fn event_types(hits: &[Hit]) -> Vec<EventType> {
    hits.iter().map(|h| h.event().event_type()).collect()
}

#[tokio::test]
async fn a_call_delivers_three_signed_events_in_order() {
    let c = Client::start().await;
    let rx = Receiver::start().await;
    let id = c.create(&rx.url, &pairs(AGENT, &ALL_EVENTS)).await;
    c.patch(
        &format!("/webhook/{id}"),
        json!({"headers": {"X-Tenant": "acme", "Authorization": "Bearer receiver-token"}}),
    )
    .await
    .data(200);
    let secret = secret_of(&c, &id).await;
    let verifier = Verifier::new(secret.clone()).unwrap();

    let report = c
        .emu
        .simulate_call_async(CallOptions::new().agent_id(AGENT).turns(6))
        .await;

    let hits = rx.hits();
    assert_eq!(event_types(&hits), EventType::ALL.to_vec());
    assert_eq!(report.deliveries.len(), 3);
    let mut delivery_ids = Vec::new();
    for (hit, record) in hits.iter().zip(&report.deliveries) {
        assert_eq!(hit.method, "POST");
        assert_eq!(hit.path, "/hook");
        assert_eq!(hit.header("content-type"), "application/json");
        assert!(
            hit.header("user-agent")
                .starts_with("atoms-webhook-emulator/"),
            "{}",
            hit.header("user-agent")
        );
        assert_eq!(hit.header("x-tenant"), "acme");
        assert_eq!(hit.header("authorization"), "Bearer receiver-token");
        assert_eq!(hit.headers.get_all("x-signature").iter().count(), 1);
        let event = verifier
            .verify_and_parse(&hit.body, hit.header("x-signature"))
            .expect("the signature verifies with the webhook's secret");

        let v: Value = serde_json::from_slice(&hit.body).unwrap();
        assert_eq!(v["url"], json!(rx.url));
        assert_eq!(v["description"], "test hook");
        assert_eq!(
            v["event"],
            format!("{AGENT}.{}", event.event_type()).as_str()
        );
        assert_eq!(event.agent_id().unwrap(), AGENT);
        assert_eq!(event.call_id(), Some(&report.call_id));
        let delivery_id = event.delivery_id().unwrap().clone();
        assert!(delivery_id.is_object_id(), "{delivery_id}");
        delivery_ids.push(delivery_id.clone());

        assert_eq!(record.webhook_id, id.as_str());
        assert_eq!(record.url, rx.url);
        assert_eq!(record.event_type, event.event_type());
        assert_eq!(record.call_id, report.call_id);
        assert_eq!(record.delivery_id, delivery_id);
        assert_eq!(record.outcome, DeliveryOutcome::Delivered { status: 200 });
    }
    delivery_ids.sort();
    delivery_ids.dedup();
    assert_eq!(delivery_ids.len(), 3, "delivery ids are distinct");

    match hits[0].event() {
        WebhookEvent::PreConversation(e) => {
            assert!(e.metadata.from_phone.is_some() && e.metadata.to_phone.is_some());
        }
        other => panic!("expected pre-conversation first, got {other:?}"),
    }
    match hits[1].event() {
        WebhookEvent::PostConversation(e) => {
            let vars = e.metadata.variables.as_ref().expect("variables");
            for key in Variables::STANDARD_KEYS {
                assert!(vars.get(key).is_some(), "standard variable {key} missing");
            }
            assert_eq!(vars.call_id(), Some(report.call_id.as_str()));
            let transcript = e.metadata.transcript.as_ref().expect("transcript");
            assert_eq!(transcript.len(), 6);
            assert!(transcript.iter().any(|t| !t.text().is_ascii()));
            assert!(e.metadata.recording_url.is_some());
            let data = e.metadata.call_data.as_ref().expect("callData");
            assert!(data.call_direction.is_some());
            assert!(data.duration_secs().unwrap() > 0.0);
        }
        other => panic!("expected post-conversation second, got {other:?}"),
    }
    match hits[2].event() {
        WebhookEvent::AnalyticsCompleted(e) => {
            let analytics = e.metadata.analytics.as_ref().expect("analytics");
            assert!(analytics.summary.is_some());
            assert!(analytics.disposition_list().len() >= 3);
            assert!(!analytics.success_list().is_empty());
        }
        other => panic!("expected analytics-completed last, got {other:?}"),
    }

    // The same secret is what `emu.webhooks()` shows, and the log holds the report's records.
    let shown = c.emu.webhooks()[0].decrypted_secret_key.clone().unwrap();
    assert_eq!(shown, secret);
    assert_eq!(c.emu.deliveries(), report.deliveries);
    assert!(report.all_delivered());
}

#[tokio::test]
async fn only_subscribed_event_types_are_sent() {
    let c = Client::start().await;
    let rx = Receiver::start().await;
    let other = Receiver::start().await;
    let id = c
        .create(
            &rx.url,
            &pairs(AGENT, &["pre-conversation", "analytics-completed"]),
        )
        .await;
    // Another agent's subscription does not make this agent's calls go there.
    c.create(&other.url, &pairs(AGENT_2, &ALL_EVENTS)).await;

    let report = c
        .emu
        .simulate_call_async(CallOptions::new().agent_id(AGENT))
        .await;
    assert_eq!(
        event_types(&rx.hits()),
        [EventType::PreConversation, EventType::AnalyticsCompleted]
    );
    assert!(other.hits().is_empty());
    let types: Vec<EventType> = report
        .deliveries
        .iter()
        .map(|r| r.event_type.clone())
        .collect();
    assert_eq!(
        types,
        [EventType::PreConversation, EventType::AnalyticsCompleted]
    );
    assert!(report
        .deliveries
        .iter()
        .all(|r| r.webhook_id == id.as_str()));

    // An agent nobody subscribed to: a call delivers nothing.
    let none = c
        .emu
        .simulate_call_async(CallOptions::new().agent_id(UNKNOWN_ID))
        .await;
    assert!(none.deliveries.is_empty());
    assert_eq!(rx.hits().len(), 2);
}

#[tokio::test]
async fn every_subscribed_webhook_receives_its_own_signed_copy() {
    let c = Client::start().await;
    let (rx1, rx2) = (Receiver::start().await, Receiver::start().await);
    let id1 = c.create(&rx1.url, &pairs(AGENT, &ALL_EVENTS)).await;
    let id2 = c.create(&rx2.url, &pairs(AGENT, &ALL_EVENTS)).await;
    let (s1, s2) = (secret_of(&c, &id1).await, secret_of(&c, &id2).await);
    assert_ne!(s1, s2);

    let report = c
        .emu
        .simulate_call_async(CallOptions::new().agent_id(AGENT))
        .await;
    assert_eq!(report.deliveries.len(), 6);
    assert!(report.all_delivered());
    // Event by event: both copies of an event before the next event.
    let order: Vec<(EventType, String)> = report
        .deliveries
        .iter()
        .map(|r| (r.event_type.clone(), r.webhook_id.to_string()))
        .collect();
    let expected: Vec<(EventType, String)> = EventType::ALL
        .iter()
        .flat_map(|t| [(t.clone(), id1.clone()), (t.clone(), id2.clone())])
        .collect();
    assert_eq!(order, expected);

    let mut ids = Vec::new();
    for (rx, mine, theirs) in [(&rx1, &s1, &s2), (&rx2, &s2, &s1)] {
        let hits = rx.hits();
        assert_eq!(event_types(&hits), EventType::ALL.to_vec());
        for hit in &hits {
            let sig = hit.header("x-signature");
            assert!(Verifier::new(mine.clone())
                .unwrap()
                .verify(&hit.body, sig)
                .is_ok());
            assert!(Verifier::new(theirs.clone())
                .unwrap()
                .verify(&hit.body, sig)
                .is_err());
            let event = hit.event();
            assert_eq!(event.call_id(), Some(&report.call_id));
            ids.push(event.delivery_id().unwrap().clone());
            assert_eq!(event.to_value()["url"], json!(rx.url));
        }
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 6, "every delivery has its own id");
}

#[tokio::test]
async fn a_disabled_webhook_receives_nothing() {
    let c = Client::start().await;
    let (on, off) = (Receiver::start().await, Receiver::start().await);
    c.create(&on.url, &pairs(AGENT, &ALL_EVENTS)).await;
    let off_id = c.create(&off.url, &pairs(AGENT, &ALL_EVENTS)).await;
    assert!(c
        .emu
        .set_webhook_status(&WebhookId::new(off_id.as_str()), WebhookStatus::Disabled));
    assert!(!c
        .emu
        .set_webhook_status(&WebhookId::new(UNKNOWN_ID), WebhookStatus::Disabled));
    assert_eq!(c.webhook(&off_id).await["status"], "disabled");

    let report = c
        .emu
        .simulate_call_async(CallOptions::new().agent_id(AGENT))
        .await;
    assert_eq!(on.hits().len(), 3);
    assert!(off.hits().is_empty());
    assert!(records_of(&report.deliveries, &off_id).is_empty());
    assert!(records_of(&c.emu.deliveries(), &off_id).is_empty());
    assert_eq!(c.emu.deliveries().len(), 3);

    c.emu
        .set_webhook_status(&WebhookId::new(off_id.as_str()), WebhookStatus::Enabled);
    c.emu
        .simulate_call_async(CallOptions::new().agent_id(AGENT))
        .await;
    assert_eq!(off.hits().len(), 3);
}

#[tokio::test]
async fn a_receiver_that_is_down_gets_one_error_per_event_and_others_still_receive() {
    let c = Client::start().await;
    let closed = closed();
    let down = closed.url.clone();
    let rx = Receiver::start().await;
    let down_id = c.create(&down, &pairs(AGENT, &ALL_EVENTS)).await;
    let ok_id = c.create(&rx.url, &pairs(AGENT, &ALL_EVENTS)).await;
    let secret = secret_of(&c, &down_id).await;

    let report = c
        .emu
        .simulate_call_async(CallOptions::new().agent_id(AGENT))
        .await;
    let failed = records_of(&report.deliveries, &down_id);
    assert_eq!(failed.len(), 3, "one attempt per event, no retry");
    for (record, event_type) in failed.iter().zip(EventType::ALL) {
        assert_eq!(record.event_type, event_type);
        assert_eq!(record.url, down);
        match &record.outcome {
            DeliveryOutcome::Error { reason } => {
                assert!(reason.contains("connect"), "{reason}");
                for leak in [secret.expose(), report.call_id.as_str(), "+91", &down] {
                    assert!(
                        !reason.contains(leak),
                        "the reason {reason:?} contains {leak:?}"
                    );
                }
            }
            other => panic!("expected an error, got {other:?}"),
        }
    }
    assert!(!report.all_delivered());
    assert_eq!(rx.hits().len(), 3);
    assert!(records_of(&report.deliveries, &ok_id)
        .iter()
        .all(|r| r.outcome.is_delivered()));
    assert_eq!(c.emu.deliveries().len(), 6);
}

#[tokio::test]
async fn a_non_2xx_answer_fails_after_one_attempt_and_2xx_counts_as_delivered() {
    let c = Client::start().await;
    let broken = Receiver::answering(500).await;
    let moved = Receiver::answering(302).await;
    let empty = Receiver::answering(204).await;
    let broken_id = c
        .create(&broken.url, &pairs(AGENT, &["post-conversation"]))
        .await;
    c.create(&moved.url, &pairs(AGENT, &["post-conversation"]))
        .await;
    c.create(&empty.url, &pairs(AGENT, &["post-conversation"]))
        .await;

    let report = c
        .emu
        .simulate_call_async(CallOptions::new().agent_id(AGENT))
        .await;
    assert_eq!(broken.hits().len(), 1, "no retry after a 500");
    assert_eq!(moved.hits().len(), 1, "redirects are not followed");
    assert_eq!(empty.hits().len(), 1);
    let outcomes: Vec<DeliveryOutcome> = report
        .deliveries
        .iter()
        .map(|r| r.outcome.clone())
        .collect();
    assert_eq!(
        outcomes,
        [
            DeliveryOutcome::Failed { status: 500 },
            DeliveryOutcome::Failed { status: 302 },
            DeliveryOutcome::Delivered { status: 204 },
        ]
    );
    assert_eq!(report.deliveries[0].webhook_id, broken_id.as_str());
    assert_eq!(report.deliveries[0].outcome.status(), Some(500));
}

#[tokio::test]
async fn a_receiver_slower_than_the_delivery_timeout_is_an_error() {
    let c = Client::with(Emulator::builder().delivery_timeout(Duration::from_millis(300))).await;
    let slow = Receiver::hanging().await;
    let fast = Receiver::start().await;
    let slow_id = c
        .create(&slow.url, &pairs(AGENT, &["pre-conversation"]))
        .await;
    c.create(&fast.url, &pairs(AGENT, &ALL_EVENTS)).await;

    let report = c
        .emu
        .simulate_call_async(CallOptions::new().agent_id(AGENT))
        .await;
    let slow_records = records_of(&report.deliveries, &slow_id);
    assert_eq!(slow_records.len(), 1);
    assert_eq!(
        slow_records[0].outcome,
        DeliveryOutcome::Error {
            reason: "timed out after 300 ms".to_owned()
        }
    );
    assert_eq!(slow.hits().len(), 1, "no retry after a timeout");
    assert_eq!(event_types(&fast.hits()), EventType::ALL.to_vec());
}

#[tokio::test]
async fn unanswered_calls_deliver_empty_transcripts() {
    let c = Client::start().await;
    let rx = Receiver::start().await;
    c.create(&rx.url, &pairs(AGENT, &ALL_EVENTS)).await;
    c.emu
        .simulate_call_async(
            CallOptions::new()
                .agent_id(AGENT)
                .call_status("no_answer")
                .direction(CallDirection::TelephonyInbound),
        )
        .await;
    let hits = rx.hits();
    assert_eq!(hits.len(), 3);
    let WebhookEvent::PostConversation(post) = hits[1].event() else {
        panic!("post-conversation second");
    };
    assert!(post.metadata.transcript.unwrap_or_default().is_empty());
    let data = post.metadata.call_data.unwrap();
    assert_eq!(data.call_status.as_ref().unwrap().as_str(), "no_answer");
    assert_eq!(data.duration_secs(), Some(0.0));
    assert_eq!(data.call_direction.unwrap().as_str(), "telephony_inbound");
}

// ----- the blocking simulate_call -------------------------------------------------------------

#[test]
fn simulate_call_works_from_plain_sync_code() {
    // Receivers need a runtime; the emulator and the call do not use it.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let rx = rt.block_on(Receiver::start());
    let c = Client {
        emu: Emulator::builder().start_background().unwrap(),
        http: http_client(),
    };
    rt.block_on(c.create(&rx.url, &pairs(AGENT, &ALL_EVENTS)));

    let report = c.emu.simulate_call(CallOptions::new().agent_id(AGENT));
    assert!(report.all_delivered(), "{report:?}");
    assert_eq!(event_types(&rx.hits()), EventType::ALL.to_vec());
    c.emu.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulate_call_works_inside_a_multi_thread_runtime() {
    // Receiver and emulator run on this runtime, which must keep serving while the call blocks.
    let c = Client::start().await;
    let rx = Receiver::start().await;
    c.create(&rx.url, &pairs(AGENT, &ALL_EVENTS)).await;
    let report = c.emu.simulate_call(CallOptions::new().agent_id(AGENT));
    assert!(report.all_delivered(), "{report:?}");
    assert_eq!(rx.hits().len(), 3);
    // The emulator's API still answers afterwards.
    c.get("/webhook").await.data(200);
}

#[tokio::test]
#[should_panic(expected = "use simulate_call_async")]
async fn simulate_call_refuses_to_block_a_current_thread_runtime() {
    let emu = Emulator::builder().start().await.unwrap();
    emu.simulate_call(CallOptions::new());
}

// ----- emulator-only routes ---------------------------------------------------------------------

fn report_of(data: Value) -> CallReport {
    serde_json::from_value(data).expect("a CallReport")
}

#[tokio::test]
async fn calls_route_delivers_and_the_log_can_be_filtered_and_cleared() {
    let c = Client::start().await;
    let rx = Receiver::start().await;
    let id = c.create(&rx.url, &pairs(AGENT, &ALL_EVENTS)).await;
    let hits_before: Vec<usize> = Op::ALL.iter().map(|op| c.emu.hits(*op)).collect();

    let data = c
        .post(
            "/_emulator/calls",
            json!({"agentId": AGENT, "callId": "CALL-route-1", "turns": 2,
                   "direction": "inbound", "fromNumber": "+15550100",
                   "variables": {"plan": "gold"}, "duration": 7.5}),
        )
        .await
        .data(201);
    assert_eq!(data["callId"], "CALL-route-1");
    let deliveries = data["deliveries"].as_array().unwrap().clone();
    assert_eq!(deliveries.len(), 3);
    for (d, t) in deliveries.iter().zip(ALL_EVENTS) {
        assert_eq!(d["eventType"], t);
        assert_eq!(d["webhookId"], id.as_str());
        assert_eq!(d["url"], rx.url.as_str());
        assert_eq!(d["callId"], "CALL-route-1");
        assert_eq!(d["outcome"], json!({"result": "delivered", "status": 200}));
        assert!(is_object_id(&d["deliveryId"]), "{d}");
        assert!(is_api_timestamp(&d["time"]), "{d}");
        assert!(d["elapsedMs"].is_u64(), "{d}");
    }
    let report = report_of(data);

    let hits = rx.hits();
    assert_eq!(hits.len(), 3);
    let WebhookEvent::PostConversation(post) = hits[1].event() else {
        panic!("post-conversation second");
    };
    assert_eq!(post.metadata.call_id, "CALL-route-1");
    assert_eq!(post.metadata.transcript.as_ref().unwrap().len(), 2);
    let vars = post.metadata.variables.as_ref().unwrap();
    assert_eq!(vars.get_str("plan"), Some("gold"));
    assert_eq!(vars.user_number(), Some("+15550100"));
    assert_eq!(vars.conversation_type(), Some("telephonyInbound"));
    assert_eq!(
        post.metadata.call_data.as_ref().unwrap().duration_secs(),
        Some(7.5)
    );

    c.post(
        "/_emulator/calls",
        json!({"agentId": AGENT, "callId": "CALL-route-2", "callStatus": "busy"}),
    )
    .await
    .data(201);

    let all = c.get("/_emulator/deliveries").await.data(200);
    let all: Vec<DeliveryRecord> = serde_json::from_value(all).unwrap();
    assert_eq!(all.len(), 6);
    assert_eq!(all, c.emu.deliveries());
    let first: Vec<DeliveryRecord> = serde_json::from_value(
        c.get("/_emulator/deliveries?callId=CALL-route-1")
            .await
            .data(200),
    )
    .unwrap();
    assert_eq!(first, report.deliveries);
    let by_hook = c
        .get(&format!("/_emulator/deliveries?webhookId={id}"))
        .await
        .data(200);
    assert_eq!(by_hook.as_array().unwrap().len(), 6);
    assert_eq!(
        c.get("/_emulator/deliveries?callId=CALL-nope")
            .await
            .data(200),
        json!([])
    );

    assert_eq!(
        c.delete("/_emulator/deliveries").await.data(200),
        "Delivery log cleared"
    );
    assert_eq!(c.get("/_emulator/deliveries").await.data(200), json!([]));
    assert!(c.emu.deliveries().is_empty());

    // None of this was an API operation.
    let hits_after: Vec<usize> = Op::ALL.iter().map(|op| c.emu.hits(*op)).collect();
    assert_eq!(hits_before, hits_after);
}

#[tokio::test]
async fn status_route_disables_and_enables_a_webhook() {
    let c = Client::start().await;
    let rx = Receiver::start().await;
    let id = c.create(&rx.url, &pairs(AGENT, &ALL_EVENTS)).await;
    let path = format!("/_emulator/webhooks/{id}/status");

    assert_eq!(
        c.post(&path, json!({"status": "disabled"})).await.data(200),
        id.as_str()
    );
    assert_eq!(c.webhook(&id).await["status"], "disabled");
    let report = report_of(
        c.post("/_emulator/calls", json!({"agentId": AGENT}))
            .await
            .data(201),
    );
    assert!(report.deliveries.is_empty());
    assert!(rx.hits().is_empty());
    assert!(c.emu.deliveries().is_empty());

    c.post(&path, json!({"status": "enabled"})).await.data(200);
    assert_eq!(c.webhook(&id).await["status"], "enabled");
    let report = report_of(
        c.post("/_emulator/calls", json!({"agentId": AGENT}))
            .await
            .data(201),
    );
    assert_eq!(report.deliveries.len(), 3);
    assert_eq!(rx.hits().len(), 3);

    // Bad input.
    c.post(
        "/_emulator/webhooks/nope/status",
        json!({"status": "enabled"}),
    )
    .await
    .bad_request_mentioning("The provided Webhook ID is invalid.");
    let missing = c
        .post(
            &format!("/_emulator/webhooks/{UNKNOWN_ID}/status"),
            json!({"status": "enabled"}),
        )
        .await;
    assert_eq!(missing.errors(404), ["Webhook not found"]);
    c.post(&path, json!({"status": "paused"}))
        .await
        .bad_request_mentioning("status must be \"enabled\" or \"disabled\"");
    c.post(&path, json!({}))
        .await
        .bad_request_mentioning("status is required");
    c.post(&path, json!({"status": true}))
        .await
        .bad_request_mentioning("status must be");
    let auth = format!("Bearer {}", c.emu.api_key());
    c.raw(Method::POST, &path, Some("{not json"), Some(&auth))
        .await
        .bad_request_mentioning("not valid JSON");
    assert_eq!(c.webhook(&id).await["status"], "enabled");
}

#[tokio::test]
async fn emulator_routes_need_the_bearer_key() {
    let c = Client::start().await;
    let rx = Receiver::start().await;
    let id = c.create(&rx.url, &pairs(AGENT, &ALL_EVENTS)).await;
    let body = json!({"agentId": AGENT}).to_string();
    let status_body = r#"{"status":"disabled"}"#;
    let routes = [
        (
            Method::POST,
            "/_emulator/calls".to_owned(),
            Some(body.as_str()),
        ),
        (Method::GET, "/_emulator/deliveries".to_owned(), None),
        (Method::DELETE, "/_emulator/deliveries".to_owned(), None),
        (
            Method::POST,
            format!("/_emulator/webhooks/{id}/status"),
            Some(status_body),
        ),
    ];
    for (method, path, body) in &routes {
        for auth in [
            None,
            Some("Bearer wrong-key"),
            Some("Basic dGVzdC1hcGkta2V5"),
        ] {
            let a = c.raw(method.clone(), path, *body, auth).await;
            assert_eq!(a.status, 401, "{method} {path} with {auth:?}");
            assert_eq!(a.text, UNAUTHORIZED, "{method} {path} with {auth:?}");
        }
    }
    assert!(rx.hits().is_empty(), "a refused call delivers nothing");
    assert_eq!(c.webhook(&id).await["status"], "enabled");
}

#[tokio::test]
async fn calls_route_rejects_bad_input_with_clear_messages() {
    let c = Client::start().await;
    let rx = Receiver::start().await;
    c.create(&rx.url, &pairs(AGENT, &ALL_EVENTS)).await;
    let auth = format!("Bearer {}", c.emu.api_key());
    let raw = |body: &'static str| c.raw(Method::POST, "/_emulator/calls", Some(body), Some(&auth));

    raw("").await.bad_request_mentioning("empty");
    raw("{\"agentId\": ")
        .await
        .bad_request_mentioning("not valid JSON");
    raw("[]")
        .await
        .bad_request_mentioning("must be a JSON object");
    let cases = [
        (json!({}), "agentId is required"),
        (
            json!({"agentId": "abc"}),
            "The provided Agent ID is invalid.",
        ),
        (json!({"agentId": 5}), "agentId must be a string"),
        (
            json!({"agentId": AGENT, "turns": 1000}),
            "turns must be a whole number from 0 to 200",
        ),
        (
            json!({"agentId": AGENT, "turns": 2.5}),
            "turns must be a whole number",
        ),
        (
            json!({"agentId": AGENT, "direction": "sideways"}),
            "direction must be \"outbound\" or \"inbound\"",
        ),
        (
            json!({"agentId": AGENT, "callStatus": ""}),
            "callStatus must be",
        ),
        (
            json!({"agentId": AGENT, "variables": [1]}),
            "variables must be an object",
        ),
        (
            json!({"agentId": AGENT, "duration": -1}),
            "duration must be a number of seconds",
        ),
        (
            json!({"agentId": AGENT, "fromNumber": 123}),
            "fromNumber must be",
        ),
        (json!({"agentId": AGENT, "callId": ""}), "callId must be"),
        (
            json!({"agentId": AGENT, "agent": "x"}),
            "unknown field \"agent\"",
        ),
    ];
    for (body, needle) in cases {
        c.post("/_emulator/calls", body)
            .await
            .bad_request_mentioning(needle);
    }
    // Several problems are reported together.
    let errors = c
        .post("/_emulator/calls", json!({"turns": -1, "direction": 1}))
        .await
        .errors(400);
    assert_eq!(errors.len(), 3, "{errors:?}");

    assert!(rx.hits().is_empty());
    assert!(c.emu.deliveries().is_empty());
}

// ----- the binary's delivery log lines ------------------------------------------------------------

#[test]
fn the_binary_logs_one_line_per_delivery_without_personal_data() {
    use std::io::{BufRead, BufReader, Read};
    use std::process::{Command, Stdio};

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let rx = rt.block_on(Receiver::start());
    let closed = closed();
    let down = closed.url.clone();

    let key = "sk-delivery-log-test";
    let mut child = Command::new(env!("CARGO_BIN_EXE_atoms-webhook-emulator"))
        .args(["--listen", "127.0.0.1:0", "--api-key", key])
        .env_remove("SMALLEST_API_KEY")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .expect("a URL in the banner")
        .to_owned();

    let outcome = rt.block_on(async {
        let http = http_client();
        let send = |method: Method, path: &str, body: Option<Value>| {
            let mut req = http
                .request(method, format!("{url}{path}"))
                .bearer_auth(key);
            if let Some(body) = body {
                req = req
                    .header("content-type", "application/json")
                    .body(body.to_string());
            }
            async move {
                let resp = req.send().await.unwrap();
                let status = resp.status().as_u16();
                let v: Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
                (status, v)
            }
        };
        let events = json!([{"agentId": AGENT, "eventType": "pre-conversation"},
                             {"agentId": AGENT, "eventType": "post-conversation"}]);
        let mut ids = Vec::new();
        for endpoint in [&rx.url, &down] {
            let body = json!({"endpoint": endpoint, "description": "d", "events": events});
            let (status, v) = send(Method::POST, "/webhook", Some(body)).await;
            assert_eq!(status, 201, "{v}");
            ids.push(v["data"].as_str().unwrap().to_owned());
        }
        let call = json!({"agentId": AGENT, "fromNumber": "+919000011111",
                          "toNumber": "+919000022222"});
        let (status, v) = send(Method::POST, "/_emulator/calls", Some(call)).await;
        assert_eq!(status, 201, "{v}");
        let (_, webhooks) = send(Method::GET, "/webhook", None).await;
        (ids[0].clone(), ids[1].clone(), webhooks)
    });
    let (ok_id, bad_id, webhooks) = outcome;
    let _ = child.kill();
    let _ = child.wait();
    let mut logs = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .unwrap();

    let delivery_lines: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("pre-conversation") || l.contains("post-conversation"))
        .collect();
    assert_eq!(delivery_lines.len(), 4, "{logs}");
    for (event, id, result) in [
        ("pre-conversation", &ok_id, "200"),
        ("post-conversation", &ok_id, "200"),
        ("pre-conversation", &bad_id, "could not connect"),
        ("post-conversation", &bad_id, "could not connect"),
    ] {
        assert!(
            delivery_lines
                .iter()
                .any(|l| l.contains(event) && l.contains(id.as_str()) && l.contains(result)),
            "no line for {event} to {id} with {result}: {logs}"
        );
    }
    let mut leaks = vec![
        key.to_owned(),
        "+919000011111".to_owned(),
        "+919000022222".to_owned(),
        rx.url.clone(),
        down.clone(),
        "नमस्ते".to_owned(),
    ];
    for w in webhooks["data"].as_array().unwrap() {
        leaks.push(w["decryptedSecretKey"].as_str().unwrap().to_owned());
    }
    for leak in &leaks {
        assert!(
            !logs.contains(leak.as_str()),
            "the logs contain {leak:?}: {logs}"
        );
    }
}
