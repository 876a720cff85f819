//! What the server tasks and the [`Emulator`](crate::Emulator) handle share: the state and
//! the call logs, each behind a mutex, the API key, the delivery engine and its log, and the
//! test controls (hit counters, fault queues, connection count, call-log queries); and the
//! simulation of one call, which uses all of them. Below the middleware and the handlers.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use atoms_webhook_models::testkit::SampleCall;
use atoms_webhook_models::EventType;
use axum::http::{header, HeaderMap};

use crate::calls::CallLogs;
use crate::control::Fault;
use crate::delivery::{self, CallReport, Deliverer, Mode};
use crate::routes::Op;
use crate::scenario::Scenario;
use crate::state::State;

/// The most `GET /conversation` queries remembered.
const MAX_QUERIES: usize = 1_000;

/// Shared by every request handler, through an `Arc`.
#[derive(Debug)]
pub(crate) struct Shared {
    state: Mutex<State>,
    calls: Mutex<CallLogs>,
    api_key: String,
    hits: [AtomicUsize; Op::ALL.len()],
    faults: Mutex<HashMap<Op, VecDeque<Fault>>>,
    connections: AtomicUsize,
    queries: Mutex<VecDeque<String>>,
    deliverer: Deliverer,
}

impl Shared {
    pub(crate) fn new(state: State, api_key: String, deliverer: Deliverer) -> Self {
        Self {
            state: Mutex::new(state),
            calls: Mutex::new(CallLogs::default()),
            api_key,
            hits: Default::default(),
            faults: Mutex::new(HashMap::new()),
            connections: AtomicUsize::new(0),
            queries: Mutex::new(VecDeque::new()),
            deliverer,
        }
    }

    /// Plays one call: records its call log, then delivers its events (see
    /// [`delivery::run_call`]). In [`Mode::Send`] it needs a tokio runtime.
    pub(crate) async fn simulate(&self, scenario: &Scenario, mode: Mode<'_>) -> CallReport {
        let call = SampleCall::generate(&scenario.call);
        {
            let mut state = self.state();
            let agent = state.ensure_agent(&call.agent_id).clone();
            let id = state.new_object_id();
            drop(state);
            self.calls().record(id, &call, agent, scenario.final_after);
        }
        let targets = |event_type: &EventType| self.state().subscribers(&call.agent_id, event_type);
        delivery::run_call(&self.deliverer, targets, &call, &scenario.drop, mode).await
    }

    /// The call logs, locked. Hold the guard only for synchronous work.
    pub(crate) fn calls(&self) -> MutexGuard<'_, CallLogs> {
        self.calls.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Remembers the raw query of a `GET /conversation`.
    pub(crate) fn record_query(&self, query: &str) {
        let mut queries = self.queries.lock().unwrap_or_else(PoisonError::into_inner);
        if queries.len() >= MAX_QUERIES {
            queries.pop_front();
        }
        queries.push_back(query.to_owned());
    }

    /// The raw queries of the `GET /conversation` requests so far, oldest first.
    pub(crate) fn queries(&self) -> Vec<String> {
        let queries = self.queries.lock().unwrap_or_else(PoisonError::into_inner);
        queries.iter().cloned().collect()
    }

    /// The delivery engine and log.
    pub(crate) fn deliverer(&self) -> &Deliverer {
        &self.deliverer
    }

    /// The state, locked. Hold the guard only for synchronous work (never across an await).
    /// A poisoned lock is taken over: no state method leaves the data half-changed on panic.
    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn api_key(&self) -> &str {
        &self.api_key
    }

    /// True when the headers carry `Authorization: Bearer <the API key>`.
    pub(crate) fn authorized(&self, headers: &HeaderMap) -> bool {
        let Some(value) = headers.get(header::AUTHORIZATION) else {
            return false;
        };
        let Ok(value) = value.to_str() else {
            return false;
        };
        let Some((scheme, token)) = value.trim().split_once(' ') else {
            return false;
        };
        scheme.eq_ignore_ascii_case("bearer") && constant_time_eq(token.trim(), &self.api_key)
    }

    pub(crate) fn record_hit(&self, op: Op) {
        self.hits[op.index()].fetch_add(1, Ordering::SeqCst);
    }

    pub(crate) fn hits(&self, op: Op) -> usize {
        self.hits[op.index()].load(Ordering::SeqCst)
    }

    pub(crate) fn inject(&self, op: Op, fault: Fault, times: usize) {
        let mut faults = self.faults.lock().unwrap_or_else(PoisonError::into_inner);
        let queue = faults.entry(op).or_default();
        queue.extend(std::iter::repeat_n(fault, times));
    }

    /// The fault the next request to `op` gets, if one is queued.
    pub(crate) fn next_fault(&self, op: Op) -> Option<Fault> {
        let mut faults = self.faults.lock().unwrap_or_else(PoisonError::into_inner);
        faults.get_mut(&op).and_then(VecDeque::pop_front)
    }

    pub(crate) fn connection_accepted(&self) {
        self.connections.fetch_add(1, Ordering::SeqCst);
    }

    pub(crate) fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

/// Compares without stopping at the first difference, so response timing does not tell how
/// much of a guessed key was right.
fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Set once the server task has ended; lets a synchronous `shutdown` wait for it.
#[derive(Debug, Default)]
pub(crate) struct Done {
    finished: Mutex<bool>,
    cv: Condvar,
}

impl Done {
    /// Waits until the server ended or `timeout` passed; true if it ended.
    pub(crate) fn wait(&self, timeout: Duration) -> bool {
        let guard = self.finished.lock().unwrap_or_else(PoisonError::into_inner);
        let (guard, _) = self
            .cv
            .wait_timeout_while(guard, timeout, |finished| !*finished)
            .unwrap_or_else(PoisonError::into_inner);
        *guard
    }
}

/// Marks [`Done`] when dropped, i.e. when the server future completes or is cancelled.
#[derive(Debug)]
pub(crate) struct DoneGuard(pub(crate) std::sync::Arc<Done>);

impl Drop for DoneGuard {
    fn drop(&mut self) {
        *self
            .0
            .finished
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = true;
        self.0.cv.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deliverer() -> Deliverer {
        Deliverer::new(Duration::from_secs(1)).unwrap()
    }

    #[test]
    fn bearer_parsing() {
        let shared = Shared::new(State::new([]), "k-1".to_owned(), deliverer());
        let check = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::AUTHORIZATION, v.parse().unwrap());
            shared.authorized(&h)
        };
        assert!(check("Bearer k-1"));
        assert!(check("bearer k-1"));
        assert!(!check("Bearer k-2"));
        assert!(!check("Bearer k-1x"));
        assert!(!check("Basic k-1"));
        assert!(!check("k-1"));
        assert!(!shared.authorized(&HeaderMap::new()));
    }

    #[test]
    fn faults_queue_per_op() {
        let shared = Shared::new(State::new([]), String::new(), deliverer());
        shared.inject(Op::CreateWebhook, Fault::status(500), 2);
        assert_eq!(shared.next_fault(Op::ListWebhooks), None);
        assert_eq!(
            shared.next_fault(Op::CreateWebhook),
            Some(Fault::status(500))
        );
        assert_eq!(
            shared.next_fault(Op::CreateWebhook),
            Some(Fault::status(500))
        );
        assert_eq!(shared.next_fault(Op::CreateWebhook), None);
    }
}
