//! Behaviour every `Store` must have, run against each implementation on a real database.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use atoms_webhook_receiver::{
    body_key, event_rank, handler_fn, Backoff, Clock, Delivery, Inbox, Ingested, Receiver,
    Rejection, Status, Store, Worker,
};
use http::{HeaderMap, Method};

use super::*;

/// Per call id: (rank, attempt) in the order the handler saw them.
type Seen = HashMap<String, Vec<(i32, u32)>>;

fn inbox(store: &Arc<dyn Store>, clock: &Arc<ManualClock>) -> Inbox {
    Inbox::new(
        Receiver::new(secret()).unwrap().clock(clock.clone()),
        store.clone(),
    )
}

/// Ingest keeps the raw body, the headers that matter, the time, the ids and the event type.
pub async fn stores_what_matters(store: Arc<dyn Store>) {
    let clock = clock();
    let inbox = inbox(&store, &clock);
    let b = body(1, "69fd96578d7c3809f58ce555", "CALL-1778226705739-7e4c17");
    let h = headers(&b);
    let got = inbox.ingest(&Method::POST, &h, &b).await;
    assert!(matches!(got, Ingested::Stored { ref id } if id == "69fd96578d7c3809f58ce555"));
    assert_eq!(got.reply().status, 200);
    let d = store
        .get("69fd96578d7c3809f58ce555")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(d.body, b, "the raw body, byte for byte");
    assert_eq!(d.call_id.as_deref(), Some("CALL-1778226705739-7e4c17"));
    assert_eq!(d.event_type, "post-conversation");
    assert_eq!(d.status, Status::Pending);
    assert_eq!(d.attempts, 0);
    assert_eq!(d.received_at, clock.now());
    assert_eq!(d.content_type.as_deref(), Some("application/json"));
    assert_eq!(d.user_agent.as_deref(), Some("Atoms-Webhooks/1.0"));
    assert_eq!(
        d.signature.as_deref(),
        h.get("x-signature").and_then(|v| v.to_str().ok())
    );
    assert!(store.get("nope").await.unwrap().is_none());
}

/// The same body sent five times is stored once, counted four times as a duplicate, and
/// processed once.
pub async fn dedup(store: Arc<dyn Store>) {
    let clock = clock();
    let inbox = inbox(&store, &clock);
    let b = body(0, &object_id(t0(), 1), "CALL-1778226705739-aaaaaa");
    let mut kinds = Vec::new();
    for _ in 0..5 {
        let got = inbox.ingest(&Method::POST, &headers(&b), &b).await;
        assert_eq!(got.reply().status, 200);
        kinds.push(matches!(got, Ingested::Stored { .. }));
    }
    assert_eq!(kinds, [true, false, false, false, false]);
    let stats = store.stats(clock.now()).await.unwrap();
    assert_eq!(stats.duplicates, 4);
    assert_eq!(stats.count(Status::Pending), 1);
    let handled = Arc::new(AtomicU32::new(0));
    let h = handled.clone();
    let worker = Worker::new(
        store.clone(),
        handler_fn(move |_d: Delivery| {
            h.fetch_add(1, Ordering::SeqCst);
            async { Ok::<(), std::io::Error>(()) }
        }),
    )
    .clock(clock.clone());
    assert_eq!(worker.run_once().await.unwrap().done, 1);
    assert_eq!(worker.run_once().await.unwrap().claimed, 0);
    // Sent again after processing: still a duplicate.
    let got = inbox.ingest(&Method::POST, &headers(&b), &b).await;
    assert!(matches!(got, Ingested::Duplicate { .. }));
    assert_eq!(worker.run_once().await.unwrap().claimed, 0);
    assert_eq!(handled.load(Ordering::SeqCst), 1);
}

/// Refused requests are not stored, and are counted by reason.
pub async fn rejections(store: Arc<dyn Store>) {
    let clock = clock();
    let inbox = Inbox::new(
        Receiver::new(secret())
            .unwrap()
            .clock(clock.clone())
            .max_body(64 * 1024),
        store.clone(),
    );
    let b = body(0, &object_id(t0(), 2), "CALL-1");
    let wrong = headers_with(&atoms_webhook_models::SigningSecret::new("other"), &b);
    assert_eq!(
        inbox.ingest(&Method::POST, &wrong, &b).await.reply().status,
        401
    );
    assert_eq!(
        inbox.ingest(&Method::POST, &wrong, &b).await.reply().status,
        401
    );
    assert_eq!(
        inbox
            .ingest(&Method::POST, &HeaderMap::new(), &b)
            .await
            .reply()
            .status,
        401
    );
    let big = vec![b' '; 64 * 1024 + 1];
    assert_eq!(
        inbox
            .ingest(&Method::POST, &headers(&big), &big)
            .await
            .reply()
            .status,
        413
    );
    assert_eq!(
        inbox
            .ingest(&Method::GET, &headers(&b), &b)
            .await
            .reply()
            .status,
        405
    );
    let stats = store.stats(clock.now()).await.unwrap();
    assert_eq!(stats.rejected(Rejection::BadSignature), 2);
    assert_eq!(stats.rejected(Rejection::MissingSignature), 1);
    assert_eq!(stats.rejected(Rejection::TooLarge { limit: 0 }), 1);
    assert_eq!(stats.rejected(Rejection::MethodNotAllowed), 1);
    assert!(stats.by_status.values().all(|n| *n == 0));
    assert!(store.list(None, 100).await.unwrap().is_empty());
}

/// A signed body that does not parse is stored as a dead letter with its parse error, answered
/// 2xx and counted; keyed by its id when readable, by the body's hash otherwise. Replayed, it
/// goes back to the dead letters without reaching the handler.
pub async fn unparseable(store: Arc<dyn Store>) {
    let clock = clock();
    let inbox = inbox(&store, &clock);
    let not_json = b"{\"id\": 17, truncated".to_vec();
    let got = inbox
        .ingest(&Method::POST, &headers(&not_json), &not_json)
        .await;
    let key = body_key(&not_json);
    assert!(key.starts_with("sha256:") && key.len() == 7 + 64);
    assert!(matches!(got, Ingested::DeadLetter { ref id } if *id == key));
    assert_eq!(got.reply().status, 200);
    // A known event type with a field of the wrong type: its id is readable.
    let id = object_id(t0(), 3);
    let odd = String::from_utf8(body(1, &id, "CALL-odd"))
        .unwrap()
        .replacen("\"callId\": \"CALL-odd\"", "\"callId\": 12", 1)
        .into_bytes();
    let got = inbox.ingest(&Method::POST, &headers(&odd), &odd).await;
    assert!(
        matches!(got, Ingested::DeadLetter { id: ref i } if *i == id),
        "{got:?}"
    );
    // The same bad body again: a duplicate.
    let again = inbox
        .ingest(&Method::POST, &headers(&not_json), &not_json)
        .await;
    assert!(matches!(again, Ingested::Duplicate { .. }));

    let d = store.get(&key).await.unwrap().unwrap();
    assert_eq!(d.status, Status::Dead);
    assert_eq!(d.body, not_json);
    assert!(d
        .last_error
        .as_deref()
        .unwrap_or("")
        .contains("invalid JSON"));
    let d = store.get(&id).await.unwrap().unwrap();
    assert_eq!(d.event_type, "post-conversation");
    let stats = store.stats(clock.now()).await.unwrap();
    assert_eq!(stats.unparseable, 2);
    assert_eq!(stats.count(Status::Dead), 2);

    let called = Arc::new(AtomicU32::new(0));
    let c = called.clone();
    let worker = Worker::new(
        store.clone(),
        handler_fn(move |_d: Delivery| {
            c.fetch_add(1, Ordering::SeqCst);
            async { Ok::<(), std::io::Error>(()) }
        }),
    )
    .clock(clock.clone());
    assert_eq!(store.replay_dead(clock.now()).await.unwrap(), 2);
    let r = worker.run_once().await.unwrap();
    assert_eq!((r.claimed, r.dead), (2, 2));
    assert_eq!(called.load(Ordering::SeqCst), 0);
}

/// Retention deletes done deliveries older than the cutoff; dead letters and newer ones stay.
pub async fn retention(store: Arc<dyn Store>) {
    let clock = clock();
    let inbox = inbox(&store, &clock);
    let fail_ids: Arc<Mutex<Vec<String>>> = Arc::default();
    let f = fail_ids.clone();
    let worker = Worker::new(
        store.clone(),
        handler_fn(move |d: Delivery| {
            let fail = f.lock().unwrap().contains(&d.id);
            async move {
                if fail {
                    Err(std::io::Error::other("nope"))
                } else {
                    Ok(())
                }
            }
        }),
    )
    .clock(clock.clone())
    .max_attempts(1);
    let (old, dead, new) = (
        object_id(t0(), 10),
        object_id(t0(), 11),
        object_id(t0(), 12),
    );
    fail_ids.lock().unwrap().push(dead.clone());
    for (i, id) in [&old, &dead].into_iter().enumerate() {
        let b = body(0, id, &format!("CALL-r{i}"));
        inbox.ingest(&Method::POST, &headers(&b), &b).await;
    }
    let r = worker.run_once().await.unwrap();
    assert_eq!((r.done, r.dead), (1, 1));
    clock.advance(Duration::from_secs(3600));
    let b = body(0, &new, "CALL-r2");
    inbox.ingest(&Method::POST, &headers(&b), &b).await;
    assert_eq!(worker.run_once().await.unwrap().done, 1);
    let purged = store
        .purge_done(clock.now() - Duration::from_secs(1800))
        .await
        .unwrap();
    assert_eq!(purged, 1);
    assert!(store.get(&old).await.unwrap().is_none());
    assert_eq!(
        store.get(&dead).await.unwrap().unwrap().status,
        Status::Dead
    );
    assert_eq!(store.get(&new).await.unwrap().unwrap().status, Status::Done);
    assert_eq!(store.purge_dead().await.unwrap(), 1);
    assert!(store.get(&dead).await.unwrap().is_none());
}

/// Many workers, events of each call ingested in reverse order, pre-conversation failing once:
/// each call is still handled pre -> post -> analytics, each delivery done exactly once.
pub async fn order_per_call(store: Arc<dyn Store>, workers: usize) {
    order_per_call_shared(store.clone(), vec![store; workers]).await;
}

/// [`order_per_call`] with each worker on its own store handle (on PostgreSQL: its own
/// connections, as separate processes would have).
pub async fn order_per_call_shared(store: Arc<dyn Store>, worker_stores: Vec<Arc<dyn Store>>) {
    let clock = clock();
    let inbox = inbox(&store, &clock);
    let calls = 12;
    for c in 0..calls {
        for kind in [2usize, 1, 0] {
            let id = object_id(t0(), (c * 3 + kind) as u64 + 100);
            let b = body(kind, &id, &format!("CALL-1778226705739-{c:06x}"));
            assert!(matches!(
                inbox.ingest(&Method::POST, &headers(&b), &b).await,
                Ingested::Stored { .. }
            ));
        }
    }
    let seen: Arc<Mutex<Seen>> = Arc::default();
    let s = seen.clone();
    let handler = Arc::new(handler_fn(move |d: Delivery| {
        let call = d.event.call_id().map(|c| c.as_str().to_owned()).unwrap();
        let rank = event_rank(d.event.event_type().as_str());
        s.lock()
            .unwrap()
            .entry(call)
            .or_default()
            .push((rank, d.attempt));
        async move {
            tokio::task::yield_now().await;
            if rank == 0 && d.attempt == 1 {
                Err(std::io::Error::other("first attempt of pre fails"))
            } else {
                Ok(())
            }
        }
    }));
    let mut tasks = Vec::new();
    for worker_store in worker_stores {
        let w = Worker::new(worker_store, handler.clone())
            .clock(clock.clone())
            .batch(4)
            .backoff(Backoff {
                base: Duration::ZERO,
                max: Duration::ZERO,
            });
        let st = store.clone();
        let clock = clock.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..20_000 {
                w.run_once().await.unwrap();
                let stats = st.stats(clock.now()).await.unwrap();
                if stats.count(Status::Done) == (calls * 3) as u64 {
                    return;
                }
                tokio::task::yield_now().await;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let stats = store.stats(clock.now()).await.unwrap();
    assert_eq!(stats.count(Status::Done), (calls * 3) as u64);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), calls);
    for (call, order) in seen.iter() {
        assert_eq!(order, &[(0, 1), (0, 2), (1, 1), (2, 1)], "call {call}");
    }
}

/// A failing handler: retried with the backoff's delays (the worker's sleeps are exactly those
/// waits; the clock is manual), dead-lettered after the maximum, brought back by replay.
pub async fn backoff_dead_letter_replay(store: Arc<dyn Store>) {
    let clock = clock();
    let inbox = inbox(&store, &clock);
    let id = object_id(t0(), 42);
    let b = body(2, &id, "CALL-backoff");
    inbox.ingest(&Method::POST, &headers(&b), &b).await;

    let attempts: Arc<Mutex<Vec<(u32, std::time::SystemTime)>>> = Arc::default();
    let fail = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let (a, f, c) = (attempts.clone(), fail.clone(), clock.clone());
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let stop_tx = Arc::new(Mutex::new(Some(stop_tx)));
    let st = stop_tx.clone();
    let sleeper = RecordingSleeper::new(clock.clone());
    let worker = Worker::new(
        store.clone(),
        handler_fn(move |d: Delivery| {
            a.lock().unwrap().push((d.attempt, c.now()));
            let failing = f.load(Ordering::SeqCst);
            if d.attempt == 5 || !failing {
                if let Some(tx) = st.lock().unwrap().take() {
                    let _ = tx.send(());
                }
            }
            async move {
                if failing {
                    Err(std::io::Error::other("downstream said 503"))
                } else {
                    Ok(())
                }
            }
        }),
    )
    .clock(clock.clone())
    .sleeper(sleeper.clone())
    .max_attempts(5)
    .poll_interval(Duration::from_secs(3600))
    .backoff(Backoff {
        base: Duration::from_secs(2),
        max: Duration::from_secs(10),
    });
    worker
        .run(async {
            let _ = stop_rx.await;
        })
        .await
        .unwrap();
    let secs: Vec<u64> = sleeper.slept().iter().map(Duration::as_secs).collect();
    assert_eq!(secs, [2, 4, 8, 10], "one sleep per backoff wait");
    let seen: Vec<u32> = attempts.lock().unwrap().iter().map(|(n, _)| *n).collect();
    assert_eq!(seen, [1, 2, 3, 4, 5]);
    let times: Vec<u64> = attempts
        .lock()
        .unwrap()
        .iter()
        .map(|(_, t)| t.duration_since(t0()).unwrap().as_secs())
        .collect();
    assert_eq!(times, [0, 2, 6, 14, 24]);
    let d = store.get(&id).await.unwrap().unwrap();
    assert_eq!(d.status, Status::Dead);
    assert_eq!(d.attempts, 5);
    assert_eq!(d.last_error.as_deref(), Some("downstream said 503"));

    // Replay by id brings it back with fresh attempts; now the handler succeeds.
    fail.store(false, Ordering::SeqCst);
    assert!(store.replay(&id, clock.now()).await.unwrap());
    assert!(!store.replay("unknown-id", clock.now()).await.unwrap());
    let r = worker.run_once().await.unwrap();
    assert_eq!(r.done, 1);
    assert_eq!(attempts.lock().unwrap().last().unwrap().0, 1);
    assert_eq!(store.get(&id).await.unwrap().unwrap().status, Status::Done);
}

/// A claim is a lease: when its holder dies, it comes back after expiry (attempt 2), and the
/// old holder can no longer finish it.
pub async fn lease_expiry(store: Arc<dyn Store>) {
    let clock = clock();
    let inbox = inbox(&store, &clock);
    let id = object_id(t0(), 77);
    let b = body(0, &id, "CALL-lease");
    inbox.ingest(&Method::POST, &headers(&b), &b).await;
    // A worker claims it and dies.
    let crashed = store
        .claim(clock.now(), clock.now() + Duration::from_secs(30), 10)
        .await
        .unwrap();
    assert_eq!(crashed.len(), 1);
    assert_eq!(crashed[0].delivery.attempts, 1);
    assert_eq!(crashed[0].delivery.status, Status::Leased);

    let seen: Arc<Mutex<Vec<u32>>> = Arc::default();
    let s = seen.clone();
    let worker = Worker::new(
        store.clone(),
        handler_fn(move |d: Delivery| {
            s.lock().unwrap().push(d.attempt);
            async { Ok::<(), std::io::Error>(()) }
        }),
    )
    .clock(clock.clone())
    .lease(Duration::from_secs(30));
    assert_eq!(worker.run_once().await.unwrap().claimed, 0, "still leased");
    assert_eq!(
        store.next_due().await.unwrap(),
        Some(clock.now() + Duration::from_secs(30))
    );
    let stats = store.stats(clock.now()).await.unwrap();
    assert_eq!(stats.count(Status::Leased), 1);
    clock.advance(Duration::from_secs(31));
    assert_eq!(worker.run_once().await.unwrap().done, 1);
    assert_eq!(*seen.lock().unwrap(), [2]);
    assert!(
        !store
            .complete(&crashed[0].lease, clock.now())
            .await
            .unwrap(),
        "the crashed worker's lease is lost"
    );
    assert_eq!(store.get(&id).await.unwrap().unwrap().status, Status::Done);
}

/// A panicking handler is a failed attempt, not a dead worker.
pub async fn handler_panic(store: Arc<dyn Store>) {
    let clock = clock();
    let inbox = inbox(&store, &clock);
    let id = object_id(t0(), 88);
    let b = body(0, &id, "CALL-panic");
    inbox.ingest(&Method::POST, &headers(&b), &b).await;
    let worker = Worker::new(
        store.clone(),
        handler_fn(|d: Delivery| async move {
            if d.attempt == 1 {
                panic!("handler bug");
            }
            Ok::<(), std::io::Error>(())
        }),
    )
    .clock(clock.clone())
    .backoff(Backoff {
        base: Duration::from_secs(1),
        max: Duration::from_secs(1),
    });
    assert_eq!(worker.run_once().await.unwrap().retried, 1);
    let d = store.get(&id).await.unwrap().unwrap();
    assert_eq!(d.status, Status::Pending);
    assert_eq!(d.available_at, clock.now() + Duration::from_secs(1));
    assert_eq!(d.last_error.as_deref(), Some("the handler panicked"));
    assert_eq!(
        worker.run_once().await.unwrap().claimed,
        0,
        "not before the backoff"
    );
    clock.advance(Duration::from_secs(1));
    assert_eq!(worker.run_once().await.unwrap().done, 1);
}

/// Stats: counts by status and the age of the oldest pending delivery.
pub async fn stats(store: Arc<dyn Store>) {
    let clock = clock();
    let inbox = inbox(&store, &clock);
    assert_eq!(
        store.stats(clock.now()).await.unwrap().oldest_pending_age,
        None
    );
    for n in 0..3u64 {
        let b = body(0, &object_id(t0(), 200 + n), &format!("CALL-s{n}"));
        inbox.ingest(&Method::POST, &headers(&b), &b).await;
        clock.advance(Duration::from_secs(10));
    }
    let stats = store.stats(clock.now()).await.unwrap();
    assert_eq!(stats.count(Status::Pending), 3);
    assert_eq!(stats.oldest_pending_age, Some(Duration::from_secs(30)));
    let listed = store.list(Some(Status::Pending), 2).await.unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0].id, object_id(t0(), 200));
    assert!(store.list(Some(Status::Dead), 10).await.unwrap().is_empty());
}

/// Replay protection, when on, refuses an old delivery id before it is stored.
pub async fn replay_window(store: Arc<dyn Store>) {
    let clock = clock();
    let inbox = Inbox::new(
        Receiver::new(secret())
            .unwrap()
            .clock(clock.clone())
            .replay_window(Duration::from_secs(300)),
        store.clone(),
    );
    clock.advance(Duration::from_secs(301));
    let old = object_id(t0(), 300);
    let b = body(0, &old, "CALL-old");
    let got = inbox.ingest(&Method::POST, &headers(&b), &b).await;
    assert!(matches!(got, Ingested::Rejected(Rejection::Stale)));
    assert_eq!(got.reply().status, 401);
    assert!(store.get(&old).await.unwrap().is_none());
    let fresh = object_id(clock.now(), 301);
    let b = body(0, &fresh, "CALL-new");
    let got = inbox.ingest(&Method::POST, &headers(&b), &b).await;
    assert!(matches!(got, Ingested::Stored { .. }));
    let stats = store.stats(clock.now()).await.unwrap();
    assert_eq!(stats.rejected(Rejection::Stale), 1);
}

/// Concurrent ingests all succeed and are all stored.
pub async fn concurrent_ingest(store: Arc<dyn Store>, n: usize) {
    let clock = clock();
    let inbox = inbox(&store, &clock);
    let mut tasks = Vec::new();
    for i in 0..n {
        let inbox = inbox.clone();
        tasks.push(tokio::spawn(async move {
            let b = body(
                i % 3,
                &object_id(t0(), 1000 + i as u64),
                &format!("CALL-c{}", i / 3),
            );
            inbox
                .ingest(&Method::POST, &headers(&b), &b)
                .await
                .reply()
                .status
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 200);
    }
    let stats = store.stats(clock.now()).await.unwrap();
    assert_eq!(stats.count(Status::Pending), n as u64);
}

/// An idle worker whose sleep never ends is woken by the inbox of its process when a delivery
/// is stored.
pub async fn wakeup(store: Arc<dyn Store>) {
    struct Forever;
    impl atoms_webhook_receiver::Sleeper for Forever {
        fn sleep(&self, _d: Duration) -> atoms_webhook_receiver::BoxFuture<'static, ()> {
            Box::pin(std::future::pending())
        }
    }
    let clock = clock();
    let notify = Arc::new(tokio::sync::Notify::new());
    let inbox = inbox(&store, &clock).wake(notify.clone());
    let (done_tx, done_rx) = tokio::sync::oneshot::channel::<String>();
    let done_tx = Arc::new(Mutex::new(Some(done_tx)));
    let worker = Worker::new(
        store.clone(),
        handler_fn(move |d: Delivery| {
            if let Some(tx) = done_tx.lock().unwrap().take() {
                let _ = tx.send(d.id.clone());
            }
            async { Ok::<(), std::io::Error>(()) }
        }),
    )
    .clock(clock.clone())
    .sleeper(Forever)
    .wake_on(notify);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(async move {
        worker
            .run(async {
                let _ = stop_rx.await;
            })
            .await
    });
    let id = object_id(t0(), 500);
    let b = body(0, &id, "CALL-wake");
    inbox.ingest(&Method::POST, &headers(&b), &b).await;
    assert_eq!(done_rx.await.unwrap(), id);
    stop_tx.send(()).unwrap();
    running.await.unwrap().unwrap();
}
