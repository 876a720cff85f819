//! Processing: workers claim stored deliveries as leases and hand them to the handler, at least
//! once, in order per call, with capped exponential backoff and a dead letter at the end.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use atoms_webhook_models::WebhookEvent;
use tokio::sync::Notify;

use crate::clock::{BoxFuture, Clock, Sleeper, SystemClock, TokioSleeper};
use crate::store::{Claimed, Store, StoreError};

/// What a handler returns on failure; its `Display` is recorded as the delivery's `last_error`
/// (so it should not contain the body).
pub type HandlerError = Box<dyn std::error::Error + Send + Sync>;

/// One delivery handed to a handler.
#[non_exhaustive]
pub struct Delivery {
    /// The delivery id: the idempotency key (a delivery may be handed over more than once).
    pub id: String,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// The parsed event.
    pub event: WebhookEvent,
    /// The raw body as received (to forward it, or verify it again downstream).
    pub body: Vec<u8>,
    /// The `Content-Type` header as received.
    pub content_type: Option<String>,
    /// The signature header as received.
    pub signature: Option<String>,
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery")
            .field("id", &self.id)
            .field("attempt", &self.attempt)
            .field("event", &self.event)
            .field("body_len", &self.body.len())
            .finish_non_exhaustive()
    }
}

/// The user's processing of a delivery. `Ok` marks it done; `Err` (or a panic) schedules
/// another attempt after the backoff, or dead-letters it after the last attempt.
///
/// Write it to be idempotent on [`Delivery::id`]: delivery is at least once. A closure works
/// through [`handler_fn`].
pub trait Handler: Send + Sync + 'static {
    /// Handles one delivery.
    fn handle(&self, delivery: Delivery) -> BoxFuture<'static, Result<(), HandlerError>>;
}

impl<H: Handler + ?Sized> Handler for Arc<H> {
    fn handle(&self, delivery: Delivery) -> BoxFuture<'static, Result<(), HandlerError>> {
        (**self).handle(delivery)
    }
}

/// A [`Handler`] made from an async closure; see [`handler_fn`].
#[derive(Clone, Copy, Debug)]
pub struct HandlerFn<F>(F);

/// Makes a [`Handler`] from an async function of a [`Delivery`].
///
/// ```
/// use atoms_webhook_receiver::{handler_fn, Delivery};
/// let handler = handler_fn(|d: Delivery| async move {
///     println!("{} (attempt {})", d.id, d.attempt);
///     Ok::<(), std::io::Error>(())
/// });
/// # let _ = handler;
/// ```
pub fn handler_fn<F, Fut, E>(f: F) -> HandlerFn<F>
where
    F: Fn(Delivery) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: Into<HandlerError>,
{
    HandlerFn(f)
}

impl<F, Fut, E> Handler for HandlerFn<F>
where
    F: Fn(Delivery) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: Into<HandlerError>,
{
    fn handle(&self, delivery: Delivery) -> BoxFuture<'static, Result<(), HandlerError>> {
        let fut = (self.0)(delivery);
        Box::pin(async move { fut.await.map_err(Into::into) })
    }
}

/// Capped exponential backoff: attempt `n` failed -> wait `min(base * 2^(n-1), max)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// The wait after the first failure.
    pub base: Duration,
    /// The longest wait.
    pub max: Duration,
}

impl Default for Backoff {
    /// 1 s, doubling, at most 10 minutes.
    fn default() -> Self {
        Self {
            base: Duration::from_secs(1),
            max: Duration::from_secs(600),
        }
    }
}

impl Backoff {
    /// The wait after failed attempt `attempt` (1-based).
    ///
    /// ```
    /// use std::time::Duration;
    /// use atoms_webhook_receiver::Backoff;
    /// let b = Backoff { base: Duration::from_secs(2), max: Duration::from_secs(10) };
    /// let waits: Vec<u64> = (1..=5).map(|n| b.delay(n).as_secs()).collect();
    /// assert_eq!(waits, [2, 4, 8, 10, 10]);
    /// ```
    pub fn delay(&self, attempt: u32) -> Duration {
        let factor = 1u32
            .checked_shl(attempt.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.base
            .checked_mul(factor)
            .map_or(self.max, |d| d.min(self.max))
    }
}

/// How a worker claims and retries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct WorkerConfig {
    /// How long a claim lasts; a worker that crashed loses its claims after this long. Longer
    /// than the slowest handler times the batch size (default 5 minutes).
    pub lease: Duration,
    /// Attempts before a delivery becomes a dead letter (default 8).
    pub max_attempts: u32,
    /// The wait between attempts.
    pub backoff: Backoff,
    /// Deliveries claimed at once (default 8).
    pub batch: u32,
    /// The longest wait when nothing is claimable (default 1 s).
    pub poll_interval: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            lease: Duration::from_secs(300),
            max_attempts: 8,
            backoff: Backoff::default(),
            batch: 8,
            poll_interval: Duration::from_secs(1),
        }
    }
}

/// What one [`Worker::run_once`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RunReport {
    /// Deliveries claimed.
    pub claimed: u32,
    /// Marked done.
    pub done: u32,
    /// Failed and scheduled again.
    pub retried: u32,
    /// Dead-lettered (last attempt failed, or the body does not parse).
    pub dead: u32,
    /// Finished after the lease was lost (another worker has it now).
    pub lost: u32,
}

/// A worker. Run several (on one store, or on one PostgreSQL database from several processes)
/// for more throughput: per-call order holds across all of them.
///
/// - **At least once**: a delivery is done only when its handler returned `Ok`; a worker that
///   dies mid-handler loses its lease after [`WorkerConfig::lease`] and another worker gets the
///   delivery again (attempt + 1). Leases are not renewed: keep the lease longer than the
///   slowest handler times the batch size.
/// - **In order per call**: a delivery is claimable only when no lower-ranked delivery of the
///   same call id (pre-conversation < post-conversation < analytics-completed < others) is
///   pending or leased. Order is among the deliveries already stored: one that arrives late
///   (after the later events of its call were processed) is processed when it arrives.
/// - **Failures**: attempt `n` failed -> retried after [`Backoff::delay`]`(n)`; after
///   [`WorkerConfig::max_attempts`] it is a dead letter ([`Store::replay`] brings it back).
///
/// ```
/// use std::sync::Arc;
/// use atoms_webhook_receiver::{handler_fn, Delivery, SqliteStore, Worker};
/// # let dir = tempfile::tempdir()?;
/// let store = Arc::new(SqliteStore::open(dir.path().join("inbox.db"))?);
/// let worker = Worker::new(store, handler_fn(|d: Delivery| async move {
///     println!("{} for call {:?}", d.event.event_type(), d.event.call_id());
///     Ok::<(), std::io::Error>(())
/// }));
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// // In a program: `worker.run(tokio::signal::ctrl_c()).await`.
/// let report = worker.run_once().await?;
/// assert_eq!(report.claimed, 0);
/// # Ok::<(), atoms_webhook_receiver::StoreError>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Worker {
    store: Arc<dyn Store>,
    handler: Arc<dyn Handler>,
    config: WorkerConfig,
    clock: Arc<dyn Clock>,
    sleeper: Arc<dyn Sleeper>,
    wake: Option<Arc<Notify>>,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Worker {
    /// A worker taking deliveries from `store` to `handler`, with the default configuration,
    /// the system clock and tokio's sleep.
    pub fn new(store: Arc<dyn Store>, handler: impl Handler) -> Self {
        Self {
            store,
            handler: Arc::new(handler),
            config: WorkerConfig::default(),
            clock: Arc::new(SystemClock),
            sleeper: Arc::new(TokioSleeper),
            wake: None,
        }
    }

    /// Ends an idle wait early when `notify` is notified (by an [`Inbox`](crate::Inbox) of the
    /// same process, see [`Inbox::wake`](crate::Inbox::wake)).
    pub fn wake_on(mut self, notify: Arc<Notify>) -> Self {
        self.wake = Some(notify);
        self
    }

    /// Replaces the whole configuration.
    pub fn config(mut self, config: WorkerConfig) -> Self {
        self.config = config;
        self
    }

    /// Sets the lease length.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.config.lease = lease;
        self
    }

    /// Sets the number of attempts before a dead letter (at least 1).
    pub fn max_attempts(mut self, max_attempts: u32) -> Self {
        self.config.max_attempts = max_attempts.max(1);
        self
    }

    /// Sets the backoff.
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.config.backoff = backoff;
        self
    }

    /// Sets how many deliveries are claimed at once (at least 1).
    pub fn batch(mut self, batch: u32) -> Self {
        self.config.batch = batch.max(1);
        self
    }

    /// Sets the longest idle wait.
    pub fn poll_interval(mut self, poll_interval: Duration) -> Self {
        self.config.poll_interval = poll_interval;
        self
    }

    /// Sets the clock.
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Sets the sleeper (the only way the worker waits).
    pub fn sleeper(mut self, sleeper: impl Sleeper) -> Self {
        self.sleeper = Arc::new(sleeper);
        self
    }

    /// The configuration.
    pub fn configuration(&self) -> &WorkerConfig {
        &self.config
    }

    /// Claims one batch and processes it. Needs a tokio runtime (each handler call runs in its
    /// own task, so that a panic is a failed attempt, not a dead worker).
    pub async fn run_once(&self) -> Result<RunReport, StoreError> {
        let now = self.clock.now();
        let claimed = self
            .store
            .claim(now, now + self.config.lease, self.config.batch)
            .await?;
        let mut report = RunReport {
            claimed: claimed.len() as u32,
            ..RunReport::default()
        };
        for c in claimed {
            self.process(c, &mut report).await?;
        }
        Ok(report)
    }

    async fn process(&self, claimed: Claimed, report: &mut RunReport) -> Result<(), StoreError> {
        let Claimed { delivery: d, lease } = claimed;
        let attempt = d.attempts.max(1);
        let event = match WebhookEvent::from_slice(&d.body) {
            Ok(e) => e,
            Err(e) => {
                // Still a shape this version cannot read: back to the dead letters, without
                // bothering the handler.
                let ok = self
                    .store
                    .dead_letter(&lease, self.clock.now(), &e.to_string())
                    .await?;
                count(report, ok, |r| r.dead += 1);
                return Ok(());
            }
        };
        let delivery = Delivery {
            id: d.id,
            attempt,
            event,
            body: d.body,
            content_type: d.content_type,
            signature: d.signature,
        };
        let outcome = tokio::spawn(self.handler.handle(delivery)).await;
        let error = match outcome {
            Ok(Ok(())) => {
                let ok = self.store.complete(&lease, self.clock.now()).await?;
                count(report, ok, |r| r.done += 1);
                return Ok(());
            }
            Ok(Err(e)) => e.to_string(),
            Err(join) if join.is_panic() => "the handler panicked".to_owned(),
            Err(_) => "the handler was cancelled".to_owned(),
        };
        let now = self.clock.now();
        if attempt >= self.config.max_attempts {
            let ok = self.store.dead_letter(&lease, now, &error).await?;
            count(report, ok, |r| r.dead += 1);
        } else {
            let at = now + self.config.backoff.delay(attempt);
            let ok = self.store.retry_at(&lease, at, &error).await?;
            count(report, ok, |r| r.retried += 1);
        }
        Ok(())
    }

    /// How long to wait when nothing was claimable: until the next delivery is due, at most
    /// the poll interval (the poll interval when something is due but blocked behind an
    /// earlier event of its call).
    async fn idle_delay(&self) -> Duration {
        let poll = self.config.poll_interval;
        match self.store.next_due().await {
            Ok(Some(due)) => match due.duration_since(self.clock.now()) {
                Ok(wait) if !wait.is_zero() => wait.min(poll),
                _ => poll,
            },
            _ => poll,
        }
    }

    /// Processes deliveries until `shutdown` completes. A batch in progress is finished first
    /// (its handlers are not interrupted). A store error other than [`StoreError::Closed`] is
    /// retried after the poll interval.
    pub async fn run(&self, shutdown: impl Future<Output = ()>) -> Result<(), StoreError> {
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            tokio::select! {
                biased;
                () = &mut shutdown => return Ok(()),
                () = std::future::ready(()) => {}
            }
            let delay = match self.run_once().await {
                Ok(r) if r.claimed > 0 => continue,
                Ok(_) => self.idle_delay().await,
                Err(StoreError::Closed) => return Err(StoreError::Closed),
                Err(_) => self.config.poll_interval,
            };
            let woken = async {
                match &self.wake {
                    Some(n) => n.notified().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = &mut shutdown => return Ok(()),
                () = self.sleeper.sleep(delay) => {}
                () = woken => {}
            }
        }
    }
}

fn count(report: &mut RunReport, ok: bool, add: impl FnOnce(&mut RunReport)) {
    if ok {
        add(report);
    } else {
        report.lost += 1;
    }
}
