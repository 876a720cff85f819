//! The PostgreSQL inbox on a real database: the URL comes from `ATOMS_TEST_DATABASE_URL`
//! (`scripts/with-postgres.sh` starts a throwaway cluster). Without it each test says so in one
//! line and passes, except under `CI=true`, where a missing URL is a failure. Each test works
//! in its own schema, so they run in parallel.
#![cfg(feature = "postgres")]

mod common;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use atoms_webhook_receiver::{Inbox, Ingested, PgStore, Receiver, Status, Store, StoreError};
use common::*;
use http::Method;

static SCHEMAS: AtomicU32 = AtomicU32::new(0);

fn url() -> Option<String> {
    match std::env::var("ATOMS_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("ATOMS_TEST_DATABASE_URL is not set under CI=true: the PostgreSQL tests must run");
            }
            println!("skipped: ATOMS_TEST_DATABASE_URL is not set (see scripts/with-postgres.sh)");
            None
        }
    }
}

/// A fresh schema for one test.
fn schema(test: &str) -> String {
    format!(
        "t_{}_{}_{}",
        test,
        std::process::id(),
        SCHEMAS.fetch_add(1, Ordering::SeqCst)
    )
}

async fn open(url: &str, schema: &str) -> Arc<PgStore> {
    Arc::new(PgStore::connect_in_schema(url, schema).await.unwrap())
}

/// Drops a test's schema once it passed (a failed test leaves it, to look at).
async fn drop_schema(url: &str, schema: &str) {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    client
        .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .await
        .unwrap();
}

macro_rules! suite {
    ($($name:ident $(($arg:expr))?),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            let Some(url) = url() else { return };
            let name = schema(stringify!($name));
            let store = open(&url, &name).await;
            suite::$name(store $(, $arg)?).await;
            drop_schema(&url, &name).await;
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

/// Two ingest handles and three worker handles (separate connections, as separate processes
/// would be) on one schema: per-call order and exactly-once completion still hold.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn order_across_connections() {
    let Some(url) = url() else { return };
    let name = schema("shared");
    let ingest = open(&url, &name).await;
    let mut workers: Vec<Arc<dyn Store>> = Vec::new();
    for _ in 0..3 {
        workers.push(open(&url, &name).await);
    }
    suite::order_per_call_shared(ingest, workers).await;
    drop_schema(&url, &name).await;
}

/// The same delivery posted concurrently through two ingest handles: stored once, every
/// copy answered 2xx, the rest counted as duplicates (ON CONFLICT DO NOTHING, in one batch or
/// across batches).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_duplicates() {
    let Some(url) = url() else { return };
    let name = schema("dups");
    let a = open(&url, &name).await;
    let b = open(&url, &name).await;
    let inboxes = [a.clone(), b].map(|s| Inbox::new(Receiver::new(secret()).unwrap(), s));
    let id = object_id(t0(), 9);
    let body = body(0, &id, "CALL-dup");
    let mut tasks = Vec::new();
    for i in 0..10 {
        let inbox = inboxes[i % 2].clone();
        let body = body.clone();
        tasks.push(tokio::spawn(async move {
            inbox.ingest(&Method::POST, &headers(&body), &body).await
        }));
    }
    let mut stored = 0;
    for t in tasks {
        let got = t.await.unwrap();
        assert_eq!(got.reply().status, 200);
        stored += matches!(got, Ingested::Stored { .. }) as u32;
    }
    assert_eq!(stored, 1);
    let stats = a.stats(t0()).await.unwrap();
    assert_eq!(stats.duplicates, 9);
    assert_eq!(stats.count(Status::Pending), 1);
    drop_schema(&url, &name).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_are_owned_and_checked() {
    let Some(url) = url() else { return };
    let name = schema("migrate");
    drop(open(&url, &name).await);
    drop(open(&url, &name).await);
    let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let rows = client
        .query(&format!("SELECT version FROM {name}.schema_version"), &[])
        .await
        .unwrap();
    let versions: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(versions, [PgStore::SCHEMA_VERSION]);
    client
        .execute(
            &format!("INSERT INTO {name}.schema_version VALUES (99)"),
            &[],
        )
        .await
        .unwrap();
    assert!(matches!(
        PgStore::connect_in_schema(&url, &name).await,
        Err(StoreError::SchemaTooNew { found: 99, .. })
    ));
    assert!(PgStore::connect_in_schema(&url, "bad; name").await.is_err());
    drop_schema(&url, &name).await;
}
