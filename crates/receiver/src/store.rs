//! The durable inbox's storage interface, and the types that cross it.
//!
//! A [`Store`] keeps every accepted delivery (raw body, the headers that matter, the time
//! received) and its processing state. Two implementations ship with the crate, each owning its
//! schema migrations: [`SqliteStore`](crate::SqliteStore) (feature `sqlite`, default) and
//! [`PgStore`](crate::PgStore) (feature `postgres`).
//!
//! A delivery moves `pending -> leased -> done`, or back to `pending` (with a later
//! `available_at`) when its handler fails, or to `dead` after the last attempt (or at once when
//! its body does not parse). [`Store::replay`] sends a dead letter back to `pending`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::clock::BoxFuture;
use crate::core::Rejection;

/// A storage failure. The delivery it concerned was not accepted (no 2xx was sent for it).
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database reported an error.
    #[error("database error: {0}")]
    Database(#[source] Arc<dyn std::error::Error + Send + Sync>),
    /// The store's writer has stopped (the store is shutting down or its thread died).
    #[error("the store is closed")]
    Closed,
    /// The database was migrated by a newer version of this crate.
    #[error("database schema version {found} is newer than this version knows ({known})")]
    SchemaTooNew {
        /// The version in the database.
        found: i64,
        /// The newest version this crate knows.
        known: i64,
    },
    /// A row holds a value this version cannot read (for example an unknown status).
    #[error("unreadable row: {0}")]
    Corrupt(&'static str),
    /// This store does not implement the operation (a custom [`Store`] without the call
    /// ledger that reconciliation needs).
    #[error("this store does not support {0}")]
    Unsupported(&'static str),
}

impl StoreError {
    /// Wraps a database driver's error.
    pub fn database(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        StoreError::Database(Arc::new(e))
    }
}

/// Where a delivery is in its processing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Status {
    /// Waiting for a worker (possibly not before its `available_at`, after a failure).
    Pending,
    /// Claimed by a worker until its lease expires.
    Leased,
    /// Handled successfully.
    Done,
    /// Given up on (too many attempts, or a body that does not parse): kept until replayed or
    /// purged.
    Dead,
}

impl Status {
    /// `pending`, `leased`, `done` or `dead`: the value stored in the database.
    pub fn as_str(&self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Leased => "leased",
            Status::Done => "done",
            Status::Dead => "dead",
        }
    }

    /// The inverse of [`Status::as_str`].
    pub fn parse(s: &str) -> Option<Status> {
        Some(match s {
            "pending" => Status::Pending,
            "leased" => Status::Leased,
            "done" => Status::Done,
            "dead" => Status::Dead,
            _ => return None,
        })
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The processing rank of an event type within one call: pre-conversation (0), then
/// post-conversation (1), then analytics-completed (2); other types come after (3). A delivery
/// is claimable only when no lower-ranked delivery of the same call is pending or leased.
pub fn event_rank(event_type: &str) -> i32 {
    match event_type {
        "pre-conversation" => 0,
        "post-conversation" => 1,
        "analytics-completed" => 2,
        _ => 3,
    }
}

/// The id prefix of the items reconciliation rebuilt from the call logs (see [`recovered_id`]).
pub const RECOVERED_PREFIX: &str = "recovered:";

/// The inbox id of the recovered item standing in for the `event_type` delivery of `call_id`:
/// `recovered:{callId}:{eventType}` (never the form of an Atoms delivery id, a 24-hex ObjectId).
pub fn recovered_id(call_id: &str, event_type: &str) -> String {
    format!("{RECOVERED_PREFIX}{call_id}:{event_type}")
}

/// True for the id of a recovered item.
pub fn is_recovered_id(id: &str) -> bool {
    id.starts_with(RECOVERED_PREFIX)
}

/// What the call ledger knows of one call that reconciliation has not closed yet.
///
/// The ledger is written by [`Store::ingest`] (per call id, which event types arrived) and by
/// [`Store::enqueue_recovered`]; the reconciler notes what it learnt from the call log
/// ([`Store::note_call`]) and closes the call once nothing is missing ([`Store::close_call`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct LedgerCall {
    /// The call id.
    pub call_id: String,
    /// The agent, once the reconciler has read it from the call log (or the sweep found it).
    pub agent_id: Option<String>,
    /// Event types that arrived as real deliveries.
    pub arrived: Vec<String>,
    /// Event types enqueued as recovered items.
    pub recovered: Vec<String>,
    /// When the ledger first heard of the call.
    pub first_seen_at: SystemTime,
    /// When the reconciler first saw the call log with a final status.
    pub final_seen_at: Option<SystemTime>,
}

impl LedgerCall {
    /// True when `event_type` arrived, really or recovered.
    pub fn has(&self, event_type: &str) -> bool {
        self.arrived
            .iter()
            .chain(&self.recovered)
            .any(|t| t == event_type)
    }

    /// Adds an event type read from a store's ledger, by the ledger row's `source` column
    /// (`"recovered"` for a recovered item, anything else for a real delivery).
    pub(crate) fn add_event(&mut self, event_type: String, source: &str) {
        if source == "recovered" {
            self.recovered.push(event_type);
        } else {
            self.arrived.push(event_type);
        }
    }
}

/// A delivery to store, built by [`Inbox`](crate::Inbox) after verification.
#[derive(Clone)]
#[non_exhaustive]
pub struct NewDelivery {
    /// The delivery id (the envelope's `id`), or `sha256:<hex of the body>` for a signed body
    /// with no readable id. Unique: a second delivery with the same id is a duplicate.
    pub id: String,
    /// `metadata.callId`, for per-call ordering.
    pub call_id: Option<String>,
    /// `metadata.eventType` (empty when unreadable).
    pub event_type: String,
    /// The raw body, exactly as received and verified.
    pub body: Vec<u8>,
    /// The `Content-Type` header.
    pub content_type: Option<String>,
    /// The signature header as received.
    pub signature: Option<String>,
    /// The `User-Agent` header.
    pub user_agent: Option<String>,
    /// When it was received.
    pub received_at: SystemTime,
    /// For a signed body that did not parse: why. It is then stored as a dead letter.
    pub parse_error: Option<String>,
}

impl std::fmt::Debug for NewDelivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The body holds personal data: only its length is shown.
        f.debug_struct("NewDelivery")
            .field("id", &self.id)
            .field("call_id", &self.call_id)
            .field("event_type", &self.event_type)
            .field("body_len", &self.body.len())
            .field("received_at", &self.received_at)
            .field("parse_error", &self.parse_error)
            .finish_non_exhaustive()
    }
}

impl NewDelivery {
    /// A delivery with the given id and raw body, received at `received_at`; other fields empty.
    pub fn new(id: impl Into<String>, body: impl Into<Vec<u8>>, received_at: SystemTime) -> Self {
        Self {
            id: id.into(),
            call_id: None,
            event_type: String::new(),
            body: body.into(),
            content_type: None,
            signature: None,
            user_agent: None,
            received_at,
            parse_error: None,
        }
    }

    /// Sets the call id.
    pub fn call_id(mut self, call_id: impl Into<String>) -> Self {
        self.call_id = Some(call_id.into());
        self
    }

    /// Sets the event type.
    pub fn event_type(mut self, event_type: impl Into<String>) -> Self {
        self.event_type = event_type.into();
        self
    }

    /// Marks it as a signed body that did not parse (stored as a dead letter).
    pub fn parse_error(mut self, error: impl Into<String>) -> Self {
        self.parse_error = Some(error.into());
        self
    }
}

/// What an ingest did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Inserted {
    /// Stored (durably: committed) for the first time.
    New,
    /// A delivery with this id was already stored: counted, not stored again.
    Duplicate,
}

/// A stored delivery.
#[derive(Clone)]
#[non_exhaustive]
pub struct StoredDelivery {
    /// The delivery id (the idempotency key).
    pub id: String,
    /// `metadata.callId`.
    pub call_id: Option<String>,
    /// `metadata.eventType`.
    pub event_type: String,
    /// Where it is in processing.
    pub status: Status,
    /// Attempts so far (the current one included, while leased).
    pub attempts: u32,
    /// When it was received.
    pub received_at: SystemTime,
    /// Not claimable before this time (after a failed attempt: the backoff).
    pub available_at: SystemTime,
    /// While leased: when the lease expires.
    pub lease_until: Option<SystemTime>,
    /// When it was marked done or dead.
    pub processed_at: Option<SystemTime>,
    /// The last handler error, or the parse error of an unparseable body.
    pub last_error: Option<String>,
    /// The raw body as received.
    pub body: Vec<u8>,
    /// The `Content-Type` header as received.
    pub content_type: Option<String>,
    /// The signature header as received.
    pub signature: Option<String>,
    /// The `User-Agent` header as received.
    pub user_agent: Option<String>,
}

impl std::fmt::Debug for StoredDelivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredDelivery")
            .field("id", &self.id)
            .field("call_id", &self.call_id)
            .field("event_type", &self.event_type)
            .field("status", &self.status)
            .field("attempts", &self.attempts)
            .field("available_at", &self.available_at)
            .field("body_len", &self.body.len())
            .finish_non_exhaustive()
    }
}

/// The right to finish one claimed delivery: valid until the lease expires and another worker
/// claims it again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lease {
    /// The delivery id.
    pub id: String,
    /// Distinguishes this claim from later claims of the same delivery.
    pub token: i64,
}

/// A delivery claimed by a worker.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Claimed {
    /// The delivery (its `attempts` counts this attempt).
    pub delivery: StoredDelivery,
    /// The lease to finish it with.
    pub lease: Lease,
}

/// Counts for `inbox stats`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Deliveries by status (`pending`, `leased`, `done`, `dead`; absent = 0).
    pub by_status: BTreeMap<String, u64>,
    /// Duplicates answered 2xx and not stored again.
    pub duplicates: u64,
    /// Signed bodies that did not parse, stored as dead letters.
    pub unparseable: u64,
    /// Requests refused, by [`Rejection::reason`].
    pub rejections: BTreeMap<String, u64>,
    /// How long the oldest pending (or leased) delivery has waited since it was received.
    pub oldest_pending_age: Option<Duration>,
    /// Items reconciliation rebuilt from the call logs and enqueued (see
    /// [`Store::enqueue_recovered`]).
    pub recovered: u64,
    /// Real deliveries that arrived after their recovered twin: stored as done, not processed.
    pub superseded: u64,
}

impl Stats {
    /// The count for one status.
    pub fn count(&self, status: Status) -> u64 {
        self.by_status.get(status.as_str()).copied().unwrap_or(0)
    }

    /// The count of rejections for one reason.
    pub fn rejected(&self, rejection: Rejection) -> u64 {
        self.rejections
            .get(rejection.reason())
            .copied()
            .unwrap_or(0)
    }
}

/// A durable inbox.
///
/// Every method that changes state returns once the change is durable (committed). The futures
/// are boxed so that `Arc<dyn Store>` works, letting a program choose SQLite or PostgreSQL at
/// run time. Times are passed in by the caller (the crate's types hold the injected clock).
pub trait Store: Send + Sync + 'static {
    /// Stores a delivery unless one with its id is already stored (then counts a duplicate).
    /// A delivery with a `parse_error` is stored as dead (and counted as unparseable). Returns
    /// only after the write is committed.
    fn ingest(&self, delivery: NewDelivery) -> BoxFuture<'_, Result<Inserted, StoreError>>;

    /// Counts a refused request by its reason.
    fn count_rejection(&self, rejection: Rejection) -> BoxFuture<'_, Result<(), StoreError>>;

    /// Claims up to `limit` claimable deliveries until `lease_until`: pending ones whose
    /// `available_at` has come, and leased ones whose lease expired. Per call, only the
    /// lowest-ranked unfinished delivery is claimable. Each claim counts one attempt.
    fn claim(
        &self,
        now: SystemTime,
        lease_until: SystemTime,
        limit: u32,
    ) -> BoxFuture<'_, Result<Vec<Claimed>, StoreError>>;

    /// Marks a claimed delivery done. `false` when the lease was lost (expired and claimed
    /// again, or replayed); nothing changes then.
    fn complete<'a>(
        &'a self,
        lease: &'a Lease,
        now: SystemTime,
    ) -> BoxFuture<'a, Result<bool, StoreError>>;

    /// Gives a claimed delivery back as pending, claimable from `available_at`, recording
    /// `error`. `false` when the lease was lost.
    fn retry_at<'a>(
        &'a self,
        lease: &'a Lease,
        available_at: SystemTime,
        error: &'a str,
    ) -> BoxFuture<'a, Result<bool, StoreError>>;

    /// Marks a claimed delivery dead, recording `error`. `false` when the lease was lost.
    fn dead_letter<'a>(
        &'a self,
        lease: &'a Lease,
        now: SystemTime,
        error: &'a str,
    ) -> BoxFuture<'a, Result<bool, StoreError>>;

    /// The earliest time something may become claimable: the soonest `available_at` of a
    /// pending delivery or `lease_until` of a leased one.
    fn next_due(&self) -> BoxFuture<'_, Result<Option<SystemTime>, StoreError>>;

    /// Sends one dead (or done) delivery back to pending with its attempts reset, claimable at
    /// `now`. `false` when no such delivery is dead or done.
    fn replay<'a>(
        &'a self,
        id: &'a str,
        now: SystemTime,
    ) -> BoxFuture<'a, Result<bool, StoreError>>;

    /// Sends every dead letter back to pending; returns how many.
    fn replay_dead(&self, now: SystemTime) -> BoxFuture<'_, Result<u64, StoreError>>;

    /// Retention: deletes done deliveries processed before `before`; dead letters stay.
    /// Returns how many were deleted.
    fn purge_done(&self, before: SystemTime) -> BoxFuture<'_, Result<u64, StoreError>>;

    /// Deletes every dead letter; returns how many.
    fn purge_dead(&self) -> BoxFuture<'_, Result<u64, StoreError>>;

    /// Counts by status, duplicates, rejections by reason and the oldest pending age at `now`.
    fn stats(&self, now: SystemTime) -> BoxFuture<'_, Result<Stats, StoreError>>;

    /// Up to `limit` deliveries, oldest first, optionally of one status.
    fn list(
        &self,
        status: Option<Status>,
        limit: u32,
    ) -> BoxFuture<'_, Result<Vec<StoredDelivery>, StoreError>>;

    /// One delivery by id.
    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<StoredDelivery>, StoreError>>;

    /// Enqueues an item rebuilt from the call logs (its `id` from [`recovered_id`], its
    /// `call_id` and `event_type` set) as pending, unless the call ledger already has that
    /// event type of that call (a real delivery arrived, or it was recovered before):
    /// [`Inserted::Duplicate`] then, and nothing is stored. Atomic with [`Store::ingest`]'s
    /// ledger write, so that a late real delivery and its recovered twin are never both
    /// processed: whichever is written first wins, the other is recorded only.
    fn enqueue_recovered(
        &self,
        delivery: NewDelivery,
    ) -> BoxFuture<'_, Result<Inserted, StoreError>> {
        let _ = delivery;
        Box::pin(async {
            Err(StoreError::Unsupported(
                "reconciliation (enqueue_recovered)",
            ))
        })
    }

    /// Up to `limit` calls of the ledger not closed yet, longest known first.
    fn open_calls(&self, limit: u32) -> BoxFuture<'_, Result<Vec<LedgerCall>, StoreError>> {
        let _ = limit;
        Box::pin(async { Err(StoreError::Unsupported("reconciliation (open_calls)")) })
    }

    /// Records a call the reconciler learnt of (from the sweep, or its call log): creates it in
    /// the ledger at `now` if it is new, sets its agent if given and not known, when
    /// `is_final` the time the log was first seen final, and when `swept` that a sweep has seen
    /// it (each kept once set). A closed call stays closed.
    fn note_call<'a>(
        &'a self,
        call_id: &'a str,
        agent_id: Option<&'a str>,
        is_final: bool,
        swept: bool,
        now: SystemTime,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        let _ = (call_id, agent_id, is_final, swept, now);
        Box::pin(async { Err(StoreError::Unsupported("reconciliation (note_call)")) })
    }

    /// Closes a call: reconciliation has nothing more to do for it.
    fn close_call<'a>(
        &'a self,
        call_id: &'a str,
        now: SystemTime,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        let _ = (call_id, now);
        Box::pin(async { Err(StoreError::Unsupported("reconciliation (close_call)")) })
    }

    /// Which of `call_ids` an earlier sweep has seen (open or closed): the sweep stops at those.
    fn known_calls(&self, call_ids: Vec<String>) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        let _ = call_ids;
        Box::pin(async { Err(StoreError::Unsupported("reconciliation (known_calls)")) })
    }
}

impl<S: Store + ?Sized> Store for Arc<S> {
    fn ingest(&self, delivery: NewDelivery) -> BoxFuture<'_, Result<Inserted, StoreError>> {
        (**self).ingest(delivery)
    }
    fn count_rejection(&self, rejection: Rejection) -> BoxFuture<'_, Result<(), StoreError>> {
        (**self).count_rejection(rejection)
    }
    fn claim(
        &self,
        now: SystemTime,
        lease_until: SystemTime,
        limit: u32,
    ) -> BoxFuture<'_, Result<Vec<Claimed>, StoreError>> {
        (**self).claim(now, lease_until, limit)
    }
    fn complete<'a>(
        &'a self,
        lease: &'a Lease,
        now: SystemTime,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        (**self).complete(lease, now)
    }
    fn retry_at<'a>(
        &'a self,
        lease: &'a Lease,
        available_at: SystemTime,
        error: &'a str,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        (**self).retry_at(lease, available_at, error)
    }
    fn dead_letter<'a>(
        &'a self,
        lease: &'a Lease,
        now: SystemTime,
        error: &'a str,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        (**self).dead_letter(lease, now, error)
    }
    fn next_due(&self) -> BoxFuture<'_, Result<Option<SystemTime>, StoreError>> {
        (**self).next_due()
    }
    fn replay<'a>(
        &'a self,
        id: &'a str,
        now: SystemTime,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        (**self).replay(id, now)
    }
    fn replay_dead(&self, now: SystemTime) -> BoxFuture<'_, Result<u64, StoreError>> {
        (**self).replay_dead(now)
    }
    fn purge_done(&self, before: SystemTime) -> BoxFuture<'_, Result<u64, StoreError>> {
        (**self).purge_done(before)
    }
    fn purge_dead(&self) -> BoxFuture<'_, Result<u64, StoreError>> {
        (**self).purge_dead()
    }
    fn stats(&self, now: SystemTime) -> BoxFuture<'_, Result<Stats, StoreError>> {
        (**self).stats(now)
    }
    fn list(
        &self,
        status: Option<Status>,
        limit: u32,
    ) -> BoxFuture<'_, Result<Vec<StoredDelivery>, StoreError>> {
        (**self).list(status, limit)
    }
    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<StoredDelivery>, StoreError>> {
        (**self).get(id)
    }
    fn enqueue_recovered(
        &self,
        delivery: NewDelivery,
    ) -> BoxFuture<'_, Result<Inserted, StoreError>> {
        (**self).enqueue_recovered(delivery)
    }
    fn open_calls(&self, limit: u32) -> BoxFuture<'_, Result<Vec<LedgerCall>, StoreError>> {
        (**self).open_calls(limit)
    }
    fn note_call<'a>(
        &'a self,
        call_id: &'a str,
        agent_id: Option<&'a str>,
        is_final: bool,
        swept: bool,
        now: SystemTime,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        (**self).note_call(call_id, agent_id, is_final, swept, now)
    }
    fn close_call<'a>(
        &'a self,
        call_id: &'a str,
        now: SystemTime,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        (**self).close_call(call_id, now)
    }
    fn known_calls(&self, call_ids: Vec<String>) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        (**self).known_calls(call_ids)
    }
}

/// Counter names kept beside the deliveries (used by the store implementations).
#[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
pub(crate) const DUPLICATES: &str = "duplicates";
#[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
pub(crate) const UNPARSEABLE: &str = "unparseable";
#[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
pub(crate) const SUPERSEDED: &str = "superseded";
/// `last_error` of a real delivery that arrived after its recovered twin.
#[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
pub(crate) const SUPERSEDED_NOTE: &str =
    "superseded: its recovered twin (same call and event type) was enqueued first; not processed";
/// Prefix of the rejection counters (`rejected.bad_signature`, ...).
#[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
pub(crate) const REJECTED_PREFIX: &str = "rejected.";
