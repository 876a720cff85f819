//! The SQLite inbox on a real database file.
#![cfg(feature = "sqlite")]

mod common;

use std::future::Future;
use std::sync::Arc;
use std::task::Poll;

use atoms_webhook_receiver::{
    Inbox, Ingested, NewDelivery, Receiver, SqliteStore, Store, StoreError,
};
use common::*;
use http::Method;

fn open() -> (tempfile::TempDir, Arc<SqliteStore>) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("inbox.db")).unwrap();
    (dir, Arc::new(store))
}

macro_rules! suite {
    ($($name:ident $(($arg:expr))?),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            let (_dir, store) = open();
            suite::$name(store $(, $arg)?).await;
        }
    )*};
}

suite!(
    stores_what_matters,
    dedup,
    rejections,
    unparseable,
    retention,
    order_per_call(4),
    backoff_dead_letter_replay,
    lease_expiry,
    handler_panic,
    stats,
    replay_window,
    concurrent_ingest(300),
    wakeup,
);

/// Ingests wait for the commit: while another connection holds the write lock, no ingest is
/// answered; once it is released, everything queued meanwhile goes in one transaction.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_commit_and_no_answer_before_commit() {
    let (dir, store) = open();
    let inbox = Inbox::new(Receiver::new(secret()).unwrap(), store.clone());
    let before = store.transactions();

    let blocker = rusqlite::Connection::open(dir.path().join("inbox.db")).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    let bodies: Vec<Vec<u8>> = (0..200u64)
        .map(|i| {
            body(
                (i % 3) as usize,
                &object_id(t0(), i),
                &format!("CALL-g{}", i / 3),
            )
        })
        .collect();
    let signed: Vec<_> = bodies.iter().map(|b| headers(b)).collect();
    let mut pending: Vec<_> = bodies
        .iter()
        .zip(&signed)
        .map(|(b, h)| Box::pin(inbox.ingest(&Method::POST, h, b)))
        .collect();
    // Poll each once: it verifies, queues its write and waits for the commit.
    for f in &mut pending {
        let ready = std::future::poll_fn(|cx| Poll::Ready(f.as_mut().poll(cx).is_ready())).await;
        assert!(
            !ready,
            "an ingest was answered while the database was locked"
        );
    }
    blocker.execute_batch("COMMIT").unwrap();
    for f in pending {
        assert!(matches!(f.await, Ingested::Stored { .. }));
    }
    let used = store.transactions() - before;
    assert!(used <= 2, "200 ingests took {used} transactions");
    let n: i64 = blocker
        .query_row("SELECT COUNT(*) FROM deliveries", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 200, "visible to another connection: committed");
}

#[test]
fn wal_mode_and_migrations() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("inbox.db");
    drop(SqliteStore::open(&path).unwrap());
    // Opening again applies nothing twice.
    drop(SqliteStore::open(&path).unwrap());
    let c = rusqlite::Connection::open(&path).unwrap();
    let mode: String = c
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let versions: Vec<i64> = c
        .prepare("SELECT version FROM schema_version")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(versions, [SqliteStore::SCHEMA_VERSION]);
    c.execute("INSERT INTO schema_version (version) VALUES (99)", [])
        .unwrap();
    drop(c);
    assert!(matches!(
        SqliteStore::open(&path),
        Err(StoreError::SchemaTooNew { found: 99, .. })
    ));
}

#[tokio::test]
async fn data_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("inbox.db");
    let store = SqliteStore::open(&path).unwrap();
    let b = body(0, &object_id(t0(), 5), "CALL-reopen");
    store
        .ingest(
            NewDelivery::new(object_id(t0(), 5), b.clone(), t0()).event_type("pre-conversation"),
        )
        .await
        .unwrap();
    drop(store);
    let store = SqliteStore::open(&path).unwrap();
    let d = store.get(&object_id(t0(), 5)).await.unwrap().unwrap();
    assert_eq!(d.body, b);
}
