//! Call logs (`GET /conversation`, `GET /conversation/{callId}`) of simulated calls, deliveries
//! dropped on purpose, and call logs that stay non-final: over HTTP on 127.0.0.1.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use atoms_webhook_emulator::{CallOptions, DeliveryOutcome, Fault, Op, Scenario};
use atoms_webhook_models::CallId;
use axum::{body::Bytes, http::StatusCode, Router};
use common::*;
use reqwest::Method;
use serde_json::{json, Value};

const ALL_EVENTS: [(&str, &str); 3] = [
    (AGENT, "pre-conversation"),
    (AGENT, "post-conversation"),
    (AGENT, "analytics-completed"),
];

/// A receiver that keeps every body and answers 200.
struct Receiver {
    url: String,
    bodies: Arc<Mutex<Vec<Value>>>,
}

impl Receiver {
    async fn start() -> Self {
        let bodies: Arc<Mutex<Vec<Value>>> = Arc::default();
        let keep = bodies.clone();
        let app = Router::new().fallback(move |body: Bytes| {
            let keep = keep.clone();
            async move {
                keep.lock()
                    .unwrap()
                    .push(serde_json::from_slice(&body).unwrap());
                StatusCode::OK
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, bodies }
    }

    fn bodies(&self) -> Vec<Value> {
        self.bodies.lock().unwrap().clone()
    }

    fn event_types(&self) -> Vec<String> {
        self.bodies()
            .iter()
            .map(|b| b["metadata"]["eventType"].as_str().unwrap().to_owned())
            .collect()
    }
}

fn call_ids(page: &Value) -> Vec<String> {
    page["logs"]
        .as_array()
        .unwrap_or_else(|| panic!("no logs in {page}"))
        .iter()
        .map(|l| l["callId"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn every_call_leaves_a_log_that_matches_its_deliveries() {
    let c = Client::start().await;
    let rx = Receiver::start().await;
    c.create(&rx.url, &ALL_EVENTS).await;
    let report = c
        .post(
            "/_emulator/calls",
            json!({"agentId": AGENT, "turns": 5, "direction": "inbound",
                   "variables": {"plan": "gold"}}),
        )
        .await
        .data(201);
    let call_id = report["callId"].as_str().unwrap().to_owned();
    let bodies = rx.bodies();
    assert_eq!(bodies.len(), 3);
    let (pre, post, analytics) = (
        &bodies[0]["metadata"],
        &bodies[1]["metadata"],
        &bodies[2]["metadata"],
    );

    let log = c.get(&format!("/conversation/{call_id}")).await.data(200);
    assert_eq!(log["callId"], call_id.as_str());
    assert!(
        log["_id"].as_str().is_some_and(|id| id.len() == 24),
        "{log}"
    );
    assert_eq!(log["agent"]["_id"], AGENT);
    assert!(log["agent"]["name"].is_string(), "{log}");
    assert_eq!(log["from"], pre["fromPhone"]);
    assert_eq!(log["to"], pre["toPhone"]);
    assert_eq!(log["from"], post["callData"]["fromNumber"]);
    assert_eq!(log["type"], "telephony_inbound");
    assert_eq!(log["type"], post["callData"]["callDirection"]);
    assert_eq!(log["status"], post["callData"]["callStatus"]);
    assert_eq!(log["duration"], post["callData"]["callDuration"]);
    assert_eq!(log["recordingUrl"], post["recordingUrl"]);
    assert_eq!(log["transcript"], post["transcript"]);
    assert_eq!(log["transcript"].as_array().unwrap().len(), 5);
    assert_eq!(log["variables"], post["variables"]);
    assert_eq!(log["variables"]["plan"], "gold");
    let summary = &analytics["analytics"]["summary"];
    assert_eq!(log["postCallAnalytics"]["summary"], *summary);
    let delivered = analytics["analytics"]["dispositionMetrics"]
        .as_array()
        .unwrap();
    let logged = log["postCallAnalytics"]["dispositionMetrics"]
        .as_array()
        .unwrap();
    assert_eq!(logged.len(), delivered.len());
    for (l, d) in logged.iter().zip(delivered) {
        assert_eq!(l["identifier"], d["identifier"]);
        // The logs' metric values are strings (OpenAPI); the same value, written as text.
        let as_text = d["value"]
            .as_str()
            .map_or_else(|| d["value"].to_string(), str::to_owned);
        assert_eq!(l["value"], as_text.as_str());
        assert_eq!(l["confidence"].as_f64(), d["confidence"].as_f64());
    }

    // The list shows the same call, with the summary fields.
    let page = c.get("/conversation").await.data(200);
    assert_eq!(call_ids(&page), [call_id.as_str()]);
    let entry = &page["logs"][0];
    for key in [
        "_id",
        "status",
        "duration",
        "from",
        "to",
        "type",
        "createdAt",
        "postCallAnalytics",
    ] {
        assert_eq!(entry[key], log[key], "{key}");
    }
    assert_eq!(entry["agentId"], AGENT);
    assert_eq!(c.emu.call_log(&CallId::new(call_id.as_str())), Some(log));
}

#[tokio::test]
async fn pages_default_sort_limits_and_filters() {
    let c = Client::start().await;
    let mut ids = Vec::new();
    for n in 0..7 {
        // One length for all, so that creation follows the order of the calls.
        let mut opts = CallOptions::new()
            .agent_id(if n < 5 { AGENT } else { AGENT_2 })
            .duration(Duration::from_secs(30));
        if n == 6 {
            opts = opts.direction("telephony_inbound").call_status("no_answer");
        }
        ids.push(c.emu.simulate_call_async(opts).await.call_id.to_string());
    }
    let newest_first: Vec<String> = ids.iter().rev().cloned().collect();

    let first = c.get("/conversation").await.data(200);
    assert_eq!(call_ids(&first), newest_first[..5]);
    assert_eq!(
        first["pagination"],
        json!({"total": 7, "page": 1, "limit": 5, "hasMore": true, "totalPages": 2})
    );
    let second = c.get("/conversation?page=2").await.data(200);
    assert_eq!(call_ids(&second), newest_first[5..]);
    assert_eq!(second["pagination"]["hasMore"], false);
    assert!(call_ids(&c.get("/conversation?page=3").await.data(200)).is_empty());

    let clamped = c.get("/conversation?limit=100000").await.data(200);
    assert_eq!(clamped["pagination"]["limit"], 500);
    assert_eq!(call_ids(&clamped), newest_first);
    let oldest = c
        .get("/conversation?sortBy=createdAt&sortOrder=asc&limit=1")
        .await
        .data(200);
    assert_eq!(call_ids(&oldest), [ids[0].clone()]);

    let by_agent = c
        .get(&format!(
            "/conversation?agentIds={AGENT_2},{UNKNOWN_ID}&limit=10"
        ))
        .await
        .data(200);
    assert_eq!(call_ids(&by_agent), newest_first[..2]);
    let inbound = c
        .get("/conversation?callTypes=telephony_inbound")
        .await
        .data(200);
    assert_eq!(call_ids(&inbound), [ids[6].clone()]);
    let failed = c
        .get("/conversation?statusFilter=no_answer,failed")
        .await
        .data(200);
    assert_eq!(call_ids(&failed), [ids[6].clone()]);
    assert_eq!(failed["logs"][0]["status"], "no_answer");
    assert_eq!(failed["pagination"]["total"], 1);

    for bad in [
        "page=0",
        "limit=0",
        "limit=many",
        "callTypes=fax",
        "statusFilter=done",
    ] {
        c.get(&format!("/conversation?{bad}")).await.errors(400);
    }
    assert_eq!(c.emu.hits(Op::ListConversations), 13);
    let queries = c.emu.conversation_queries();
    assert_eq!(queries.len(), 13);
    assert_eq!(queries[0], "");
    assert_eq!(queries[1], "page=2");
}

#[tokio::test]
async fn call_logs_need_the_key_answer_404_for_unknown_calls_and_take_faults() {
    let c = Client::start().await;
    let call = c.emu.simulate_call_async(CallOptions::new()).await.call_id;
    let path = format!("/conversation/{call}");
    for p in ["/conversation", path.as_str()] {
        let a = c.raw(Method::GET, p, None, None).await;
        a.errors(401);
        let a = c.raw(Method::GET, p, None, Some("Bearer wrong")).await;
        a.errors(401);
    }
    let unknown = c.get("/conversation/CALL-1737000000000-abc123").await;
    assert_eq!(unknown.errors(404), ["Conversation log not found"]);
    c.get(&path).await.data(200);
    assert_eq!(c.emu.hits(Op::GetConversation), 4);

    c.emu.inject(Op::GetConversation, Fault::status(503), 1);
    c.get(&path).await.errors(503);
    c.get(&path).await.data(200);
    c.emu
        .inject(Op::ListConversations, Fault::retry_after(429, "1"), 1);
    let busy = c.get("/conversation").await;
    assert_eq!(busy.headers["retry-after"], "1");
    busy.errors(429);
    assert_eq!(
        call_ids(&c.get("/conversation").await.data(200)),
        [call.to_string()]
    );
}

#[tokio::test]
async fn dropped_deliveries_are_not_sent_but_recorded() {
    let c = Client::start().await;
    let rx = Receiver::start().await;
    let hook = c.create(&rx.url, &ALL_EVENTS).await;

    let report = c
        .post(
            "/_emulator/calls",
            json!({"agentId": AGENT, "drop": ["post-conversation", "analytics-completed"]}),
        )
        .await
        .data(201);
    assert_eq!(rx.event_types(), ["pre-conversation"]);
    let outcomes: Vec<(&str, &Value)> = report["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["eventType"].as_str().unwrap(), &d["outcome"]))
        .collect();
    assert_eq!(
        outcomes,
        [
            (
                "pre-conversation",
                &json!({"result": "delivered", "status": 200})
            ),
            ("post-conversation", &json!({"result": "dropped"})),
            ("analytics-completed", &json!({"result": "dropped"})),
        ]
    );
    let call_id = report["callId"].as_str().unwrap();
    let logged = c
        .get(&format!("/_emulator/deliveries?callId={call_id}"))
        .await
        .data(200);
    assert_eq!(logged, report["deliveries"]);
    // Nothing arrived at the end, but the call log has it all (what reconciliation reads).
    let log = c.get(&format!("/conversation/{call_id}")).await.data(200);
    assert_eq!(log["status"], "completed");
    assert!(!log["transcript"].as_array().unwrap().is_empty());

    // "all", through the Rust API as well.
    let before = rx.bodies().len();
    let lost = c
        .emu
        .simulate_call_async(Scenario::new(CallOptions::new().agent_id(AGENT)).drop_all())
        .await;
    assert_eq!(rx.bodies().len(), before);
    assert_eq!(lost.dropped().count(), 3);
    assert!(lost
        .deliveries
        .iter()
        .all(|d| d.outcome == DeliveryOutcome::Dropped && d.webhook_id == hook.as_str()));
    assert!(!lost.all_delivered());
    let all = c
        .post("/_emulator/calls", json!({"agentId": AGENT, "drop": "all"}))
        .await
        .data(201);
    assert_eq!(rx.bodies().len(), before);
    assert_eq!(all["deliveries"].as_array().unwrap().len(), 3);

    c.post(
        "/_emulator/calls",
        json!({"agentId": AGENT, "drop": ["later"]}),
    )
    .await
    .bad_request_mentioning("drop[0]");
    c.post(
        "/_emulator/calls",
        json!({"agentId": AGENT, "drop": "some"}),
    )
    .await
    .bad_request_mentioning("drop must be");
}

#[tokio::test]
async fn a_log_stays_in_progress_for_its_reads_then_is_final_and_on_top() {
    let c = Client::start().await;
    let rx = Receiver::start().await;
    c.create(&rx.url, &ALL_EVENTS).await;
    let slow = c
        .post(
            "/_emulator/calls",
            json!({"agentId": AGENT, "finalAfter": 2, "drop": ["post-conversation"]}),
        )
        .await
        .data(201);
    let slow_id = slow["callId"].as_str().unwrap().to_owned();
    let other = c
        .emu
        .simulate_call_async(CallOptions::new().agent_id(AGENT))
        .await
        .call_id
        .to_string();

    // Read 1 (detail) and read 2 (list) show the call as not final.
    let log = c.get(&format!("/conversation/{slow_id}")).await.data(200);
    assert_eq!(log["status"], "in_progress");
    assert_eq!(log["postCallAnalytics"], Value::Null);
    assert_eq!(log["duration"], 0);
    let page = c.get("/conversation").await.data(200);
    assert_eq!(call_ids(&page), [other.clone(), slow_id.clone()]);
    assert_eq!(page["logs"][1]["status"], "in_progress");
    // Final now; its update moves it above the other call.
    let page = c.get("/conversation").await.data(200);
    assert_eq!(call_ids(&page), [slow_id.clone(), other.clone()]);
    assert_eq!(page["logs"][0]["status"], "completed");
    assert!(page["logs"][0]["postCallAnalytics"]["summary"].is_string());
    let done = c
        .get("/conversation?statusFilter=completed")
        .await
        .data(200);
    assert_eq!(call_ids(&done).len(), 2);

    // A call that stays in progress until it is finalized.
    let pending = c
        .emu
        .simulate_call_async(Scenario::new(CallOptions::new().agent_id(AGENT)).final_after(1_000))
        .await
        .call_id;
    let pending_path = format!("/conversation/{pending}");
    for _ in 0..3 {
        assert_eq!(
            c.get(&pending_path).await.data(200)["status"],
            "in_progress"
        );
    }
    let only_final = c
        .get("/conversation?statusFilter=completed")
        .await
        .data(200);
    assert!(!call_ids(&only_final).contains(&pending.to_string()));
    let finalize = format!("/_emulator/calls/{pending}/finalize");
    c.raw(Method::POST, &finalize, None, None).await.errors(401);
    assert_eq!(
        c.post(&finalize, json!({})).await.data(200),
        pending.as_str()
    );
    assert_eq!(c.get(&pending_path).await.data(200)["status"], "completed");
    assert_eq!(
        call_ids(&c.get("/conversation").await.data(200))[0],
        pending.as_str()
    );
    c.post("/_emulator/calls/CALL-0-000000/finalize", json!({}))
        .await
        .errors(404);
    assert!(!c.emu.finalize_call(&CallId::new("CALL-0-000000")));
    assert!(c.emu.finalize_call(&pending));

    c.post(
        "/_emulator/calls",
        json!({"agentId": AGENT, "finalAfter": -1}),
    )
    .await
    .bad_request_mentioning("finalAfter");
}
