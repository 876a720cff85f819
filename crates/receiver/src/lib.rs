//! Receiving Atoms webhooks reliably.
//!
//! Atoms POSTs each event once, waits 30 s, never retries and signs no timestamp. This crate
//! is the receive side of the SDK, above `atoms-webhook-models`:
//!
//! - **Receive core** ([`Receiver`]), framework-agnostic on `http` types: 405 if not POST, 413
//!   over the size limit (checked before hashing), 401 for a missing or bad signature
//!   (several secrets, for rotation), then parse; a [`Reply`] that leaks nothing.
//! - **Durable inbox** ([`Inbox`] over a [`Store`]): a delivery is answered 2xx only once its
//!   raw body is committed. [`SqliteStore`] (feature `sqlite`, default: one file, WAL,
//!   `synchronous=FULL`, group commit) and `PgStore` (feature `postgres`: several receivers
//!   and workers on one database). Duplicates (same delivery id) are answered 2xx and counted,
//!   not stored again; a signed body that does not parse is kept as a dead letter.
//! - **Workers** ([`Worker`]): at least once, in order per call (pre -> post -> analytics),
//!   leases that come back when a worker dies, capped exponential backoff, dead letters and
//!   replay.
//! - **axum** (feature `axum`, module `axum`): the `VerifiedEvent` extractor and the tower
//!   `InboxService` / `InboxLayer`.
//! - **Reconciliation** (feature `reconcile`, module `reconcile`): a call ledger in the store
//!   and a `Reconciler` that reads the call logs and enqueues **recovered** items for the
//!   deliveries that never arrived (Atoms never retries), deduplicated against late ones.
//!
//! Time is injected everywhere ([`Clock`], [`Sleeper`]) so tests never wait.
//!
//! # Example: ingest, then process
//! ```
//! use std::sync::Arc;
//! use atoms_webhook_models::{sign, SigningSecret};
//! use atoms_webhook_receiver::{handler_fn, Delivery, Inbox, Receiver, SqliteStore, Store, Worker};
//! use http::{HeaderMap, Method};
//!
//! # let dir = tempfile::tempdir()?;
//! let secret = SigningSecret::new("whsec");
//! let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("inbox.db"))?);
//! let inbox = Inbox::new(Receiver::new(secret.clone())?, store.clone());
//!
//! // In a web server, for each request:
//! let body = br#"{"url":"u","description":"d","event":"a.pre-conversation","id":"69fd96118fd277fc807e4c23",
//!   "metadata":{"agentId":"a","eventType":"pre-conversation","callId":"CALL-1"}}"#;
//! let mut headers = HeaderMap::new();
//! headers.insert("x-signature", sign(&secret, body).parse()?);
//! # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
//! let reply = inbox.ingest(&Method::POST, &headers, body).await.reply();
//! assert_eq!(reply.status, 200); // durable now: answer with `reply`
//!
//! // Elsewhere (or in another process), workers process what was stored:
//! let worker = Worker::new(store, handler_fn(|d: Delivery| async move {
//!     println!("{} #{}: {}", d.id, d.attempt, d.event.event_type());
//!     Ok::<(), std::io::Error>(())
//! }));
//! assert_eq!(worker.run_once().await?.done, 1);
//! # Ok::<(), atoms_webhook_receiver::StoreError>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod clock;
mod core;
mod inbox;
mod store;
mod worker;

#[cfg(feature = "axum")]
pub mod axum;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "reconcile")]
pub mod reconcile;
#[cfg(feature = "sqlite")]
mod sqlite;

pub use crate::clock::{BoxFuture, Clock, ManualClock, Sleeper, SystemClock, TokioSleeper};
pub use crate::core::{
    object_id_time, ConfigError, Outcome, Receiver, Rejection, Reply, Unparseable, DEFAULT_MAX_BODY,
};
pub use crate::inbox::{body_key, Inbox, Ingested};
pub use crate::store::{
    event_rank, is_recovered_id, recovered_id, Claimed, Inserted, Lease, LedgerCall, NewDelivery,
    Stats, Status, Store, StoreError, StoredDelivery, RECOVERED_PREFIX,
};
pub use crate::worker::{
    handler_fn, Backoff, Delivery, Handler, HandlerError, HandlerFn, RunReport, Worker,
    WorkerConfig,
};

#[cfg(feature = "postgres")]
pub use crate::postgres::PgStore;
#[cfg(feature = "sqlite")]
pub use crate::sqlite::SqliteStore;
#[cfg(feature = "postgres")]
pub use tokio_postgres;

pub use atoms_webhook_models as models;

/// The README's examples, compiled as doctests.
#[cfg(all(doctest, feature = "axum", feature = "sqlite"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
