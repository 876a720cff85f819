//! When the store fails: nothing is acknowledged (503), refusals keep their status, and a
//! worker on a closed store stops instead of spinning.

mod common;

use std::sync::Arc;
use std::time::SystemTime;

use atoms_webhook_receiver::{
    handler_fn, BoxFuture, Claimed, Delivery, Inbox, Ingested, Inserted, Lease, NewDelivery,
    Receiver, Rejection, Stats, Status, Store, StoreError, StoredDelivery, Worker,
};
use common::*;
use http::{HeaderMap, Method};

/// A store whose database is gone: every call fails as closed.
struct Gone;

fn gone<'a, T: Send + 'a>() -> BoxFuture<'a, Result<T, StoreError>> {
    Box::pin(async { Err(StoreError::Closed) })
}

impl Store for Gone {
    fn ingest(&self, _: NewDelivery) -> BoxFuture<'_, Result<Inserted, StoreError>> {
        gone()
    }
    fn count_rejection(&self, _: Rejection) -> BoxFuture<'_, Result<(), StoreError>> {
        gone()
    }
    fn claim(
        &self,
        _: SystemTime,
        _: SystemTime,
        _: u32,
    ) -> BoxFuture<'_, Result<Vec<Claimed>, StoreError>> {
        gone()
    }
    fn complete<'a>(
        &'a self,
        _: &'a Lease,
        _: SystemTime,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        gone()
    }
    fn retry_at<'a>(
        &'a self,
        _: &'a Lease,
        _: SystemTime,
        _: &'a str,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        gone()
    }
    fn dead_letter<'a>(
        &'a self,
        _: &'a Lease,
        _: SystemTime,
        _: &'a str,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        gone()
    }
    fn next_due(&self) -> BoxFuture<'_, Result<Option<SystemTime>, StoreError>> {
        gone()
    }
    fn replay<'a>(&'a self, _: &'a str, _: SystemTime) -> BoxFuture<'a, Result<bool, StoreError>> {
        gone()
    }
    fn replay_dead(&self, _: SystemTime) -> BoxFuture<'_, Result<u64, StoreError>> {
        gone()
    }
    fn purge_done(&self, _: SystemTime) -> BoxFuture<'_, Result<u64, StoreError>> {
        gone()
    }
    fn purge_dead(&self) -> BoxFuture<'_, Result<u64, StoreError>> {
        gone()
    }
    fn stats(&self, _: SystemTime) -> BoxFuture<'_, Result<Stats, StoreError>> {
        gone()
    }
    fn list(
        &self,
        _: Option<Status>,
        _: u32,
    ) -> BoxFuture<'_, Result<Vec<StoredDelivery>, StoreError>> {
        gone()
    }
    fn get<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<Option<StoredDelivery>, StoreError>> {
        gone()
    }
}

#[tokio::test]
async fn a_failed_store_is_never_acknowledged() {
    let inbox = Inbox::new(Receiver::new(secret()).unwrap(), Arc::new(Gone));
    let b = body(0, &object_id(t0(), 1), "CALL-1");
    let got = inbox.ingest(&Method::POST, &headers(&b), &b).await;
    assert!(matches!(got, Ingested::Failed(StoreError::Closed)));
    assert_eq!(got.reply().status, 503);
    assert!(!got.reply().body.contains("closed"));
    // A signed body that does not parse cannot be kept either: not acknowledged.
    let junk = b"not json".to_vec();
    assert_eq!(
        inbox
            .ingest(&Method::POST, &headers(&junk), &junk)
            .await
            .reply()
            .status,
        503
    );
    // A refusal keeps its status even when it cannot be counted.
    assert_eq!(
        inbox
            .ingest(&Method::POST, &HeaderMap::new(), &b)
            .await
            .reply()
            .status,
        401
    );
}

#[tokio::test]
async fn a_worker_on_a_closed_store_stops() {
    let worker = Worker::new(
        Arc::new(Gone),
        handler_fn(|_d: Delivery| async { Ok::<(), std::io::Error>(()) }),
    );
    let ended = worker.run(std::future::pending()).await;
    assert!(matches!(ended, Err(StoreError::Closed)));
}
