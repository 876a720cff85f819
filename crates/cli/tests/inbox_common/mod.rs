//! What the `inbox` process tests share: the built binary as a child process, signed
//! deliveries, a pool of concurrent senders, and a loopback receiver that counts what the
//! workers forward to it (and can fail or hang on purpose).
//!
//! Nothing here waits for a fixed time: every wait polls something observable (a line on
//! stdout, the store through `inbox list`/`inbox stats`, the counting receiver) a bounded
//! number of times.

#![allow(dead_code)]

use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use atoms_webhook_models::{sign, SigningSecret, Verifier};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::Value;

/// The signing secret of every test delivery.
pub const SECRET: &str = "whsec_inbox_test_secret";

/// The binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_atoms-webhook")
}

/// How many times a wait polls, and the pause between polls (a bound, not an assertion: a
/// slow machine only makes a test slower, up to this many polls). Generous: after a crash the
/// restarted inbox forwards hundreds of deliveries, two fsync'd commits each, and a busy disk
/// makes that minutes, not seconds.
pub const POLLS: u32 = 15_000;
pub const POLL_PAUSE: Duration = Duration::from_millis(20);

/// Polls `check` until it gives `Some`, at most [`POLLS`] times; panics with `what` otherwise.
pub fn wait_for<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    for _ in 0..POLLS {
        if let Some(v) = check() {
            return v;
        }
        std::thread::sleep(POLL_PAUSE);
    }
    panic!("gave up waiting for {what} after {POLLS} polls");
}

/// A running `atoms-webhook inbox serve` (or `work`). Killed (SIGKILL) when dropped.
pub struct InboxProcess {
    child: Child,
    /// `http://127.0.0.1:PORT/atoms` for `serve`; empty for `work`.
    pub url: String,
    stderr: Arc<Mutex<String>>,
}

impl InboxProcess {
    /// Starts `inbox serve --port 0 ARGS...` and waits for its `listening on` line.
    pub fn serve(args: &[&str]) -> Self {
        let mut all = vec!["inbox", "serve", "--port", "0", "--secret", SECRET];
        all.extend_from_slice(args);
        Self::start(&all, true)
    }

    /// Starts `inbox work ARGS...` and waits for its first line.
    pub fn work(args: &[&str]) -> Self {
        let mut all = vec!["inbox", "work"];
        all.extend_from_slice(args);
        Self::start(&all, false)
    }

    fn start(args: &[&str], listens: bool) -> Self {
        let mut child = Command::new(bin())
            .args(args)
            .env_remove("ATOMS_WEBHOOK_SECRET")
            .env_remove("ATOMS_INBOX_DATABASE_URL")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let stderr = Arc::new(Mutex::new(String::new()));
        if let Some(err) = child.stderr.take() {
            let sink = stderr.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(err).lines().map_while(Result::ok) {
                    let mut s = sink.lock().unwrap();
                    s.push_str(&line);
                    s.push('\n');
                }
            });
        }
        let out = child.stdout.take().expect("stdout is piped");
        let mut lines = BufReader::new(out).lines();
        // Blocks until the process prints its first line or ends (EOF).
        let first = lines.next().and_then(Result::ok).unwrap_or_default();
        std::thread::spawn(move || for _ in lines.map_while(Result::ok) {});
        let url = if listens {
            match first.strip_prefix("listening on ") {
                Some(u) => format!("{}/atoms", u.trim()),
                None => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "inbox serve did not start: {first:?}; stderr {:?}",
                        stderr.lock().unwrap()
                    );
                }
            }
        } else {
            assert!(
                first.starts_with("processing"),
                "inbox work did not start: {first:?}; stderr {:?}",
                stderr.lock().unwrap()
            );
            String::new()
        };
        Self { child, url, stderr }
    }

    /// SIGKILL, and reap.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM; returns the exit status once it has ended.
    pub fn terminate(mut self) -> Option<i32> {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill runs");
        assert!(sent.success());
        self.child.wait().expect("the process ends").code()
    }

    /// What it wrote on stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }
}

impl Drop for InboxProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `atoms-webhook inbox ARGS... --json` to the end; gives its parsed stdout.
pub fn inbox_json(args: &[&str]) -> Value {
    let out = Command::new(bin())
        .arg("inbox")
        .args(args)
        .arg("--json")
        .env_remove("ATOMS_INBOX_DATABASE_URL")
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs");
    assert!(
        out.status.success(),
        "inbox {args:?}: {:?} {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

/// `--db PATH` or `--database-url URL` arguments for one store.
#[derive(Clone, Debug)]
pub enum StoreAt {
    Sqlite(PathBuf),
    /// A database URL and the schema of this test's inbox in it.
    Postgres {
        url: String,
        schema: String,
    },
}

impl StoreAt {
    pub fn args(&self) -> Vec<String> {
        match self {
            StoreAt::Sqlite(p) => vec!["--db".into(), p.display().to_string()],
            StoreAt::Postgres { url, schema } => vec![
                "--database-url".into(),
                url.clone(),
                "--schema".into(),
                schema.clone(),
            ],
        }
    }

    /// Every stored delivery: id -> status.
    pub fn statuses(&self) -> BTreeMap<String, String> {
        let mut args: Vec<String> = vec!["list".into()];
        args.extend(self.args());
        args.extend(["--limit".into(), "1000000".into()]);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        inbox_json(&refs)
            .as_array()
            .expect("an array")
            .iter()
            .map(|d| {
                (
                    d["id"].as_str().unwrap_or_default().to_owned(),
                    d["status"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    }

    /// `inbox stats --json`.
    pub fn stats(&self) -> Value {
        let mut args: Vec<String> = vec!["stats".into()];
        args.extend(self.args());
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        inbox_json(&refs)
    }
}

/// A 24-hex delivery id made from `n` (and a per-test prefix).
pub fn delivery_id(prefix: u32, n: u64) -> String {
    format!("6a00{prefix:06x}{n:014x}")
}

/// A small signed delivery of `event_type` for `call`.
pub fn delivery(id: &str, call: &str, event_type: &str) -> (Vec<u8>, String) {
    let body = serde_json::json!({
        "url": "https://example.com/atoms",
        "description": "inbox test",
        "event": format!("60d0fe4f5311236168a109ca.{event_type}"),
        "id": id,
        "metadata": {
            "agentId": "60d0fe4f5311236168a109ca",
            "eventType": event_type,
            "callId": call,
        }
    })
    .to_string()
    .into_bytes();
    let signature = sign(&SigningSecret::new(SECRET), &body);
    (body, signature)
}

/// A multi-thread runtime for the test's own servers and senders.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime")
}

/// A client with no proxy and a timeout long enough for a loaded machine.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("a client")
}

/// Posts one delivery; gives the status, or `None` when there was no answer.
pub async fn post(client: &reqwest::Client, url: &str, body: Vec<u8>, sig: &str) -> Option<u16> {
    let response = client
        .post(url)
        .header("content-type", "application/json")
        .header("x-signature", sig)
        .body(body)
        .send()
        .await
        .ok()?;
    let status = response.status().as_u16();
    response.bytes().await.ok()?;
    Some(status)
}

/// What the counting receiver does with a forward.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Mode {
    /// 200.
    Accept = 0,
    /// 500.
    Fail = 1,
    /// Never answers.
    Hang = 2,
}

/// One forward the counting receiver saw.
#[derive(Clone, Debug)]
pub struct Hit {
    pub id: String,
    pub attempt: u32,
    pub call_id: String,
    pub event_type: String,
    /// The body and the X-Signature header verify with the secret, and the body's id is the
    /// X-Atoms-Delivery-Id header.
    pub authentic: bool,
    /// Its content type.
    pub content_type: String,
    /// What it was answered (per [`Mode`] at the time).
    pub answered: Mode,
}

#[derive(Default)]
struct Seen {
    hits: Vec<Hit>,
}

struct CounterState {
    seen: Mutex<Seen>,
    mode: AtomicU8,
    verifier: Verifier,
    requests: AtomicU64,
    stopped: AtomicBool,
}

/// A loopback receiver that records every forward (on the test's runtime).
pub struct Counter {
    state: Arc<CounterState>,
    /// Where to forward to.
    pub url: String,
}

impl Counter {
    /// Starts one on `rt`.
    pub fn start(rt: &tokio::runtime::Runtime) -> Self {
        let state = Arc::new(CounterState {
            seen: Mutex::new(Seen::default()),
            mode: AtomicU8::new(Mode::Accept as u8),
            verifier: Verifier::new(SigningSecret::new(SECRET)).expect("a verifier"),
            requests: AtomicU64::new(0),
            stopped: AtomicBool::new(false),
        });
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        let url = format!("http://{}/app", listener.local_addr().expect("addr"));
        let router = axum::Router::new()
            .fallback(counter_handle)
            .with_state(state.clone());
        rt.spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Self { state, url }
    }

    /// Changes what later forwards are answered.
    pub fn set_mode(&self, mode: Mode) {
        self.state.mode.store(mode as u8, Ordering::SeqCst);
    }

    /// Every forward so far.
    pub fn hits(&self) -> Vec<Hit> {
        self.state.seen.lock().unwrap().hits.clone()
    }

    /// Forwards answered 200, per delivery id.
    pub fn accepted(&self) -> BTreeMap<String, u32> {
        let mut out = BTreeMap::new();
        for h in self.hits().iter().filter(|h| h.answered == Mode::Accept) {
            *out.entry(h.id.clone()).or_insert(0) += 1;
        }
        out
    }

    /// Forwards of any outcome, per delivery id.
    pub fn received(&self) -> BTreeMap<String, u32> {
        let mut out = BTreeMap::new();
        for h in self.hits() {
            *out.entry(h.id.clone()).or_insert(0) += 1;
        }
        out
    }
}

async fn counter_handle(
    State(state): State<Arc<CounterState>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    state.requests.fetch_add(1, Ordering::SeqCst);
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let id = header("x-atoms-delivery-id");
    let attempt = header("x-atoms-delivery-attempt").parse().unwrap_or(0);
    let parsed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let authentic = state.verifier.verify(&body, &header("x-signature")).is_ok()
        && parsed["id"].as_str() == Some(&id);
    let mode = match state.mode.load(Ordering::SeqCst) {
        0 => Mode::Accept,
        1 => Mode::Fail,
        _ => Mode::Hang,
    };
    let hit = Hit {
        id,
        attempt,
        call_id: parsed["metadata"]["callId"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        event_type: parsed["metadata"]["eventType"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        authentic,
        content_type: header("content-type"),
        answered: mode,
    };
    state.seen.lock().unwrap().hits.push(hit);
    match mode {
        Mode::Accept => StatusCode::OK,
        Mode::Fail => StatusCode::INTERNAL_SERVER_ERROR,
        Mode::Hang => std::future::pending().await,
    }
}

/// The result of a burst of concurrent senders.
#[derive(Debug, Default)]
pub struct Sent {
    /// Ids answered 2xx.
    pub acked: HashSet<String>,
    /// Ids sent without a 2xx (no answer: the server died under them).
    pub unanswered: HashSet<String>,
    /// Statuses other than 2xx seen (none expected).
    pub refused: Vec<u16>,
}

/// `senders` tasks post fresh deliveries (ids from `prefix`) to `url` until `stop` is set or
/// their POST gets no answer; each records what happened.
pub async fn senders(
    url: String,
    senders: usize,
    prefix: u32,
    stop: Arc<AtomicBool>,
    acked_count: Arc<AtomicU64>,
) -> Sent {
    let client = client();
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..senders {
        let (client, url, next, stop, acked_count) = (
            client.clone(),
            url.clone(),
            next.clone(),
            stop.clone(),
            acked_count.clone(),
        );
        tasks.spawn(async move {
            let mut sent = Sent::default();
            while !stop.load(Ordering::SeqCst) {
                let n = next.fetch_add(1, Ordering::SeqCst);
                let id = delivery_id(prefix, n);
                // A few deliveries per call, in order, like Atoms sends them.
                let call = format!("CALL-17000000{:05}-{:06x}", n / 3, prefix);
                let kind = [
                    "pre-conversation",
                    "post-conversation",
                    "analytics-completed",
                ][(n % 3) as usize];
                let (body, sig) = delivery(&id, &call, kind);
                match post(&client, &url, body, &sig).await {
                    Some(s) if (200..300).contains(&s) => {
                        sent.acked.insert(id);
                        acked_count.fetch_add(1, Ordering::SeqCst);
                    }
                    Some(s) => sent.refused.push(s),
                    None => {
                        sent.unanswered.insert(id);
                        break;
                    }
                }
            }
            sent
        });
    }
    let mut all = Sent::default();
    while let Some(done) = tasks.join_next().await {
        let s = done.expect("a sender task");
        all.acked.extend(s.acked);
        all.unanswered.extend(s.unanswered);
        all.refused.extend(s.refused);
    }
    all
}

/// A temporary folder for one test's SQLite file.
pub fn temp_db(dir: &Path) -> StoreAt {
    StoreAt::Sqlite(dir.join("inbox.db"))
}

/// The processes of one scenario on one store: a single `serve` with its workers (SQLite), or
/// two `serve --no-workers` and two `work` processes (PostgreSQL, the scaled-out layout).
#[derive(Clone, Debug)]
pub struct Layout {
    pub store: StoreAt,
    pub split: bool,
}

/// Worker options that keep the tests short: small backoff and lease, fast polling.
pub const WORKER_ARGS: [&str; 10] = [
    "--workers",
    "4",
    "--lease",
    "2",
    "--backoff",
    "0.02",
    "--max-backoff",
    "0.1",
    "--poll",
    "0.02",
];

impl Layout {
    /// Starts the processes; gives the ingest ones (with URLs) and the worker-only ones.
    pub fn start(&self, forward: &str) -> (Vec<InboxProcess>, Vec<InboxProcess>) {
        let store = self.store.args();
        let mut common: Vec<&str> = store.iter().map(String::as_str).collect();
        if self.split {
            let ingest = (0..2)
                .map(|_| {
                    let mut a = common.clone();
                    a.push("--no-workers");
                    InboxProcess::serve(&a)
                })
                .collect();
            common.extend(["--forward", forward]);
            common.extend(WORKER_ARGS);
            let workers = (0..2).map(|_| InboxProcess::work(&common)).collect();
            (ingest, workers)
        } else {
            common.extend(["--forward", forward]);
            common.extend(WORKER_ARGS);
            (vec![InboxProcess::serve(&common)], Vec::new())
        }
    }
}

/// Pending plus leased, from `inbox stats`.
pub fn unfinished(store: &StoreAt) -> u64 {
    let s = store.stats();
    s["by_status"]["pending"].as_u64().unwrap_or(u64::MAX)
        + s["by_status"]["leased"].as_u64().unwrap_or(u64::MAX)
}

/// The crash scenario: 64 concurrent senders post signed deliveries; every process is killed
/// with SIGKILL under that load; after a restart, every delivery that was answered 2xx is in
/// the store and is forwarded; one marked done before the kill is never forwarded again.
/// Gives (answered 2xx, in flight at the kill and forwarded again).
pub fn crash(layout: &Layout, prefix: u32) -> (usize, usize) {
    let rt = runtime();
    let counter = Counter::start(&rt);
    let (ingest, workers) = layout.start(&counter.url);
    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(AtomicU64::new(0));
    let per = 64 / ingest.len();
    let load: Vec<_> = ingest
        .iter()
        .enumerate()
        .map(|(i, p)| {
            // Each pool its own ids.
            rt.spawn(senders(
                p.url.clone(),
                per,
                prefix + 0x1000 * i as u32,
                stop.clone(),
                acked.clone(),
            ))
        })
        .collect();
    // Under load, with some deliveries already forwarded and done.
    wait_for("deliveries answered and forwarded under load", || {
        let done = || {
            layout.store.stats()["by_status"]["done"]
                .as_u64()
                .unwrap_or(0)
        };
        (acked.load(Ordering::SeqCst) >= 400 && done() >= 20).then_some(())
    });
    for p in ingest.into_iter().chain(workers) {
        p.kill();
    }
    stop.store(true, Ordering::SeqCst);
    let mut sent = Sent::default();
    for h in load {
        let s = rt.block_on(h).expect("senders");
        sent.acked.extend(s.acked);
        sent.unanswered.extend(s.unanswered);
        sent.refused.extend(s.refused);
    }
    assert!(sent.refused.is_empty(), "refused: {:?}", sent.refused);
    assert!(sent.acked.len() >= 400);

    // Nothing runs now: the store is as the kill left it.
    let before = counter.accepted();
    let statuses = layout.store.statuses();
    let lost: Vec<&String> = sent
        .acked
        .iter()
        .filter(|id| !statuses.contains_key(*id))
        .collect();
    assert!(
        lost.is_empty(),
        "{} deliveries answered 2xx are not in the store: {lost:?}",
        lost.len()
    );
    let done_before: Vec<&String> = statuses
        .iter()
        .filter(|(_, s)| s.as_str() == "done")
        .map(|(id, _)| id)
        .collect();
    assert!(
        !done_before.is_empty(),
        "some deliveries were done before the kill"
    );
    for id in &done_before {
        assert!(
            before.contains_key(*id),
            "{id} is done but was never forwarded"
        );
    }

    let (ingest, workers) = layout.start(&counter.url);
    wait_for(
        "every delivery answered 2xx forwarded after the restart",
        || {
            let accepted = counter.accepted();
            sent.acked
                .iter()
                .all(|id| accepted.contains_key(id))
                .then_some(())
        },
    );
    wait_for("nothing left pending", || {
        (unfinished(&layout.store) == 0).then_some(())
    });

    let after = counter.accepted();
    for id in &done_before {
        assert_eq!(
            after[*id], before[*id],
            "{id} was done before the kill and was forwarded again"
        );
    }
    let again = after
        .iter()
        .filter(|(id, n)| before.get(*id).is_some_and(|b| *n > b))
        .count();
    let hits = counter.hits();
    assert!(
        hits.iter().all(|h| h.authentic),
        "a forward lost its body or signature"
    );
    assert!(hits.iter().all(|h| h.content_type == "application/json"));
    assert!(hits.iter().all(|h| h.attempt >= 1));
    drop(ingest);
    drop(workers);
    eprintln!(
        "crash: {} answered 2xx, {} unanswered at the kill, {} done before it, {} in flight at \
         the kill and forwarded again",
        sent.acked.len(),
        sent.unanswered.len(),
        done_before.len(),
        again
    );
    (sent.acked.len(), again)
}

/// The dedup scenario: the same signed body sent 5 times (spread over the ingest processes,
/// two of the sends at once) is answered 2xx each time, stored once and forwarded once.
pub fn dedup(layout: &Layout, prefix: u32) {
    let rt = runtime();
    let counter = Counter::start(&rt);
    let (ingest, workers) = layout.start(&counter.url);
    let id = delivery_id(prefix, 1);
    let (body, sig) = delivery(&id, "CALL-1700000000000-dedup0", "post-conversation");
    let client = client();
    let url = |i: usize| ingest[i % ingest.len()].url.clone();
    let statuses = rt.block_on(async {
        let mut out = Vec::new();
        for i in 0..3 {
            out.push(post(&client, &url(i), body.clone(), &sig).await);
        }
        let (u3, u4) = (url(3), url(4));
        let (a, b) = tokio::join!(
            post(&client, &u3, body.clone(), &sig),
            post(&client, &u4, body.clone(), &sig)
        );
        out.extend([a, b]);
        out
    });
    assert_eq!(statuses, vec![Some(200); 5]);
    wait_for("the delivery forwarded and done", || {
        let done = layout.store.statuses().get(&id).map(String::as_str) == Some("done");
        done.then_some(())
    });
    let stored = layout.store.statuses();
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert_eq!(counter.received().get(&id), Some(&1));
    assert_eq!(counter.hits().len(), 1);
    assert_eq!(layout.store.stats()["duplicates"], 4);
    drop(ingest);
    drop(workers);
}

/// `ATOMS_TEST_DATABASE_URL`, or `None` after saying so in one line; under `CI=true` a missing
/// URL fails the test.
pub fn postgres_url(test: &str) -> Option<String> {
    match std::env::var("ATOMS_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "{test}: ATOMS_TEST_DATABASE_URL is not set and CI=true: the PostgreSQL tests \
                 must run in CI (scripts/with-postgres.sh starts a database)"
            );
            eprintln!(
                "{test}: skipped, ATOMS_TEST_DATABASE_URL is not set (PostgreSQL tests need it)"
            );
            None
        }
    }
}
