//! Reconciliation against the call logs (feature `reconcile`): the inbox's answer to Atoms
//! never retrying a delivery.
//!
//! A [`Reconciler`] reads the call logs through `atoms-webhook-async` and compares them with
//! the store's call ledger (per call id, which event types arrived):
//!
//! - **Check**: a call the ledger knows (a delivery of it arrived, or the sweep found it)
//!   whose subscribed event types have not all arrived is looked up with
//!   `GET /conversation/{callId}`, at the earliest one grace period after the ledger first
//!   heard of it. Nothing is concluded while its log is not final (`completed`, `failed`,
//!   `no_answer`, `cancelled`). Once the log is final, the missing deliveries get one more
//!   grace period (a delivery may still be on its way); then the log is fetched again and each
//!   missing event type becomes a **recovered item** in the inbox, processed by the workers
//!   like a delivery.
//! - **Sweep**: every `sweep_interval`, `GET /conversation` with the default sort (last
//!   updated first, index-backed), small pages, restricted to the agents subscribed to the
//!   webhook (read from the webhook's subscriptions), stopping after the first page holding a
//!   call id an earlier sweep has seen, and after `max_pages` pages. Calls of which nothing
//!   arrived enter the ledger there, and the check takes over. The first sweep of an inbox
//!   walks all `max_pages` pages: final calls found there whose deliveries are not in the
//!   inbox are recovered too (a bounded backfill).
//!
//! Only the event types the webhook subscribes the call's agent to are recovered. A call the
//! webhook's agents did not handle is closed without anything recovered.
//!
//! **Dedup.** The ledger's key is (call id, event type): a recovered item is enqueued only if
//! no delivery of that event type of that call arrived, and a real delivery arriving after its
//! recovered twin is stored as done without processing (counted in [`Stats::superseded`](crate::Stats::superseded)).
//! Whichever comes first is processed, the other recorded.
//!
//! **Polite polling.** One request at a time, at least `min_request_interval` apart (waited
//! with the injected [`Sleeper`]); the client's retry policy backs off on 429 and 5xx; pages of
//! `page_size` (default 20) logs; at most `calls_per_pass` calls looked up per pass; the
//! webhook is read again only when the sweep is due; a call unresolved after `give_up_after`
//! (default 24 h) is closed rather than looked up forever. No
//! `sortBy=createdAt` and no date range (the API warns they scan the whole history).
//!
//! # A recovered item
//! It has the shape of the event it stands in for, so that existing handlers work, with the
//! call log's data where it corresponds ([`recovered_event`]), and a top-level `"recovered"`
//! object ([`WebhookEvent::recovered`](atoms_webhook_models::WebhookEvent::recovered)); it
//! is never presented as coming from Atoms: its id is `recovered:{callId}:{eventType}`
//! ([`recovered_id`]) and it has no Atoms signature.
//!
//! | event field | call-log field (`GET /conversation/{callId}`) |
//! |---|---|
//! | `url`, `description` | the webhook's `url`, `description` |
//! | `event` | `{agentId}.{eventType}` |
//! | `metadata.agentId` | `agentId`, or `agent._id` (`CallLog::resolved_agent_id`) |
//! | `metadata.callId` | `callId` |
//! | `metadata.conversationType` | `type` (`telephony_outbound` -> `telephonyOutbound`, `telephony_inbound` -> `telephonyInbound`; absent otherwise) |
//! | pre: `metadata.fromPhone`, `toPhone` | `from`, `to` |
//! | post: `metadata.recordingUrl` | `recordingUrl` |
//! | post, analytics: `callData.fromNumber`, `toNumber` | `from`, `to` |
//! | post, analytics: `callData.callDuration` | `duration` (seconds, as sent) |
//! | post, analytics: `callData.callStatus` | `status` |
//! | post: `callData.callDirection` | `type` |
//! | post: `metadata.transcript[]` (`role`, `content`, `timestamp`) | `transcript[]` |
//! | post: `metadata.variables` | `variables` |
//! | analytics: `metadata.analytics.summary` | `postCallAnalytics.summary` |
//! | analytics: `metadata.analytics.dispositionMetrics[]` | `postCallAnalytics.dispositionMetrics[]` (`identifier`, `value`, `confidence`, as sent) |
//!
//! Not in the call logs, so absent: `callData.answerTime`, `endTime`, a metric's `reasoning`,
//! `dispositionMetricPrompt` and `dispositionMetricType`, `successMetrics`.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use atoms_webhook_async::transport::ListConversations;
use atoms_webhook_async::{ApiErrorKind, Client};
use atoms_webhook_models::{
    AgentId, CallDirection, CallId, CallLog, EventType, Webhook, WebhookId, RECOVERED_KEY,
};
use serde_json::{json, Map, Value};
use tokio::sync::{Mutex, Notify};

use crate::clock::{Clock, Sleeper, SystemClock, TokioSleeper};
use crate::store::{recovered_id, Inserted, LedgerCall, NewDelivery, Store, StoreError};

/// The `source` of every recovered item's marker.
pub const RECOVERED_SOURCE: &str = "atoms-webhook-receiver reconciliation (call log)";

/// How a [`Reconciler`] paces itself. Small values are fine for tests and demos.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReconcileConfig {
    /// How long a missing delivery may still arrive: counted from when the ledger first heard
    /// of the call before its first lookup, and from when its log was first seen final before
    /// recovering. Default: 120 s.
    pub grace: Duration,
    /// How often the sweep of `GET /conversation` runs. Default: 300 s.
    pub sweep_interval: Duration,
    /// The pause between passes of [`Reconciler::run`]. Default: 15 s.
    pub poll_interval: Duration,
    /// Logs per page of the sweep (1 to 500). Default: 20.
    pub page_size: u32,
    /// Pages per sweep at most. Default: 5.
    pub max_pages: u32,
    /// The least time between two API requests. Default: 250 ms.
    pub min_request_interval: Duration,
    /// Calls looked at per pass at most. Default: 100.
    pub calls_per_pass: u32,
    /// A call still unresolved this long after the ledger first heard of it (its log never
    /// found, or never final) is closed without anything recovered, so that it is not looked
    /// up forever. Default: 24 h.
    pub give_up_after: Duration,
}

impl Default for ReconcileConfig {
    fn default() -> Self {
        Self {
            grace: Duration::from_secs(120),
            sweep_interval: Duration::from_secs(300),
            poll_interval: Duration::from_secs(15),
            page_size: 20,
            max_pages: 5,
            min_request_interval: Duration::from_millis(250),
            calls_per_pass: 100,
            give_up_after: Duration::from_secs(24 * 3600),
        }
    }
}

impl ReconcileConfig {
    /// Sets [`ReconcileConfig::grace`].
    pub fn grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }
    /// Sets [`ReconcileConfig::sweep_interval`].
    pub fn sweep_interval(mut self, sweep_interval: Duration) -> Self {
        self.sweep_interval = sweep_interval;
        self
    }
    /// Sets [`ReconcileConfig::poll_interval`].
    pub fn poll_interval(mut self, poll_interval: Duration) -> Self {
        self.poll_interval = poll_interval;
        self
    }
    /// Sets [`ReconcileConfig::page_size`] (clamped to 1..=500).
    pub fn page_size(mut self, page_size: u32) -> Self {
        self.page_size = page_size.clamp(1, atoms_webhook_async::transport::MAX_CONVERSATION_PAGE);
        self
    }
    /// Sets [`ReconcileConfig::max_pages`] (at least 1).
    pub fn max_pages(mut self, max_pages: u32) -> Self {
        self.max_pages = max_pages.max(1);
        self
    }
    /// Sets [`ReconcileConfig::min_request_interval`].
    pub fn min_request_interval(mut self, interval: Duration) -> Self {
        self.min_request_interval = interval;
        self
    }
    /// Sets [`ReconcileConfig::calls_per_pass`] (at least 1).
    pub fn calls_per_pass(mut self, calls: u32) -> Self {
        self.calls_per_pass = calls.max(1);
        self
    }
    /// Sets [`ReconcileConfig::give_up_after`].
    pub fn give_up_after(mut self, after: Duration) -> Self {
        self.give_up_after = after;
        self
    }
}

/// Why a pass of reconciliation stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReconcileError {
    /// The API failed (after the client's retries).
    #[error("reading the call logs failed: {0}")]
    Api(#[from] atoms_webhook_async::Error),
    /// The store failed.
    #[error("the inbox store failed: {0}")]
    Store(#[from] StoreError),
}

/// What one pass did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReconcileReport {
    /// Whether the sweep ran in this pass.
    pub swept: bool,
    /// Call logs read by the sweep.
    pub logs_read: u32,
    /// Calls on the sweep's pages that no earlier sweep had seen.
    pub discovered: u32,
    /// Call logs fetched by id.
    pub looked_up: u32,
    /// Calls left for a later pass (log not final, grace not over, or not in the logs yet).
    pub waiting: u32,
    /// Recovered items enqueued.
    pub recovered: u32,
    /// Recovered items not enqueued because the real delivery had arrived meanwhile.
    pub already_arrived: u32,
    /// Calls closed (nothing more to do).
    pub closed: u32,
    /// Calls closed unresolved after [`ReconcileConfig::give_up_after`].
    pub given_up: u32,
}

struct Pace {
    last_request: Option<SystemTime>,
    last_sweep: Option<SystemTime>,
    /// The webhook as last read: re-read when the sweep is due, not on every pass.
    webhook: Option<Webhook>,
}

/// Reconciles an inbox against the call logs of the webhook it receives for. See the
/// [module docs](self) for what it does and the mapping of a recovered item.
///
/// ```no_run
/// # async fn demo(store: std::sync::Arc<dyn atoms_webhook_receiver::Store>) -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
/// use atoms_webhook_receiver::reconcile::{ReconcileConfig, Reconciler};
///
/// let client = atoms_webhook_async::Client::from_env()?; // SMALLEST_API_KEY
/// let reconciler = Reconciler::new(client, store, "64f0c0ffee0000000000abcd")
///     .config(ReconcileConfig::default().grace(Duration::from_secs(60)));
/// let report = reconciler.run_once().await?;
/// println!("{} recovered", report.recovered);
/// # Ok(()) }
/// ```
pub struct Reconciler {
    client: Client,
    store: Arc<dyn Store>,
    webhook_id: WebhookId,
    config: ReconcileConfig,
    clock: Arc<dyn Clock>,
    sleeper: Arc<dyn Sleeper>,
    wake: Option<Arc<Notify>>,
    pace: Mutex<Pace>,
}

impl std::fmt::Debug for Reconciler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reconciler")
            .field("webhook_id", &self.webhook_id)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Reconciler {
    /// A reconciler for `webhook_id`'s inbox `store`, reading the API with `client` (its
    /// retry policy is the backoff on 429 and 5xx).
    pub fn new(client: Client, store: Arc<dyn Store>, webhook_id: impl Into<WebhookId>) -> Self {
        Self {
            client,
            store,
            webhook_id: webhook_id.into(),
            config: ReconcileConfig::default(),
            clock: Arc::new(SystemClock),
            sleeper: Arc::new(TokioSleeper),
            wake: None,
            pace: Mutex::new(Pace {
                last_request: None,
                last_sweep: None,
                webhook: None,
            }),
        }
    }

    /// Sets the configuration.
    pub fn config(mut self, config: ReconcileConfig) -> Self {
        self.config = config;
        self
    }

    /// Replaces the clock (tests: a [`ManualClock`](crate::ManualClock)).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Replaces the sleeper used for pacing and between passes.
    pub fn sleeper(mut self, sleeper: impl Sleeper) -> Self {
        self.sleeper = Arc::new(sleeper);
        self
    }

    /// Wakes workers waiting on `notify` (see [`Worker::wake_on`](crate::Worker::wake_on))
    /// when recovered items were enqueued.
    pub fn wake(mut self, notify: Arc<Notify>) -> Self {
        self.wake = Some(notify);
        self
    }

    /// The configuration.
    pub fn configuration(&self) -> &ReconcileConfig {
        &self.config
    }

    /// Waits until the next request is allowed.
    async fn paced(&self) {
        let mut pace = self.pace.lock().await;
        let now = self.clock.now();
        let mut at = now;
        if let Some(last) = pace.last_request {
            let next = last + self.config.min_request_interval;
            if next > now {
                self.sleeper
                    .sleep(next.duration_since(now).unwrap_or_default())
                    .await;
                at = next;
            }
        }
        pace.last_request = Some(at);
    }

    async fn get_log(&self, call_id: &str) -> Result<Option<CallLog>, ReconcileError> {
        self.paced().await;
        match self.client.get_conversation(CallId::from(call_id)).await {
            Ok(log) => Ok(Some(log)),
            Err(e) if e.api_kind() == Some(ApiErrorKind::NotFound) => Ok(None),
            // A call id of another form is not one the call logs can know.
            Err(atoms_webhook_async::Error::Validation(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// One pass: reads the webhook's subscriptions, sweeps when due, then checks the open
    /// calls of the ledger. Returns what it did.
    pub async fn run_once(&self) -> Result<ReconcileReport, ReconcileError> {
        let mut report = ReconcileReport::default();
        let now = self.clock.now();
        let (due, cached) = {
            let pace = self.pace.lock().await;
            let due = pace.last_sweep.is_none_or(|last| {
                now.duration_since(last).unwrap_or_default() >= self.config.sweep_interval
            });
            (due, pace.webhook.clone())
        };
        // The subscriptions are read again with each sweep (they change rarely).
        let webhook = match cached {
            Some(w) if !due => w,
            _ => {
                self.paced().await;
                let w = self.client.get_webhook(self.webhook_id.clone()).await?;
                self.pace.lock().await.webhook = Some(w.clone());
                w
            }
        };
        let subs = subscriptions(&webhook);
        if subs.is_empty() {
            return Ok(report);
        }
        if due {
            self.sweep(&subs, &mut report).await?;
            self.pace.lock().await.last_sweep = Some(now);
        }
        self.check(&webhook, &subs, &mut report).await?;
        if report.recovered > 0 {
            if let Some(wake) = &self.wake {
                wake.notify_waiters();
            }
        }
        Ok(report)
    }

    /// Passes until `shutdown` completes, `poll_interval` apart. An API failure (after the
    /// client's retries) ends only that pass; a store failure ends the loop.
    pub async fn run(&self, shutdown: impl Future<Output = ()>) -> Result<(), ReconcileError> {
        tokio::pin!(shutdown);
        loop {
            match self.run_once().await {
                Ok(_) | Err(ReconcileError::Api(_)) => {}
                Err(e) => return Err(e),
            }
            tokio::select! {
                () = &mut shutdown => return Ok(()),
                () = self.sleeper.sleep(self.config.poll_interval) => {}
            }
        }
    }

    async fn sweep(
        &self,
        subs: &BTreeMap<String, BTreeSet<String>>,
        report: &mut ReconcileReport,
    ) -> Result<(), ReconcileError> {
        report.swept = true;
        let agents: Vec<AgentId> = subs.keys().map(|a| AgentId::from(a.as_str())).collect();
        for page in 1..=self.config.max_pages {
            self.paced().await;
            let request = ListConversations::new()
                .page(page)
                .limit(self.config.page_size)
                .agent_ids(agents.clone());
            let logs = self.client.list_conversations(request).await?;
            let ids: Vec<(String, &CallLog)> = logs
                .log_list()
                .iter()
                .filter_map(|l| l.call_id.as_ref().map(|id| (id.as_str().to_owned(), l)))
                .collect();
            report.logs_read += ids.len() as u32;
            let known: BTreeSet<String> = self
                .store
                .known_calls(ids.iter().map(|(id, _)| id.clone()).collect())
                .await?
                .into_iter()
                .collect();
            let now = self.clock.now();
            for (id, log) in &ids {
                if !known.contains(id) {
                    report.discovered += 1;
                }
                // Every id on the page is noted: the next sweep stops at it, and a call whose
                // deliveries arrived learns its agent (so the check knows what to expect).
                let agent = log.resolved_agent_id();
                self.store
                    .note_call(
                        id,
                        agent.as_ref().map(AgentId::as_str),
                        log.is_final(),
                        true,
                        now,
                    )
                    .await?;
            }
            // Ids already seen: what follows was seen by an earlier sweep.
            if !known.is_empty() || !logs.has_more() {
                break;
            }
        }
        Ok(())
    }

    async fn check(
        &self,
        webhook: &Webhook,
        subs: &BTreeMap<String, BTreeSet<String>>,
        report: &mut ReconcileReport,
    ) -> Result<(), ReconcileError> {
        let any_agent: BTreeSet<String> = subs.values().flatten().cloned().collect();
        let grace = self.config.grace;
        for call in self.store.open_calls(self.config.calls_per_pass).await? {
            let now = self.clock.now();
            let expected = |agent: Option<&str>| match agent {
                Some(a) => subs.get(a).cloned().unwrap_or_default(),
                None => any_agent.clone(),
            };
            if expected(call.agent_id.as_deref())
                .iter()
                .all(|t| call.has(t))
            {
                self.store.close_call(&call.call_id, now).await?;
                report.closed += 1;
                continue;
            }
            if now.duration_since(call.first_seen_at).unwrap_or_default()
                > self.config.give_up_after
            {
                self.store.close_call(&call.call_id, now).await?;
                report.given_up += 1;
                continue;
            }
            let since = call.final_seen_at.unwrap_or(call.first_seen_at);
            if now.duration_since(since).unwrap_or_default() < grace {
                report.waiting += 1;
                continue;
            }
            let Some(log) = self.get_log(&call.call_id).await? else {
                report.waiting += 1;
                continue;
            };
            report.looked_up += 1;
            let agent = log
                .resolved_agent_id()
                .map(|a| a.as_str().to_owned())
                .or(call.agent_id.clone());
            let now = self.clock.now();
            if agent.as_deref().is_some_and(|a| !subs.contains_key(a)) {
                // Not an agent of this webhook: nothing was due here.
                self.store.close_call(&call.call_id, now).await?;
                report.closed += 1;
                continue;
            }
            let missing: Vec<String> = expected(agent.as_deref())
                .into_iter()
                .filter(|t| !call.has(t))
                .collect();
            if missing.is_empty() {
                self.store.close_call(&call.call_id, now).await?;
                report.closed += 1;
                continue;
            }
            if !log.is_final() {
                self.store
                    .note_call(&call.call_id, agent.as_deref(), false, false, now)
                    .await?;
                report.waiting += 1;
                continue;
            }
            if call.final_seen_at.is_none() && !grace.is_zero() {
                // Final from now on: the missing deliveries get one grace period.
                self.store
                    .note_call(&call.call_id, agent.as_deref(), true, false, now)
                    .await?;
                report.waiting += 1;
                continue;
            }
            self.recover(webhook, &call, &log, &missing, report).await?;
            self.store
                .close_call(&call.call_id, self.clock.now())
                .await?;
            report.closed += 1;
        }
        Ok(())
    }

    async fn recover(
        &self,
        webhook: &Webhook,
        call: &LedgerCall,
        log: &CallLog,
        missing: &[String],
        report: &mut ReconcileReport,
    ) -> Result<(), ReconcileError> {
        // In processing order, so that the workers see pre, post, analytics.
        let mut missing = missing.to_vec();
        missing.sort_by_key(|t| crate::store::event_rank(t));
        for event_type in missing {
            let now = self.clock.now();
            let parsed = EventType::parse(&event_type);
            let Some(body) = recovered_event(webhook, log, &parsed, now) else {
                continue;
            };
            let item = NewDelivery::new(recovered_id(&call.call_id, &event_type), body, now)
                .call_id(call.call_id.clone())
                .event_type(event_type);
            let mut item = item;
            item.content_type = Some("application/json".to_owned());
            item.user_agent = Some("atoms-webhook-receiver (reconciliation)".to_owned());
            match self.store.enqueue_recovered(item).await? {
                Inserted::New => report.recovered += 1,
                _ => report.already_arrived += 1,
            }
        }
        Ok(())
    }
}

/// The webhook's subscriptions: agent id -> event types.
fn subscriptions(webhook: &Webhook) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for s in webhook.subscription_list() {
        if let (Some(agent), Some(event_type)) = (s.agent_id(), &s.event_type) {
            out.entry(agent.as_str().to_owned())
                .or_default()
                .insert(event_type.as_str().to_owned());
        }
    }
    out
}

/// Serializes a part of the call log (the models' types write back what they read).
fn value<T: serde::Serialize>(v: &T) -> Option<Value> {
    serde_json::to_value(v).ok().filter(|v| !v.is_null())
}

/// Builds the body of the recovered item standing in for the `event_type` delivery of the call
/// `log` describes, for `webhook`, recovered at `at`: the shape of that event, the call log's
/// data where it corresponds (the mapping is in the [module docs](self)), and the top-level
/// `"recovered"` marker. `None` for an event type other than the three documented ones, or a
/// log without a call id.
///
/// ```
/// use atoms_webhook_models::{CallLog, EventType, Webhook, WebhookEvent};
/// use atoms_webhook_receiver::reconcile::recovered_event;
/// let log: CallLog = serde_json::from_str(r#"{"callId":"CALL-1737000000000-abc123",
///   "agentId":"60d0fe4f5311236168a109ca","status":"completed","duration":42.5,
///   "from":"+15550001","to":"+15550002","type":"telephony_outbound",
///   "transcript":[{"role":"agent","content":"Hello","timestamp":"2026-01-01T00:00:00.000Z"}],
///   "variables":{"customer":"Ada"}}"#)?;
/// let body = recovered_event(&Webhook::default(), &log, &EventType::PostConversation,
///     std::time::SystemTime::UNIX_EPOCH).unwrap();
/// let event = WebhookEvent::from_slice(&body)?;
/// assert!(event.is_recovered());
/// assert_eq!(event.transcript()[0].content.as_deref(), Some("Hello"));
/// assert_eq!(event.call_data().unwrap().call_duration.as_ref().unwrap().as_str(), "42.5");
/// assert_eq!(event.from_number(), Some("+15550001"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn recovered_event(
    webhook: &Webhook,
    log: &CallLog,
    event_type: &EventType,
    at: SystemTime,
) -> Option<Vec<u8>> {
    let call_id = log.call_id.as_ref()?.as_str();
    if !event_type.is_known() {
        return None;
    }
    let agent = log
        .resolved_agent_id()
        .map(|a| a.as_str().to_owned())
        .unwrap_or_default();
    let mut metadata = Map::new();
    metadata.insert("agentId".into(), json!(agent));
    metadata.insert("eventType".into(), json!(event_type.as_str()));
    metadata.insert("callId".into(), json!(call_id));
    let conversation_type = match &log.call_type {
        Some(CallDirection::TelephonyOutbound) => Some("telephonyOutbound"),
        Some(CallDirection::TelephonyInbound) => Some("telephonyInbound"),
        _ => None,
    };
    if let Some(t) = conversation_type {
        metadata.insert("conversationType".into(), json!(t));
    }
    let mut call_data = Map::new();
    if let Some(from) = &log.from {
        call_data.insert("fromNumber".into(), json!(from));
    }
    if let Some(to) = &log.to {
        call_data.insert("toNumber".into(), json!(to));
    }
    if let Some(duration) = log.duration.as_ref().and_then(value) {
        call_data.insert("callDuration".into(), duration);
    }
    if let Some(status) = &log.status {
        call_data.insert("callStatus".into(), json!(status.as_str()));
    }
    match event_type {
        EventType::PreConversation => {
            if let Some(from) = &log.from {
                metadata.insert("fromPhone".into(), json!(from));
            }
            if let Some(to) = &log.to {
                metadata.insert("toPhone".into(), json!(to));
            }
        }
        EventType::PostConversation => {
            if let Some(url) = &log.recording_url {
                metadata.insert("recordingUrl".into(), json!(url));
            }
            if let Some(direction) = &log.call_type {
                call_data.insert("callDirection".into(), json!(direction.as_str()));
            }
            metadata.insert("callData".into(), Value::Object(call_data));
            if let Some(transcript) = log.transcript.as_ref().and_then(value) {
                metadata.insert("transcript".into(), transcript);
            }
            if let Some(variables) = log.variables.as_ref().and_then(value) {
                metadata.insert("variables".into(), variables);
            }
        }
        _ => {
            let mut analytics = Map::new();
            if let Some(pca) = &log.post_call_analytics {
                if let Some(summary) = pca.summary.as_ref().and_then(value) {
                    analytics.insert("summary".into(), summary);
                }
                if let Some(metrics) = pca.disposition_metrics.as_ref().and_then(value) {
                    analytics.insert("dispositionMetrics".into(), metrics);
                }
            }
            metadata.insert("analytics".into(), Value::Object(analytics));
            metadata.insert("callData".into(), Value::Object(call_data));
        }
    }
    let mut body = Map::new();
    if let Some(url) = &webhook.url {
        body.insert("url".into(), json!(url));
    }
    if let Some(description) = &webhook.description {
        body.insert("description".into(), json!(description));
    }
    body.insert(
        "event".into(),
        json!(format!("{agent}.{}", event_type.as_str())),
    );
    body.insert(
        "id".into(),
        json!(recovered_id(call_id, event_type.as_str())),
    );
    body.insert("metadata".into(), Value::Object(metadata));
    let recovered_at = chrono::DateTime::<chrono::Utc>::from(at)
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    body.insert(
        RECOVERED_KEY.into(),
        json!({
            "source": RECOVERED_SOURCE,
            "from": format!("GET /conversation/{call_id}"),
            "eventType": event_type.as_str(),
            "recoveredAt": recovered_at,
            "reason": "the delivery did not arrive within the grace period after the call log was final",
        }),
    );
    serde_json::to_vec(&Value::Object(body)).ok()
}
