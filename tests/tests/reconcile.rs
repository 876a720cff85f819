//! Reconciliation of an inbox against the emulator's call logs, on SQLite and (when
//! `ATOMS_TEST_DATABASE_URL` is set, see `scripts/with-postgres.sh`) PostgreSQL: deliveries
//! dropped on purpose come back as recovered items, nothing is processed twice, and a call is
//! not reconciled before its log is final. Time is a `ManualClock`; nothing sleeps for real.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use atoms_webhook_emulator::{CallOptions, Emulator, Fault, Op, Scenario};
use atoms_webhook_models::{
    sign, CallId, CreateWebhookRequest, EventType, SigningSecret, WebhookEvent, WebhookId,
};
use atoms_webhook_receiver::reconcile::{ReconcileConfig, Reconciler};
use atoms_webhook_receiver::{
    handler_fn, recovered_id, BoxFuture, Clock, Delivery, Inbox, Inserted, ManualClock,
    NewDelivery, PgStore, Receiver, Sleeper, SqliteStore, Status, Store, Worker,
};
use atoms_webhook_transport::{Config, Jitter, RetryConfig};
use http::{HeaderMap, Method};

use EventType::{AnalyticsCompleted as Ana, PostConversation as Post, PreConversation as Pre};

const AGENT: &str = "aaaaaaaaaaaaaaaaaaaaaaa1";
const OTHER: &str = "bbbbbbbbbbbbbbbbbbbbbbb2";
const GRACE: Duration = Duration::from_secs(60);
const GIVE_UP: Duration = Duration::from_secs(3600);

/// Records the delays it is asked for and returns at once.
#[derive(Clone, Default)]
struct Recorded(Arc<Mutex<Vec<Duration>>>);

impl Sleeper for Recorded {
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        self.0.lock().unwrap().push(duration);
        Box::pin(async {})
    }
}

/// What the handler saw: (call id, event type) -> how many times, and how many were recovered.
#[derive(Default)]
struct Seen {
    by_key: BTreeMap<(String, String), u32>,
    recovered: u32,
}

struct Rig {
    emu: Emulator,
    webhook: WebhookId,
    secret: SigningSecret,
    inbox: Arc<Inbox>,
    store: Arc<dyn Store>,
    clock: Arc<ManualClock>,
    paced: Recorded,
    reconciler: Reconciler,
    worker: Worker,
    seen: Arc<Mutex<Seen>>,
    _dir: tempfile::TempDir,
}

fn api(emu: &Emulator, slept: &Recorded) -> atoms_webhook_async::Client {
    let config = Config::new(emu.api_key()).base_url(emu.url()).retry(
        RetryConfig::default()
            .base_delay(Duration::from_millis(5))
            .jitter(Jitter::None),
    );
    let slept = slept.clone();
    atoms_webhook_async::Client::new(config)
        .unwrap()
        .with_sleeper(move |d| slept.sleep(d))
}

static SCHEMAS: AtomicU32 = AtomicU32::new(0);

/// SQLite, or PostgreSQL in a fresh schema.
async fn open_store(pg: bool, dir: &tempfile::TempDir) -> Option<Arc<dyn Store>> {
    if !pg {
        return Some(Arc::new(
            SqliteStore::open(dir.path().join("inbox.db")).unwrap(),
        ));
    }
    match std::env::var("ATOMS_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => {
            let schema = format!(
                "reconcile_{}_{}",
                std::process::id(),
                SCHEMAS.fetch_add(1, Ordering::SeqCst)
            );
            Some(Arc::new(
                PgStore::connect_in_schema(&url, &schema).await.unwrap(),
            ))
        }
        _ => {
            assert_ne!(
                std::env::var("CI").as_deref(),
                Ok("true"),
                "ATOMS_TEST_DATABASE_URL is not set under CI=true: the PostgreSQL tests must run"
            );
            println!("skipped: ATOMS_TEST_DATABASE_URL is not set (see scripts/with-postgres.sh)");
            None
        }
    }
}

async fn rig(pg: bool) -> Option<Rig> {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(pg, &dir).await?;
    let emu = Emulator::builder()
        .api_key("reconcile-key")
        .agent(AGENT, "Agent", "subscribed")
        .agent(OTHER, "Other", "not subscribed")
        .start()
        .await
        .unwrap();

    // The receiver: a real HTTP server on 127.0.0.1 in front of the inbox.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/hook", listener.local_addr().unwrap());
    let slot: Arc<Mutex<Option<Arc<Inbox>>>> = Arc::default();
    let serve = slot.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(
            move |method: Method, headers: HeaderMap, body: axum::body::Bytes| {
                let inbox = serve.lock().unwrap().clone();
                async move {
                    let Some(inbox) = inbox else {
                        return (http::StatusCode::SERVICE_UNAVAILABLE, "not ready");
                    };
                    let reply = inbox.ingest(&method, &headers, &body).await.reply();
                    (reply.status, reply.body)
                }
            },
        ),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });

    let paced = Recorded::default();
    let client = api(&emu, &paced);
    let created = client
        .create_webhook_with_secret(
            CreateWebhookRequest::new(hook, "reconciled")
                .event(AGENT, Pre)
                .event(AGENT, Post)
                .event(AGENT, Ana),
        )
        .await
        .unwrap();
    let secret = created.secret.clone();
    // One manual clock for the receiver (time received), the workers and the reconciler.
    let clock = Arc::new(ManualClock::new(SystemTime::now()));
    let receiver = Receiver::new(secret.clone()).unwrap().clock(clock.clone());
    let inbox = Arc::new(Inbox::new(receiver, store.clone()));
    *slot.lock().unwrap() = Some(inbox.clone());

    let reconciler = Reconciler::new(client, store.clone(), created.id.clone())
        .config(
            ReconcileConfig::default()
                .grace(GRACE)
                .sweep_interval(Duration::ZERO)
                .page_size(3)
                .max_pages(10)
                .min_request_interval(Duration::from_millis(100))
                .give_up_after(GIVE_UP),
        )
        .clock(clock.clone())
        .sleeper(paced.clone());
    let seen: Arc<Mutex<Seen>> = Arc::default();
    let record = seen.clone();
    let worker = Worker::new(
        store.clone(),
        handler_fn(move |d: Delivery| {
            let record = record.clone();
            async move {
                let call = d.event.call_id().map(CallId::to_string).unwrap_or_default();
                let mut seen = record.lock().unwrap();
                *seen
                    .by_key
                    .entry((call, d.event.event_type().to_string()))
                    .or_default() += 1;
                if d.event.is_recovered() {
                    seen.recovered += 1;
                }
                Ok::<(), std::io::Error>(())
            }
        }),
    )
    .clock(clock.clone())
    .sleeper(Recorded::default());
    Some(Rig {
        emu,
        webhook: created.id,
        secret,
        inbox,
        store,
        clock,
        paced,
        reconciler,
        worker,
        seen,
        _dir: dir,
    })
}

impl Rig {
    /// Runs the workers until nothing is claimable (bounded).
    async fn drain(&self) -> u32 {
        let mut done = 0;
        for _ in 0..100 {
            let report = self.worker.run_once().await.unwrap();
            if report.claimed == 0 {
                return done;
            }
            done += report.done;
        }
        panic!("the workers never ran out of work");
    }

    async fn call(&self, seed: u64, scenario: impl FnOnce(Scenario) -> Scenario) -> CallId {
        let opts = CallOptions::new().agent_id(AGENT).seed(seed);
        self.emu
            .simulate_call_async(scenario(Scenario::new(opts)))
            .await
            .call_id
    }
}

async fn ten_calls_with_lost_deliveries(pg: bool) {
    let Some(rig) = rig(pg).await else { return };
    let mut calls = Vec::new();
    for i in 1..=10u64 {
        let id = rig
            .call(i, |s| match i {
                2..=4 => s.drop(Post).drop(Ana),
                5 => s.drop_all(),
                _ => s,
            })
            .await;
        calls.push(id);
    }
    // A call of an agent the webhook does not subscribe: never recovered.
    let other = rig
        .emu
        .simulate_call_async(Scenario::new(CallOptions::new().agent_id(OTHER).seed(99)).drop_all())
        .await
        .call_id;
    assert_eq!(rig.drain().await, 6 * 3 + 3, "the real deliveries");
    // 1, 6..=10: three each; 2..=4: pre only; 5: nothing.
    assert_eq!(rig.seen.lock().unwrap().by_key.len(), 6 * 3 + 3);

    // Pass 1: the sweep finds every call of the agent (call 5 included); the calls with
    // missing deliveries are final, but their grace period has only started.
    let first = rig.reconciler.run_once().await.unwrap();
    assert!(first.swept);
    assert_eq!(first.discovered, 10, "{first:?}");
    assert_eq!(first.recovered, 0, "{first:?}");
    assert_eq!(first.closed, 6, "{first:?}");
    assert_eq!(first.waiting, 4, "{first:?}");
    let queries = rig.emu.conversation_queries();
    assert!(
        queries
            .iter()
            .all(|q| q.contains(&format!("agentIds={AGENT}"))
                && q.contains("limit=3")
                && !q.contains("sortBy")
                && !q.contains("dateFrom")),
        "{queries:?}"
    );
    assert_eq!(rig.drain().await, 0);

    // Pass 2, after the grace period: the missing deliveries come back as recovered items.
    rig.clock.advance(GRACE + Duration::from_secs(1));
    let second = rig.reconciler.run_once().await.unwrap();
    assert_eq!(second.recovered, 3 * 2 + 3, "{second:?}");
    assert_eq!(second.looked_up, 4, "{second:?}");
    // The sweep stopped on its first page: those ids were seen before.
    assert_eq!(second.logs_read, 3, "{second:?}");
    assert_eq!(rig.drain().await, 9);

    {
        let seen = rig.seen.lock().unwrap();
        for call in &calls {
            for t in [Pre, Post, Ana] {
                let n = seen.by_key.get(&(call.to_string(), t.to_string())).copied();
                assert_eq!(n, Some(1), "{call} {t}");
            }
        }
        assert_eq!(seen.by_key.len(), 30);
        assert_eq!(seen.recovered, 9);
        assert!(!seen.by_key.keys().any(|(c, _)| *c == other.to_string()));
    }
    let stats = rig.store.stats(rig.clock.now()).await.unwrap();
    assert_eq!(stats.recovered, 9);
    assert_eq!(stats.count(Status::Done), 30);

    // A third pass has nothing left to do.
    let third = rig.reconciler.run_once().await.unwrap();
    assert_eq!(
        (third.recovered, third.looked_up, third.waiting),
        (0, 0, 0),
        "{third:?}"
    );
    // Requests were paced through the injected sleeper, not by waiting for real.
    assert!(!rig.paced.0.lock().unwrap().is_empty());

    // A recovered item has the event's shape, the call log's data and the marker.
    let item = rig
        .store
        .get(&recovered_id(calls[2].as_str(), "post-conversation"))
        .await
        .unwrap()
        .unwrap();
    let event = WebhookEvent::from_slice(&item.body).unwrap();
    assert!(matches!(event, WebhookEvent::PostConversation(_)));
    assert!(event.is_recovered());
    assert!(
        item.signature.is_none(),
        "never presented as signed by Atoms"
    );
    let log = rig.emu.call_log(&calls[2]).unwrap();
    assert_eq!(
        event.transcript().len(),
        log["transcript"].as_array().unwrap().len()
    );
    assert_eq!(
        event
            .variables()
            .unwrap()
            .get("call_id")
            .map(|v| v.to_value()),
        Some(serde_json::json!(calls[2].as_str()))
    );
    assert_eq!(event.agent_id().unwrap().as_str(), AGENT);
    assert_eq!(
        event
            .call_data()
            .unwrap()
            .call_duration
            .as_ref()
            .map(|d| d.as_str().to_owned()),
        Some(log["duration"].to_string())
    );

    // The analytics come from postCallAnalytics; the pre-conversation's numbers from the log.
    let analytics = rig
        .store
        .get(&recovered_id(calls[2].as_str(), "analytics-completed"))
        .await
        .unwrap()
        .unwrap();
    let analytics = WebhookEvent::from_slice(&analytics.body).unwrap();
    let a = analytics.analytics().unwrap();
    assert_eq!(
        a.summary.as_deref(),
        log["postCallAnalytics"]["summary"].as_str()
    );
    assert_eq!(
        a.disposition_list().len(),
        log["postCallAnalytics"]["dispositionMetrics"]
            .as_array()
            .unwrap()
            .len()
    );
    let pre = rig
        .store
        .get(&recovered_id(calls[4].as_str(), "pre-conversation"))
        .await
        .unwrap()
        .unwrap();
    let pre = WebhookEvent::from_slice(&pre.body).unwrap();
    let log5 = rig.emu.call_log(&calls[4]).unwrap();
    assert_eq!(pre.from_number(), log5["from"].as_str());
    assert_eq!(pre.to_number(), log5["to"].as_str());

    // A real delivery arriving after its recovered twin: stored, answered 2xx, not processed.
    let real = rig
        .store
        .list(Some(Status::Done), 1000)
        .await
        .unwrap()
        .into_iter()
        .find(|d| {
            d.call_id.as_deref() == Some(calls[0].as_str()) && d.event_type == "post-conversation"
        })
        .unwrap();
    let mut late: serde_json::Value = serde_json::from_slice(&real.body).unwrap();
    late["metadata"]["callId"] = serde_json::json!(calls[2].as_str());
    late["id"] = serde_json::json!("0123456789abcdef01234567");
    let body = serde_json::to_vec(&late).unwrap();
    let mut headers = HeaderMap::new();
    headers.insert("x-signature", sign(&rig.secret, &body).parse().unwrap());
    let reply = rig
        .inbox
        .ingest(&Method::POST, &headers, &body)
        .await
        .reply();
    assert_eq!(reply.status, 200);
    assert_eq!(rig.drain().await, 0, "the late twin is not processed");
    let stored = rig
        .store
        .get("0123456789abcdef01234567")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, Status::Done);
    assert!(stored.last_error.unwrap_or_default().contains("superseded"));
    assert_eq!(
        rig.store.stats(rig.clock.now()).await.unwrap().superseded,
        1
    );
    assert_eq!(rig.seen.lock().unwrap().by_key.len(), 30);

    // And the other way round: a recovered item for a delivery that arrived is not enqueued.
    let twin = NewDelivery::new(
        recovered_id(calls[0].as_str(), "post-conversation"),
        b"{}".to_vec(),
        rig.clock.now(),
    )
    .call_id(calls[0].as_str())
    .event_type("post-conversation");
    assert_eq!(
        rig.store.enqueue_recovered(twin).await.unwrap(),
        Inserted::Duplicate
    );
    let _ = &rig.webhook;
}

async fn in_progress_call_waits_until_final(pg: bool) {
    let Some(rig) = rig(pg).await else { return };
    // The log shows `in_progress` until finalized; post and analytics are lost.
    let call = rig
        .call(7, |s| s.drop(Post).drop(Ana).final_after(1_000))
        .await;
    assert_eq!(rig.drain().await, 1);

    // The API refuses once on each path: the client backs off (recorded, not slept) and the
    // pass goes on.
    rig.emu.inject(Op::ListConversations, Fault::status(429), 1);
    rig.emu.inject(Op::GetConversation, Fault::status(503), 1);
    for _ in 0..3 {
        rig.clock.advance(GRACE * 2);
        let report = rig.reconciler.run_once().await.unwrap();
        assert_eq!(report.recovered, 0, "{report:?}");
        assert_eq!(report.waiting, 1, "{report:?}");
    }
    assert_eq!(rig.emu.hits(Op::ListConversations), 3 + 1);
    assert_eq!(rig.emu.hits(Op::GetConversation), 3 + 1);
    let waits = rig.paced.0.lock().unwrap().clone();
    assert_eq!(
        waits
            .iter()
            .filter(|d| **d == Duration::from_millis(5))
            .count(),
        2,
        "one backoff per refusal: {waits:?}"
    );
    assert_eq!(rig.drain().await, 0);

    // Final now: one more grace period for the deliveries, then recovered.
    assert!(rig.emu.finalize_call(&call));
    let noted = rig.reconciler.run_once().await.unwrap();
    assert_eq!(noted.recovered, 0, "{noted:?}");
    rig.clock.advance(GRACE + Duration::from_secs(1));
    let report = rig.reconciler.run_once().await.unwrap();
    assert_eq!(report.recovered, 2, "{report:?}");
    assert_eq!(rig.drain().await, 2);
    let seen = rig.seen.lock().unwrap();
    assert_eq!(seen.by_key.len(), 3);
    assert_eq!(seen.recovered, 2);
}

async fn never_final_call_is_given_up(pg: bool) {
    let Some(rig) = rig(pg).await else { return };
    rig.call(8, |s| s.drop(Post).drop(Ana).final_after(1_000))
        .await;
    assert_eq!(rig.drain().await, 1);
    rig.clock.advance(GRACE * 2);
    let waiting = rig.reconciler.run_once().await.unwrap();
    assert_eq!((waiting.looked_up, waiting.waiting), (1, 1), "{waiting:?}");
    rig.clock.advance(GIVE_UP);
    let given_up = rig.reconciler.run_once().await.unwrap();
    assert_eq!(
        (given_up.given_up, given_up.recovered),
        (1, 0),
        "{given_up:?}"
    );
    let after = rig.reconciler.run_once().await.unwrap();
    assert_eq!((after.looked_up, after.waiting), (0, 0), "{after:?}");
    assert_eq!(rig.drain().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_never_final_call_is_given_up() {
    never_final_call_is_given_up(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_never_final_call_is_given_up() {
    never_final_call_is_given_up(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_ten_calls_with_lost_deliveries() {
    ten_calls_with_lost_deliveries(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_ten_calls_with_lost_deliveries() {
    ten_calls_with_lost_deliveries(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_in_progress_call_waits_until_final() {
    in_progress_call_waits_until_final(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_in_progress_call_waits_until_final() {
    in_progress_call_waits_until_final(true).await;
}
