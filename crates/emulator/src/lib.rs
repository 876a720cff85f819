//! A local, stateful, in-memory emulator of the Smallest.ai Atoms webhook API, for tests, the
//! CLI and benchmarks.
//!
//! It serves the eight webhook operations at the root of its URL (`GET /webhook`,
//! `POST /webhook`, `PATCH`/`DELETE /webhook/{id}`, and `GET`/`POST`/`DELETE
//! /agent/{agentId}/webhook-subscriptions`) with the documented bodies, status codes and error
//! messages, Bearer authentication, and the documented rules (duplicate URLs, header limits,
//! subscriptions replaced per agent across webhooks, delete refused while subscribed); and the
//! call logs of the simulated calls: `GET /conversation` (`page` from 1, `limit` default 5,
//! larger than 500 clamped, filters `agentIds`, `callTypes`, `statusFilter`, `search`, sorted by
//! `updatedAt` descending unless `sortBy`/`sortOrder` say otherwise; `data` is
//! `{"logs": [...], "pagination": {"total", "page", "limit", "hasMore", "totalPages"}}`) and
//! `GET /conversation/{callId}` (404 for an unknown call).
//!
//! Test controls: [`Emulator::hits`] counts requests per [`Op`] (named like the SDK's request
//! types), [`Emulator::inject`] makes the next requests fail or wait ([`Fault`]),
//! [`Emulator::connections`] counts TCP connections (to check keep-alive),
//! [`Emulator::conversation_queries`] shows how the call logs were polled, and
//! [`Emulator::webhooks`] shows the state.
//!
//! Event delivery: [`Emulator::simulate_call`] (blocking) and [`Emulator::simulate_call_async`]
//! play one call ([`Scenario`], or just its [`CallOptions`]) and POST its three events, signed
//! with each webhook's secret (`X-Signature`), to the subscribed webhooks, in order, with a 30 s
//! timeout ([`EmulatorBuilder::delivery_timeout`]) and no retries, like the platform. Every
//! attempt is logged ([`Emulator::deliveries`], [`DeliveryRecord`]) and one stderr line (via
//! `tracing`) says how it went, without body, secret or phone number. A scenario can drop
//! deliveries on purpose (as if the receiver had been down: [`DeliveryOutcome::Dropped`] in the
//! log) and keep its call log `in_progress` for a number of reads ([`Scenario::final_after`],
//! [`Emulator::finalize_call`]). The bodies come from the models crate's `testkit` feature
//! ([`atoms_webhook_models::testkit`]), which needs no server; [`sample`] gives them typed.
//!
//! Emulator-only routes (same Bearer key as the API; not counted as API operations, never
//! faulted; answers use the API's envelopes):
//!
//! | method | path | body / query | success `data` |
//! |---|---|---|---|
//! | POST | `/_emulator/calls` | call options (below) | a [`CallReport`] (`{"callId", "deliveries": [records]}`), once every delivery has ended; HTTP 201 |
//! | POST | `/_emulator/calls/{callId}/finalize` | none | the call id (404 for an unknown call) |
//! | GET | `/_emulator/deliveries` | optional `callId`, `webhookId` query filters | array of [`DeliveryRecord`] |
//! | DELETE | `/_emulator/deliveries` | none | `"Delivery log cleared"` |
//! | POST | `/_emulator/webhooks/{id}/status` | `{"status": "enabled" \| "disabled"}` | the webhook id |
//!
//! Call options: `agentId` (required, 24 hex), and optionally `fromNumber`, `toNumber`,
//! `direction` (`"outbound"`/`"inbound"`), `callStatus`, `turns` (0 to 200), `callId`,
//! `variables` (object), `duration` (seconds, 0 to 86400), `seed` (whole number: the same seed
//! gives the same content), `drop` (`"all"` or an array of event types not to deliver) and
//! `finalAfter` (reads of the call log that show `in_progress` first); `null` means the
//! default and unknown fields are refused. Bad input is a 400 naming every problem.
//!
//! ```
//! use atoms_webhook_emulator::{Emulator, Fault, Op};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let emu = Emulator::builder().api_key("k").start().await?;
//! emu.inject(Op::ListWebhooks, Fault::retry_after(429, "1"), 1);
//!
//! let client = reqwest::Client::builder().no_proxy().build()?;
//! let list = || client.get(format!("{}/webhook", emu.url())).bearer_auth("k").send();
//! assert_eq!(list().await?.status(), 429); // the injected fault
//! let ok = list().await?;
//! assert_eq!(ok.status(), 200);
//! assert_eq!(ok.text().await?, r#"{"status":true,"data":[]}"#);
//! assert_eq!(emu.hits(Op::ListWebhooks), 2);
//! emu.shutdown();
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// The modules in layers, each importing only those above it in this list (checked by
// scripts/check-cycles.sh):
// routes, control, validate, state, scenario, calls, delivery, error (data and engines) ->
// responses (error bodies, envelopes) -> shared (what every request sees) ->
// middleware (auth, faults, counters) -> api, admin (handlers) -> server (composition) ->
// this file (the Emulator handle) -> run (the programs).
mod admin;
mod api;
mod calls;
mod control;
mod delivery;
mod error;
mod middleware;
mod responses;
mod routes;
pub mod run;
pub mod sample;
mod scenario;
mod server;
mod shared;
mod state;
mod validate;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use atoms_webhook_models::{ids::is_object_id, AgentId, CallId, Webhook, WebhookId, WebhookStatus};
use tokio::runtime::{Handle, RuntimeFlavor};
use tokio::sync::watch;

pub use atoms_webhook_models::testkit::CallOptions;
pub use control::Fault;
pub use delivery::{
    CallReport, DeliveryOutcome, DeliveryRecord, DEFAULT_DELIVERY_TIMEOUT, MAX_LOGGED_DELIVERIES,
};
pub use error::EmulatorError;
pub use routes::Op;
pub use scenario::Scenario;

use delivery::{Deliverer, Mode};
use shared::{Done, DoneGuard, Shared};
use state::{AgentRecord, State};

/// The API key an emulator accepts unless told otherwise.
pub const DEFAULT_API_KEY: &str = "test-api-key";

/// A running emulator. Dropping it stops the server (without waiting); [`Emulator::shutdown`]
/// stops it and waits for it to end.
pub struct Emulator {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    done: Arc<Done>,
    runner: Runner,
}

/// Where the server runs.
enum Runner {
    /// A task on the caller's runtime, of this flavor.
    Task(RuntimeFlavor),
    /// Its own runtime on its own thread.
    Thread(Option<std::thread::JoinHandle<()>>),
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Emulator {
    /// A builder with the defaults: API key [`DEFAULT_API_KEY`], address `127.0.0.1:0` (a free
    /// port), no seeded agents.
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder::default()
    }

    /// The base URL, e.g. `http://127.0.0.1:40123` (no trailing slash). The API is at its root.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The API key the server accepts (`Authorization: Bearer <key>`).
    pub fn api_key(&self) -> &str {
        self.shared.api_key()
    }

    /// How many requests for `op` the server received: every attempt, counted before
    /// authentication and before injected faults.
    pub fn hits(&self, op: Op) -> usize {
        self.shared.hits(op)
    }

    /// How many TCP connections the server accepted since it started.
    pub fn connections(&self) -> usize {
        self.shared.connections()
    }

    /// Makes the next `times` requests for `op` get `fault` (after any faults already queued
    /// for `op`). Faults apply before authentication.
    pub fn inject(&self, op: Op, fault: Fault, times: usize) {
        self.shared.inject(op, fault, times);
    }

    /// A snapshot of every webhook, as `GET /webhook` would show it.
    pub fn webhooks(&self) -> Vec<Webhook> {
        self.shared.state().list_webhooks()
    }

    /// Enables or disables a webhook (no public API operation does this). A disabled webhook
    /// receives no deliveries. False when no webhook has this id.
    pub fn set_webhook_status(&self, id: &WebhookId, status: WebhookStatus) -> bool {
        self.shared.state().set_webhook_status(id, status).is_ok()
    }

    /// Simulates one call and delivers its three events like the platform: `pre-conversation`,
    /// then `post-conversation`, then `analytics-completed`, each to every enabled webhook
    /// subscribed to the call's agent and that event type (an event starts once every delivery
    /// of the previous one has ended). Each delivery is one signed POST with the webhook's
    /// custom headers, the builder's [`delivery_timeout`](EmulatorBuilder::delivery_timeout)
    /// and no retry, unless the scenario drops it. Returns when all are done; every attempt is
    /// also in [`Emulator::deliveries`]. The call's log is recorded first (see
    /// [`Emulator::call_log`]).
    ///
    /// This blocking form runs the deliveries on a thread and runtime of their own and waits
    /// for them, so it works from code without tokio and from a multi-thread runtime (where
    /// it waits inside [`tokio::task::block_in_place`], so that receivers on that runtime keep
    /// running).
    ///
    /// # Panics
    /// When called on a current-thread tokio runtime (the default of `#[tokio::test]`): waiting
    /// there would stop every task of that runtime, receivers included. Use
    /// [`Emulator::simulate_call_async`] there.
    pub fn simulate_call(&self, scenario: impl Into<Scenario>) -> CallReport {
        let scenario = scenario.into();
        let opts = &scenario;
        let run = || {
            std::thread::scope(|scope| {
                let worker = std::thread::Builder::new()
                    .name("atoms-emulator-delivery".to_owned())
                    .spawn_scoped(
                        scope,
                        || match tokio::runtime::Builder::new_current_thread()
                            .enable_all()
                            .build()
                        {
                            Ok(runtime) => runtime.block_on(self.shared.simulate(opts, Mode::Send)),
                            Err(e) => self.fail_call(
                                opts,
                                &format!("could not start the delivery runtime: {e}"),
                            ),
                        },
                    );
                match worker {
                    Ok(worker) => match worker.join() {
                        Ok(report) => report,
                        Err(panic) => std::panic::resume_unwind(panic),
                    },
                    Err(e) => {
                        self.fail_call(opts, &format!("could not start the delivery thread: {e}"))
                    }
                }
            })
        };
        match Handle::try_current().map(|h| h.runtime_flavor()) {
            Err(_) => run(),
            Ok(RuntimeFlavor::MultiThread) => tokio::task::block_in_place(run),
            Ok(_) => panic!(
                "Emulator::simulate_call would block a current-thread tokio runtime; \
                 use simulate_call_async there"
            ),
        }
    }

    /// Like [`Emulator::simulate_call`], on the caller's tokio runtime (any flavor). The
    /// deliveries of one event are spawned as tasks on it.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use atoms_webhook_emulator::{CallOptions, Emulator};
    /// use atoms_webhook_models::{Verifier, WebhookEvent};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// // A receiver that keeps the raw bodies and signatures.
    /// let got: Arc<Mutex<Vec<(Vec<u8>, String)>>> = Arc::default();
    /// let keep = got.clone();
    /// let receiver = axum::Router::new().route(
    ///     "/hook",
    ///     axum::routing::post(move |headers: axum::http::HeaderMap, body: axum::body::Bytes| async move {
    ///         let sig = headers["x-signature"].to_str().unwrap_or_default().to_owned();
    ///         keep.lock().unwrap().push((body.to_vec(), sig));
    ///     }),
    /// );
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let hook = format!("http://{}/hook", listener.local_addr()?);
    /// tokio::spawn(async move { axum::serve(listener, receiver).await });
    ///
    /// let emu = Emulator::builder().start().await?;
    /// let agent = "60d0fe4f5311236168a109ca";
    /// let http = reqwest::Client::builder().no_proxy().build()?;
    /// let webhook = serde_json::json!({"endpoint": hook, "description": "CRM", "events": [
    ///     {"agentId": agent, "eventType": "post-conversation"}]});
    /// http.post(format!("{}/webhook", emu.url()))
    ///     .bearer_auth(emu.api_key())
    ///     .header("content-type", "application/json")
    ///     .body(webhook.to_string())
    ///     .send().await?.error_for_status()?;
    ///
    /// let report = emu.simulate_call_async(CallOptions::new().agent_id(agent)).await;
    /// assert!(report.all_delivered());
    /// assert_eq!(report.deliveries.len(), 1); // subscribed to one event type
    ///
    /// let secret = emu.webhooks()[0].decrypted_secret_key.clone().unwrap();
    /// let (body, signature) = got.lock().unwrap()[0].clone();
    /// let event = Verifier::new(secret)?.verify_and_parse(&body, &signature)?;
    /// assert!(matches!(event, WebhookEvent::PostConversation(_)));
    /// assert_eq!(event.call_id().map(|id| id.to_string()), Some(report.call_id.to_string()));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn simulate_call_async(&self, scenario: impl Into<Scenario>) -> CallReport {
        self.shared.simulate(&scenario.into(), Mode::Send).await
    }

    /// Records the call and every delivery as failed with `reason`, sending nothing: for when
    /// no runtime could be started to send them. The recording itself needs no runtime.
    fn fail_call(&self, scenario: &Scenario, reason: &str) -> CallReport {
        let fail = self.shared.simulate(scenario, Mode::Fail(reason));
        // Nothing in Mode::Fail awaits anything that can be pending.
        poll_once(fail).unwrap_or_else(|| CallReport {
            call_id: scenario
                .call
                .call_id
                .clone()
                .unwrap_or_else(|| CallId::new("")),
            deliveries: Vec::new(),
        })
    }

    /// Makes the call log of `call_id` final now (it showed `in_progress` because of
    /// [`Scenario::final_after`]); its `updatedAt` becomes now. False when no simulated call
    /// has this id. Same as `POST /_emulator/calls/{callId}/finalize`.
    pub fn finalize_call(&self, call_id: &CallId) -> bool {
        self.shared.calls().finalize(call_id, chrono::Utc::now())
    }

    /// The call log of `call_id` as `GET /conversation/{callId}` would show it now (its
    /// `data`), without counting as a read; `None` when no simulated call has this id.
    pub fn call_log(&self, call_id: &CallId) -> Option<serde_json::Value> {
        self.shared.calls().peek(call_id)
    }

    /// The raw query strings of every `GET /conversation` so far, oldest first (at most 1,000):
    /// for tests that check how a client polls (for example that it never sends
    /// `sortBy=createdAt`).
    pub fn conversation_queries(&self) -> Vec<String> {
        self.shared.queries()
    }

    /// Every delivery attempt so far (of every call, from the methods and from
    /// `POST /_emulator/calls`), oldest first; at most [`MAX_LOGGED_DELIVERIES`].
    pub fn deliveries(&self) -> Vec<DeliveryRecord> {
        self.shared.deliverer().records()
    }

    /// Empties the delivery log.
    pub fn clear_deliveries(&self) {
        self.shared.deliverer().clear();
    }

    /// Stops the server: no new connections, requests in flight get up to a second to finish.
    /// Waits until the server has ended, except when it runs on a current-thread runtime (from
    /// [`EmulatorBuilder::start`]), where waiting could deadlock: it then ends at that runtime's
    /// next turn.
    pub fn shutdown(mut self) {
        self.stop.send_replace(true);
        match &mut self.runner {
            Runner::Thread(handle) => {
                if let Some(handle) = handle.take() {
                    // A panic in the server thread has nothing more to report here.
                    let _ = handle.join();
                }
            }
            Runner::Task(RuntimeFlavor::MultiThread) => {
                let wait = || self.done.wait(server::GRACE + Duration::from_secs(1));
                let on_worker = Handle::try_current()
                    .is_ok_and(|h| h.runtime_flavor() == RuntimeFlavor::MultiThread);
                if on_worker {
                    tokio::task::block_in_place(wait);
                } else {
                    wait();
                }
            }
            Runner::Task(_) => {}
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.stop.send_replace(true);
    }
}

/// Configures and starts an [`Emulator`].
#[derive(Clone)]
pub struct EmulatorBuilder {
    api_key: String,
    listen: SocketAddr,
    agents: Vec<(AgentId, String, String)>,
    delivery_timeout: Duration,
}

impl Default for EmulatorBuilder {
    fn default() -> Self {
        Self {
            api_key: DEFAULT_API_KEY.to_owned(),
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            agents: Vec::new(),
            delivery_timeout: DEFAULT_DELIVERY_TIMEOUT,
        }
    }
}

impl std::fmt::Debug for EmulatorBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmulatorBuilder")
            .field("api_key", &"[redacted]")
            .field("listen", &self.listen)
            .field("agents", &self.agents)
            .field("delivery_timeout", &self.delivery_timeout)
            .finish()
    }
}

impl EmulatorBuilder {
    /// The API key to accept (default [`DEFAULT_API_KEY`]).
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = key.into();
        self
    }

    /// The address to listen on (default `127.0.0.1:0`, a free port).
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = addr;
        self
    }

    /// Seeds a named agent (shown populated in webhooks' subscriptions). Agents not seeded are
    /// created on first use with a generated name. The id must be 24 hex characters.
    pub fn agent(
        mut self,
        id: impl Into<AgentId>,
        name: impl Into<String>,
        description: impl Into<String>,
    ) -> Self {
        self.agents
            .push((id.into(), name.into(), description.into()));
        self
    }

    /// How long one delivery may take, from connecting to the response status (default
    /// [`DEFAULT_DELIVERY_TIMEOUT`], the platform's 30 s). Longer is a failed delivery.
    pub fn delivery_timeout(mut self, timeout: Duration) -> Self {
        self.delivery_timeout = timeout;
        self
    }

    /// Starts serving on the current tokio runtime (as a spawned task).
    pub async fn start(self) -> Result<Emulator, EmulatorError> {
        let handle = Handle::try_current().map_err(|_| EmulatorError::NoRuntime)?;
        let shared = self.shared()?;
        let listener = bind(self.listen).await?;
        let addr = local_addr(&listener, self.listen)?;
        let (stop, stop_rx) = watch::channel(false);
        let done = Arc::new(Done::default());
        tokio::spawn(server::serve(
            listener,
            shared.clone(),
            stop_rx,
            DoneGuard(done.clone()),
        ));
        Ok(Emulator {
            shared,
            addr,
            stop,
            done,
            runner: Runner::Task(handle.runtime_flavor()),
        })
    }

    /// Starts serving on a runtime of its own, on a thread of its own: for blocking code and
    /// `#[test]`s without tokio. Returns once the server is listening.
    pub fn start_background(self) -> Result<Emulator, EmulatorError> {
        let shared = self.shared()?;
        let (stop, stop_rx) = watch::channel(false);
        let done = Arc::new(Done::default());
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let listen = self.listen;
        let thread_shared = shared.clone();
        let guard = DoneGuard(done.clone());
        let handle = std::thread::Builder::new()
            .name("atoms-emulator".to_owned())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .thread_name("atoms-emulator-worker")
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(EmulatorError::Runtime(e)));
                        return;
                    }
                };
                runtime.block_on(async move {
                    let started = match bind(listen).await {
                        Ok(l) => local_addr(&l, listen).map(|addr| (l, addr)),
                        Err(e) => Err(e),
                    };
                    match started {
                        Ok((listener, addr)) => {
                            let _ = ready_tx.send(Ok(addr));
                            server::serve(listener, thread_shared, stop_rx, guard).await;
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                        }
                    }
                });
                // Connections still open past the grace period are dropped with the runtime.
                runtime.shutdown_timeout(Duration::from_millis(100));
            })
            .map_err(EmulatorError::Thread)?;
        let addr = match ready_rx.recv() {
            Ok(Ok(addr)) => addr,
            Ok(Err(e)) => {
                let _ = handle.join();
                return Err(e);
            }
            Err(_) => {
                let _ = handle.join();
                return Err(EmulatorError::ThreadExited);
            }
        };
        Ok(Emulator {
            shared,
            addr,
            stop,
            done,
            runner: Runner::Thread(Some(handle)),
        })
    }

    fn shared(&self) -> Result<Arc<Shared>, EmulatorError> {
        let mut agents = Vec::with_capacity(self.agents.len());
        for (id, name, description) in &self.agents {
            if !is_object_id(id.as_str()) {
                return Err(EmulatorError::InvalidAgentId {
                    id: id.as_str().to_owned(),
                });
            }
            agents.push(AgentRecord {
                id: id.clone(),
                name: name.clone(),
                description: description.clone(),
            });
        }
        let deliverer = Deliverer::new(self.delivery_timeout)
            .map_err(|e| EmulatorError::DeliveryClient(Box::new(e)))?;
        Ok(Arc::new(Shared::new(
            State::new(agents),
            self.api_key.clone(),
            deliverer,
        )))
    }
}

async fn bind(addr: SocketAddr) -> Result<tokio::net::TcpListener, EmulatorError> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| EmulatorError::Bind { addr, source })
}

fn local_addr(
    listener: &tokio::net::TcpListener,
    asked: SocketAddr,
) -> Result<SocketAddr, EmulatorError> {
    listener.local_addr().map_err(|source| EmulatorError::Bind {
        addr: asked,
        source,
    })
}

/// Polls a future once with a waker that does nothing: its output when it is ready at once.
fn poll_once<F: std::future::Future>(future: F) -> Option<F::Output> {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match future.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(out) => Some(out),
        std::task::Poll::Pending => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn emulator_is_send_and_sync() {
        assert_send_sync::<Emulator>();
        assert_send_sync::<EmulatorBuilder>();
        assert_send_sync::<Fault>();
        assert_send_sync::<EmulatorError>();
        assert_send_sync::<CallOptions>();
        assert_send_sync::<CallReport>();
    }

    fn assert_send<T: Send>(_: &T) {}

    #[test]
    fn simulate_call_async_is_send() {
        let emu = Emulator::builder().start_background().unwrap();
        let future = emu.simulate_call_async(CallOptions::new());
        assert_send(&Scenario::new(CallOptions::new()));
        assert_send(&future);
        drop(future);
        emu.shutdown();
    }

    #[test]
    fn builder_debug_hides_the_key() {
        let b = Emulator::builder().api_key("sk-secret-123");
        assert!(!format!("{b:?}").contains("sk-secret-123"));
    }

    #[test]
    fn bad_seed_agent_is_refused() {
        let err = Emulator::builder()
            .agent("nope", "n", "d")
            .start_background()
            .unwrap_err();
        assert!(matches!(err, EmulatorError::InvalidAgentId { .. }), "{err}");
    }
}
