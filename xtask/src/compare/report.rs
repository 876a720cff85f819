//! What the contenders print, the ratios computed from it, and the two ways of showing them
//! (a text table, one JSON object).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// Rates over the rounds of one figure (units per second).
#[derive(Clone, Copy, PartialEq, Debug, Deserialize, Serialize)]
pub struct Stats {
    /// The median round.
    pub median: f64,
    /// The slowest round.
    pub min: f64,
    /// The fastest round.
    pub max: f64,
    /// How many rounds.
    pub rounds: usize,
}

impl Stats {
    /// The statistics of per-round rates (none when empty).
    pub fn of(rates: &[f64]) -> Option<Self> {
        if rates.is_empty() {
            return None;
        }
        let mut sorted = rates.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let median = if n % 2 == 1 {
            sorted[n / 2]
        } else {
            (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
        };
        Some(Self {
            median,
            min: sorted[0],
            max: sorted[n - 1],
            rounds: n,
        })
    }
}

/// The JSON line of the Rust `measure` binary (atoms-webhook-bench).
#[derive(Clone, Debug, Deserialize)]
pub struct Rust {
    /// Rounds per figure.
    pub rounds: usize,
    /// Per payload: typed and `Value` parse, events/s.
    pub parse: Vec<RustParse>,
    /// Per payload: serialize, events/s.
    pub serialize: Vec<RustNamed>,
    /// Per size: HMAC verify and raw SHA-256, bytes/s.
    pub verify: Vec<RustVerify>,
    /// Client round trips, requests/s.
    pub requests: RustRequests,
    /// TCP connections the emulator accepted during 1,000 sequential calls of a fresh client.
    pub connections_per_1000_calls: RustConnections,
    /// The receive figures: durable ingest, the receive core, the time to the 2xx.
    pub receive: RustReceive,
    /// The emulator that keeps serving for the Python SDK.
    pub server: Option<Server>,
}

/// The receive figures of `measure`.
#[derive(Clone, Debug, Deserialize)]
pub struct RustReceive {
    /// Concurrent senders.
    pub senders: usize,
    /// The delivery body's size.
    pub body_bytes: usize,
    /// Durable ingest, deliveries/s.
    pub ingest: RustIngest,
    /// The receive core in axum and a bare axum handler, requests/s.
    pub core: Option<RustCore>,
    /// The inbox at a fixed rate.
    pub latency: Option<Latency>,
}

/// Durable ingest, deliveries/s (each answered 2xx once stored).
#[derive(Clone, Debug, Deserialize)]
pub struct RustIngest {
    /// The inbox on SQLite (group commit).
    pub inbox: Option<Stats>,
    /// One SQLite transaction per request, the same durability.
    pub naive: Stats,
    /// `scripts/python/receiver.py` (standard library, the SDK's models, sqlite3).
    pub python: Option<Stats>,
}

/// Requests/s of the receive core and of a bare handler.
#[derive(Clone, Copy, Debug, Deserialize)]
pub struct RustCore {
    /// The `VerifiedEvent` extractor (read with a limit, verify, parse).
    pub receiver: Stats,
    /// A bare axum handler that reads the body and answers 200.
    pub bare: Stats,
}

/// The time to the 2xx at a fixed rate, milliseconds.
#[derive(Clone, Copy, Debug, Deserialize, Serialize)]
pub struct Latency {
    /// Deliveries per second.
    pub rate: f64,
    /// Deliveries sent.
    pub count: usize,
    /// Median.
    pub p50_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Slowest.
    pub max_ms: f64,
}

/// One payload's parse figures.
#[derive(Clone, Debug, Deserialize)]
pub struct RustParse {
    /// The payload (file stem).
    pub name: String,
    /// Its size.
    pub bytes: usize,
    /// `WebhookEvent::from_slice`.
    pub typed: Stats,
    /// `serde_json::from_slice::<Value>`.
    pub value: Stats,
}

/// One payload's serialize figure.
#[derive(Clone, Debug, Deserialize)]
pub struct RustNamed {
    /// The payload.
    pub name: String,
    /// Events/s.
    pub stats: Stats,
}

/// One body size's verification figures.
#[derive(Clone, Debug, Deserialize)]
pub struct RustVerify {
    /// `1k`, `14k` or `1m`.
    pub size: String,
    /// The body length.
    pub bytes: usize,
    /// `Verifier::verify`.
    pub hmac: Stats,
    /// `sha2::Sha256::digest`.
    pub sha256: Stats,
}

/// Requests/s of each client.
#[derive(Clone, Debug, Deserialize)]
pub struct RustRequests {
    /// Blocking SDK, sequential.
    pub blocking_sdk: Stats,
    /// Raw ureq, sequential.
    pub blocking_raw: Stats,
    /// Async SDK, sequential.
    pub async_sdk: Stats,
    /// Raw reqwest, sequential.
    pub async_raw: Stats,
    /// Async SDK, 64 in flight.
    pub async64_sdk: Stats,
    /// Raw reqwest, 64 in flight.
    pub async64_raw: Stats,
}

/// Connections per 1,000 sequential calls.
#[derive(Clone, Copy, Debug, Deserialize)]
pub struct RustConnections {
    /// Blocking SDK.
    pub blocking_sdk: usize,
    /// Async SDK.
    pub async_sdk: usize,
}

/// Where the emulator listens.
#[derive(Clone, Debug, Deserialize)]
pub struct Server {
    /// Base URL.
    pub url: String,
    /// The key it accepts.
    pub api_key: String,
    /// The webhook to fetch.
    pub webhook_id: String,
}

/// The JSON of `scripts/python/bench_sdk.py`.
#[derive(Clone, Debug, Deserialize)]
pub struct Python {
    /// Interpreter and library versions.
    #[serde(default)]
    pub versions: BTreeMap<String, String>,
    /// Per payload, events/s.
    pub parse: BTreeMap<String, Stats>,
    /// Per size, bytes/s.
    pub verify: BTreeMap<String, Stats>,
    /// Per size, bytes/s (hashlib, i.e. OpenSSL inside Python).
    pub sha256: BTreeMap<String, Stats>,
    /// `get_webhooks`, requests/s.
    pub requests: Option<Stats>,
}

/// Where the SHA-256 reference came from.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ShaSource {
    /// `openssl speed -evp sha256`.
    OpensslSpeed,
    /// Python's `hashlib.sha256` (OpenSSL linked into Python).
    PythonHashlib,
}

/// Everything one run measured.
#[derive(Clone, Debug)]
pub struct Run {
    /// `--quick`.
    pub quick: bool,
    /// The Rust side.
    pub rust: Rust,
    /// The Python side.
    pub python: Python,
    /// OpenSSL SHA-256 per size label, bytes/s (from `openssl speed` when present).
    pub openssl: BTreeMap<String, Stats>,
    /// Where `openssl` came from.
    pub sha_source: ShaSource,
    /// nproc, CPU, load before and after.
    pub machine: Machine,
    /// Wall time of the whole run, seconds.
    pub seconds: f64,
}

/// The machine the run was on.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Machine {
    /// Logical CPUs.
    pub nproc: usize,
    /// `model name` of /proc/cpuinfo.
    pub cpu: String,
    /// 1-minute load average when the run started.
    pub load_before: Option<f64>,
    /// 1-minute load average when it ended.
    pub load_after: Option<f64>,
    /// The CPU every measuring process was pinned to, if any.
    pub pinned_cpu: Option<String>,
    /// The share of one CPU other processes used on average during the run (0.25: a quarter).
    pub others_cpu: Option<f64>,
}

/// The payload the headline parse ratios use.
pub const LARGE_PAYLOAD: &str = "post-conversation-14k";

/// The body size the verification ratio uses.
pub const VERIFY_SIZE: &str = "14k";

/// A headline figure: its JSON key, what it is, the target and whether higher is better.
#[derive(Clone, Copy, Debug)]
pub struct Target {
    /// The key in `--json`.
    pub key: &'static str,
    /// What is divided by what.
    pub label: &'static str,
    /// The target.
    pub goal: Goal,
}

/// A target.
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Goal {
    /// At least this ratio.
    AtLeast(f64),
    /// Exactly this count.
    Exactly(f64),
    /// A figure reported without a target (met when it could be measured).
    Report,
}

impl Goal {
    /// Whether `value` meets the goal.
    pub fn met(self, value: f64) -> bool {
        match self {
            Goal::AtLeast(min) => value >= min,
            Goal::Exactly(n) => value == n,
            Goal::Report => value.is_finite(),
        }
    }

    fn describe(self) -> String {
        match self {
            Goal::AtLeast(min) => format!(">= {min}x"),
            Goal::Exactly(n) => format!("= {n}"),
            Goal::Report => "reported".to_owned(),
        }
    }
}

/// The headline figures, in the order of the issues.
pub const TARGETS: [Target; 11] = [
    Target {
        key: "parse_vs_python",
        label: "parse 14 KB post-conversation: Rust typed / Python SDK (pydantic)",
        goal: Goal::AtLeast(12.0),
    },
    Target {
        key: "typed_vs_value",
        label: "parse 14 KB post-conversation: typed WebhookEvent / serde_json::Value",
        goal: Goal::AtLeast(1.5),
    },
    Target {
        key: "verify_vs_openssl",
        label: "verify 14 KiB: Rust HMAC-SHA256 / OpenSSL raw SHA-256",
        goal: Goal::AtLeast(0.95),
    },
    Target {
        key: "blocking_vs_raw",
        label: "get_webhook sequential: blocking SDK / raw ureq",
        goal: Goal::AtLeast(0.95),
    },
    Target {
        key: "async_vs_raw",
        label: "get_webhook sequential: async SDK / raw reqwest",
        goal: Goal::AtLeast(0.95),
    },
    Target {
        key: "requests_vs_python",
        label: "get_webhook sequential: blocking SDK / Python SDK",
        goal: Goal::AtLeast(5.0),
    },
    Target {
        key: "connections_per_1000_calls",
        label: "TCP connections, 1,000 sequential blocking SDK calls",
        goal: Goal::Exactly(1.0),
    },
    Target {
        key: "ingest_vs_naive",
        label: "durable ingest, 64 senders, 14 KB: inbox on SQLite / one transaction per request",
        goal: Goal::AtLeast(3.0),
    },
    Target {
        key: "ingest_vs_python",
        label: "durable ingest, 64 senders, 14 KB: inbox on SQLite / Python receiver (stdlib, SDK models, sqlite3)",
        goal: Goal::AtLeast(10.0),
    },
    Target {
        key: "receiver_vs_bare",
        label: "receive core (VerifiedEvent extractor) / bare axum handler, 64 senders, 14 KB",
        goal: Goal::AtLeast(0.9),
    },
    Target {
        key: "ingest_p99_ms",
        label: "inbox on SQLite at a fixed 1,000 deliveries/s: p99 time to the 2xx, ms",
        goal: Goal::Report,
    },
];

impl Run {
    fn rust_parse(&self, name: &str) -> Result<&RustParse, String> {
        self.rust
            .parse
            .iter()
            .find(|p| p.name == name)
            .ok_or_else(|| format!("the Rust figures have no `{name}` payload"))
    }

    fn rust_verify(&self, size: &str) -> Result<&RustVerify, String> {
        self.rust
            .verify
            .iter()
            .find(|v| v.size == size)
            .ok_or_else(|| format!("the Rust figures have no `{size}` verify body"))
    }

    /// The SHA-256 reference at `size`: `openssl speed`, else Python's hashlib.
    fn sha_reference(&self, size: &str) -> Option<&Stats> {
        self.openssl
            .get(size)
            .or_else(|| self.python.sha256.get(size))
    }

    /// The headline values, keyed as in `--json`.
    pub fn headline(&self) -> Result<Vec<(Target, f64)>, String> {
        let large = self.rust_parse(LARGE_PAYLOAD)?;
        let python_large = self
            .python
            .parse
            .get(LARGE_PAYLOAD)
            .ok_or_else(|| format!("the Python figures have no `{LARGE_PAYLOAD}` payload"))?;
        let hmac = self.rust_verify(VERIFY_SIZE)?.hmac;
        let sha = self
            .sha_reference(VERIFY_SIZE)
            .ok_or("no SHA-256 reference figure at 14k")?;
        let python_requests = self
            .python
            .requests
            .ok_or("the Python figures have no requests (was the emulator reachable?)")?;
        let r = &self.rust.requests;
        let rx = &self.rust.receive;
        let inbox = rx
            .ingest
            .inbox
            .ok_or("the Rust figures have no inbox ingest figure")?;
        let python_ingest = rx
            .ingest
            .python
            .ok_or("the receive figures have no Python receiver figure")?;
        let core = rx
            .core
            .ok_or("the receive figures have no receive core figure")?;
        let latency = rx
            .latency
            .ok_or("the receive figures have no fixed-rate latency")?;
        let values = [
            large.typed.median / python_large.median,
            large.typed.median / large.value.median,
            hmac.median / sha.median,
            r.blocking_sdk.median / r.blocking_raw.median,
            r.async_sdk.median / r.async_raw.median,
            r.blocking_sdk.median / python_requests.median,
            self.rust.connections_per_1000_calls.blocking_sdk as f64,
            inbox.median / rx.ingest.naive.median,
            inbox.median / python_ingest.median,
            core.receiver.median / core.bare.median,
            latency.p99_ms,
        ];
        Ok(TARGETS.iter().copied().zip(values).collect())
    }

    /// The `--json` object: the headline figures at the top level, then `met`, `targets` and every
    /// figure with its range under `details`.
    pub fn to_json(&self) -> Result<Value, String> {
        let headline = self.headline()?;
        let mut out = Map::new();
        for (target, value) in &headline {
            let value = if target.key == "connections_per_1000_calls" {
                json!(*value as u64)
            } else if target.key == "ingest_p99_ms" {
                json!(round(*value, 2))
            } else {
                json!(round(*value, 3))
            };
            out.insert(target.key.to_owned(), value);
        }
        let met: Map<String, Value> = headline
            .iter()
            .map(|(t, v)| (t.key.to_owned(), Value::Bool(t.goal.met(*v))))
            .collect();
        let targets: Map<String, Value> = headline
            .iter()
            .map(|(t, _)| (t.key.to_owned(), Value::String(t.goal.describe())))
            .collect();
        out.insert("met".to_owned(), Value::Object(met));
        out.insert("targets".to_owned(), Value::Object(targets));
        out.insert("details".to_owned(), self.details());
        Ok(Value::Object(out))
    }

    fn details(&self) -> Value {
        let rust = &self.rust;
        let r = &rust.requests;
        let parse: Map<String, Value> = rust
            .parse
            .iter()
            .map(|p| {
                let python = self.python.parse.get(&p.name);
                (
                    p.name.clone(),
                    json!({
                        "bytes": p.bytes,
                        "rust_typed": p.typed,
                        "rust_value": p.value,
                        "python": python,
                        "typed_vs_python": python.map(|py| round(p.typed.median / py.median, 3)),
                        "typed_vs_value": round(p.typed.median / p.value.median, 3),
                    }),
                )
            })
            .collect();
        let serialize: Map<String, Value> = rust
            .serialize
            .iter()
            .map(|s| (s.name.clone(), json!(s.stats)))
            .collect();
        let verify: Map<String, Value> = rust
            .verify
            .iter()
            .map(|v| {
                let reference = self.sha_reference(&v.size);
                (
                    v.size.clone(),
                    json!({
                        "bytes": v.bytes,
                        "rust_hmac": v.hmac,
                        "rust_sha256": v.sha256,
                        "openssl_sha256": reference,
                        "python_hmac": self.python.verify.get(&v.size),
                        "hmac_vs_openssl": reference.map(|s| round(v.hmac.median / s.median, 3)),
                    }),
                )
            })
            .collect();
        json!({
            "quick": self.quick,
            "seconds": round(self.seconds, 1),
            "rounds": rust.rounds,
            "units": {"parse": "events/s", "serialize": "events/s", "verify": "bytes/s", "requests": "requests/s"},
            "machine": self.machine,
            "sha256_reference": match self.sha_source {
                ShaSource::OpensslSpeed => "openssl speed -evp sha256",
                ShaSource::PythonHashlib => "python hashlib.sha256",
            },
            "python_versions": self.python.versions,
            "parse": parse,
            "serialize": serialize,
            "verify": verify,
            "requests": {
                "blocking_sdk": r.blocking_sdk,
                "blocking_raw_ureq": r.blocking_raw,
                "async_sdk": r.async_sdk,
                "async_raw_reqwest": r.async_raw,
                "async_sdk_64_in_flight": r.async64_sdk,
                "async_raw_reqwest_64_in_flight": r.async64_raw,
                "python_sdk": self.python.requests,
                "async64_vs_raw": round(r.async64_sdk.median / r.async64_raw.median, 3),
            },
            "connections_per_1000_calls": {
                "blocking_sdk": rust.connections_per_1000_calls.blocking_sdk,
                "async_sdk": rust.connections_per_1000_calls.async_sdk,
            },
            "receive": {
                "senders": rust.receive.senders,
                "body_bytes": rust.receive.body_bytes,
                "units": {"ingest": "deliveries/s", "core": "requests/s", "latency": "ms"},
                "ingest_inbox_sqlite": rust.receive.ingest.inbox,
                "ingest_naive_sqlite": rust.receive.ingest.naive,
                "ingest_python": rust.receive.ingest.python,
                "core_receiver": rust.receive.core.map(|c| c.receiver),
                "core_bare_axum": rust.receive.core.map(|c| c.bare),
                "latency_inbox": rust.receive.latency,
            },
        })
    }

    /// The text table.
    pub fn to_table(&self) -> Result<String, String> {
        let headline = self.headline()?;
        let mut t = Table::default();
        let r = &self.rust.requests;
        let py = &self.python;
        let sha_name = match self.sha_source {
            ShaSource::OpensslSpeed => "OpenSSL SHA-256",
            ShaSource::PythonHashlib => "hashlib SHA-256",
        };

        t.section("targets (medians; ratio = Rust / other, same run)");
        for (target, value) in &headline {
            let shown = if target.key == "connections_per_1000_calls" {
                format!("{}", *value as u64)
            } else if target.key == "ingest_p99_ms" {
                format!("{value:.2} ms")
            } else {
                ratio(*value)
            };
            let verdict = if target.goal.met(*value) {
                "met"
            } else {
                "MISSED"
            };
            t.row([
                target.key.to_owned(),
                shown,
                target.goal.describe(),
                verdict.to_owned(),
                target.label.to_owned(),
            ]);
        }

        t.section(
            "parse, events/s: Rust typed | Rust Value | Python SDK -> typed/Python, typed/Value",
        );
        for p in &self.rust.parse {
            let python = py.parse.get(&p.name);
            t.row([
                format!("{} ({} B)", p.name, p.bytes),
                stats(&p.typed),
                stats(&p.value),
                python.map(stats).unwrap_or_else(|| "-".into()),
                format!(
                    "{} {}",
                    python
                        .map(|py| ratio(p.typed.median / py.median))
                        .unwrap_or_else(|| "-".into()),
                    ratio(p.typed.median / p.value.median)
                ),
            ]);
        }

        t.section("serialize WebhookEvent -> bytes, events/s (Rust)");
        for s in &self.rust.serialize {
            t.row([
                s.name.clone(),
                stats(&s.stats),
                String::new(),
                String::new(),
                String::new(),
            ]);
        }

        t.section(&format!(
            "verify, bytes/s: Rust HMAC | Rust SHA-256 | {sha_name} | Python hmac -> HMAC/{sha_name}"
        ));
        for v in &self.rust.verify {
            let reference = self.sha_reference(&v.size);
            t.row([
                format!("{} ({} B)", v.size, v.bytes),
                format!("{} | {}", stats(&v.hmac), stats(&v.sha256)),
                reference.map(stats).unwrap_or_else(|| "-".into()),
                py.verify
                    .get(&v.size)
                    .map(stats)
                    .unwrap_or_else(|| "-".into()),
                reference
                    .map(|s| ratio(v.hmac.median / s.median))
                    .unwrap_or_else(|| "-".into()),
            ]);
        }

        t.section("get_webhook on loopback, requests/s: SDK | baseline -> SDK/baseline");
        let pairs = [
            (
                "blocking, sequential (raw ureq)",
                &r.blocking_sdk,
                &r.blocking_raw,
            ),
            (
                "async, sequential (raw reqwest)",
                &r.async_sdk,
                &r.async_raw,
            ),
            (
                "async, 64 in flight (raw reqwest)",
                &r.async64_sdk,
                &r.async64_raw,
            ),
        ];
        for (name, sdk, raw) in pairs {
            t.row([
                name.to_owned(),
                stats(sdk),
                stats(raw),
                String::new(),
                ratio(sdk.median / raw.median),
            ]);
        }
        if let Some(python) = &py.requests {
            t.row([
                "Python SDK get_webhooks, sequential".to_owned(),
                stats(python),
                String::new(),
                String::new(),
                format!(
                    "blocking SDK / Python {:.1}x",
                    r.blocking_sdk.median / python.median
                ),
            ]);
        }
        let c = self.rust.connections_per_1000_calls;
        t.row([
            "TCP connections / 1,000 sequential calls".to_owned(),
            format!("blocking {}", c.blocking_sdk),
            format!("async {}", c.async_sdk),
            String::new(),
            String::new(),
        ]);

        let m = &self.machine;
        let load = |l: Option<f64>| l.map(|l| format!("{l:.2}")).unwrap_or_else(|| "?".into());
        let rx = &self.rust.receive;
        t.section(&format!(
            "receive on loopback, {} senders, {} B signed deliveries: figure | baseline -> ratio",
            rx.senders, rx.body_bytes
        ));
        let opt = |s: Option<&Stats>| s.map(stats).unwrap_or_else(|| "-".into());
        let div = |a: Option<&Stats>, b: Option<&Stats>| match (a, b) {
            (Some(a), Some(b)) => ratio(a.median / b.median),
            _ => "-".into(),
        };
        let inbox = rx.ingest.inbox.as_ref();
        t.row([
            "durable ingest/s: inbox | one transaction per request".to_owned(),
            opt(inbox),
            stats(&rx.ingest.naive),
            String::new(),
            div(inbox, Some(&rx.ingest.naive)),
        ]);
        t.row([
            "durable ingest/s: inbox | Python receiver".to_owned(),
            opt(inbox),
            opt(rx.ingest.python.as_ref()),
            String::new(),
            div(inbox, rx.ingest.python.as_ref()),
        ]);
        if let Some(core) = &rx.core {
            t.row([
                "requests/s: VerifiedEvent extractor | bare axum".to_owned(),
                stats(&core.receiver),
                stats(&core.bare),
                String::new(),
                ratio(core.receiver.median / core.bare.median),
            ]);
        }
        if let Some(l) = &rx.latency {
            t.row([
                format!(
                    "inbox at {:.0}/s, time to 2xx ({} deliveries)",
                    l.rate, l.count
                ),
                format!("p50 {:.2} ms", l.p50_ms),
                format!("p99 {:.2} ms", l.p99_ms),
                format!("max {:.2} ms", l.max_ms),
                String::new(),
            ]);
        }

        let mut out = format!(
            "cargo xtask compare{}: {} rounds per Rust figure, {:.0} s; {} x {}, {}; load {} before, {} after; \
             other processes used {} of a CPU\n\
             figures are medians [slowest-fastest round]; Python {}, smallestai {}, {}\n",
            if self.quick { " --quick" } else { "" },
            self.rust.rounds,
            self.seconds,
            m.nproc,
            m.cpu,
            m.pinned_cpu
                .as_ref()
                .map_or_else(|| "unpinned".to_owned(), |c| format!("pinned to CPU {c}")),
            load(m.load_before),
            load(m.load_after),
            m.others_cpu
                .map_or_else(|| "?".to_owned(), |s| format!("{:.0}%", s * 100.0)),
            py.versions.get("python").map_or("?", String::as_str),
            py.versions.get("smallestai").map_or("?", String::as_str),
            match self.sha_source {
                ShaSource::OpensslSpeed => "SHA-256 reference: openssl speed -evp sha256",
                ShaSource::PythonHashlib => "SHA-256 reference: Python hashlib (no openssl binary)",
            },
        );
        out.push_str(&t.render());
        Ok(out)
    }
}

/// A ratio with three significant digits (`0.946x`, `14.5x`), so that a miss never rounds to
/// its target.
fn ratio(x: f64) -> String {
    if x >= 10.0 {
        format!("{x:.1}x")
    } else {
        format!("{x:.3}x")
    }
}

/// Rounds to `digits` decimals (for readable JSON).
fn round(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

/// `median [min-max]` with SI suffixes.
pub fn stats(s: &Stats) -> String {
    format!("{} [{}-{}]", si(s.median), si(s.min), si(s.max))
}

/// A rate with three significant digits and a k/M/G suffix.
pub fn si(x: f64) -> String {
    let (v, suffix) = match x.abs() {
        a if a >= 1e9 => (x / 1e9, "G"),
        a if a >= 1e6 => (x / 1e6, "M"),
        a if a >= 1e3 => (x / 1e3, "k"),
        _ => (x, ""),
    };
    let digits = match v.abs() {
        a if a >= 100.0 => 0,
        a if a >= 10.0 => 1,
        _ => 2,
    };
    format!("{v:.digits$}{suffix}")
}

/// A plain-text table: sections of five-column rows, columns padded to their widest cell.
#[derive(Default)]
struct Table {
    lines: Vec<Line>,
}

enum Line {
    Section(String),
    Row([String; 5]),
}

impl Table {
    fn section(&mut self, title: &str) {
        self.lines.push(Line::Section(title.to_owned()));
    }

    fn row(&mut self, cells: [String; 5]) {
        self.lines.push(Line::Row(cells));
    }

    /// Each section padded to its own widest cells.
    fn render(&self) -> String {
        let mut out = String::new();
        let mut widths = [0usize; 5];
        for (i, line) in self.lines.iter().enumerate() {
            match line {
                Line::Section(title) => {
                    let _ = write!(out, "\n{title}\n");
                    widths = [0; 5];
                    for next in &self.lines[i + 1..] {
                        let Line::Row(cells) = next else { break };
                        for (w, c) in widths.iter_mut().zip(cells) {
                            *w = (*w).max(c.chars().count());
                        }
                    }
                }
                Line::Row(cells) => {
                    let mut text = String::from("  ");
                    for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
                        if i > 0 && w > 0 {
                            text.push_str("  ");
                        }
                        text.push_str(cell);
                        text.push_str(&" ".repeat(w.saturating_sub(cell.chars().count())));
                    }
                    out.push_str(text.trim_end());
                    out.push('\n');
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(median: f64) -> Stats {
        Stats {
            median,
            min: median * 0.9,
            max: median * 1.1,
            rounds: 5,
        }
    }

    fn sample() -> Run {
        let rust: Rust = serde_json::from_value(json!({
            "quick": true, "rounds": 5,
            "parse": [{"name": LARGE_PAYLOAD, "bytes": 14153, "typed": s(48000.0), "value": s(24000.0)}],
            "serialize": [{"name": LARGE_PAYLOAD, "stats": s(100000.0)}],
            "verify": [{"size": "14k", "bytes": 14336, "hmac": s(1.4e9), "sha256": s(1.45e9)}],
            "requests": {
                "blocking_sdk": s(30000.0), "blocking_raw": s(33000.0),
                "async_sdk": s(20000.0), "async_raw": s(20000.0),
                "async64_sdk": s(45000.0), "async64_raw": s(50000.0)
            },
            "connections_per_1000_calls": {"blocking_sdk": 1, "async_sdk": 1},
            "receive": {
                "senders": 64, "body_bytes": 14153,
                "ingest": {"inbox": s(9000.0), "naive": s(1000.0), "python": s(600.0)},
                "core": {"receiver": s(19000.0), "bare": s(20000.0)},
                "latency": {"rate": 1000.0, "count": 5000, "p50_ms": 1.5, "p99_ms": 4.25, "max_ms": 9.0}
            },
            "server": {"url": "http://127.0.0.1:1", "api_key": "k", "webhook_id": "w"}
        }))
        .unwrap();
        let python: Python = serde_json::from_value(json!({
            "versions": {"python": "3.11.7", "smallestai": "5.14.0"},
            "parse": {LARGE_PAYLOAD: s(4000.0)},
            "verify": {"14k": s(1.2e9)},
            "sha256": {"14k": s(1.5e9)},
            "requests": s(1500.0)
        }))
        .unwrap();
        let mut openssl = BTreeMap::new();
        openssl.insert("14k".to_owned(), s(1.4e9));
        Run {
            quick: true,
            rust,
            python,
            openssl,
            sha_source: ShaSource::OpensslSpeed,
            machine: Machine {
                nproc: 2,
                cpu: "Test CPU".into(),
                load_before: Some(0.5),
                load_after: None,
                pinned_cpu: Some("0".into()),
                others_cpu: Some(0.02),
            },
            seconds: 42.0,
        }
    }

    #[test]
    fn headline_ratios_divide_the_right_medians() {
        let run = sample();
        let h: BTreeMap<&str, f64> = run
            .headline()
            .unwrap()
            .into_iter()
            .map(|(t, v)| (t.key, v))
            .collect();
        assert_eq!(h["parse_vs_python"], 12.0);
        assert_eq!(h["typed_vs_value"], 2.0);
        assert_eq!(h["verify_vs_openssl"], 1.0);
        assert!((h["blocking_vs_raw"] - 30.0 / 33.0).abs() < 1e-12);
        assert_eq!(h["async_vs_raw"], 1.0);
        assert_eq!(h["requests_vs_python"], 20.0);
        assert_eq!(h["connections_per_1000_calls"], 1.0);
        assert_eq!(h["ingest_vs_naive"], 9.0);
        assert_eq!(h["ingest_vs_python"], 15.0);
        assert_eq!(h["receiver_vs_bare"], 0.95);
        assert_eq!(h["ingest_p99_ms"], 4.25);
    }

    #[test]
    fn missing_receive_figures_are_an_error() {
        let mut run = sample();
        run.rust.receive.ingest.inbox = None;
        assert!(run.headline().unwrap_err().contains("inbox"));
        let mut run = sample();
        run.rust.receive.core = None;
        assert!(run.headline().unwrap_err().contains("core"));
    }

    #[test]
    fn hashlib_is_the_reference_without_openssl() {
        let mut run = sample();
        run.openssl.clear();
        run.sha_source = ShaSource::PythonHashlib;
        let h = run.headline().unwrap();
        let verify = h
            .iter()
            .find(|(t, _)| t.key == "verify_vs_openssl")
            .unwrap()
            .1;
        assert!((verify - 1.4 / 1.5).abs() < 1e-12);
    }

    #[test]
    fn json_has_every_headline_key_at_the_top() {
        let v = sample().to_json().unwrap();
        for t in TARGETS {
            assert!(v.get(t.key).is_some_and(Value::is_number), "{}", t.key);
        }
        assert_eq!(v["connections_per_1000_calls"], json!(1));
        assert_eq!(v["met"]["blocking_vs_raw"], json!(false));
        assert_eq!(v["met"]["parse_vs_python"], json!(true));
        assert_eq!(v["details"]["requests"]["async64_vs_raw"], json!(0.9));
        assert_eq!(v["ingest_p99_ms"], json!(4.25));
        assert_eq!(v["met"]["ingest_vs_python"], json!(true));
        assert_eq!(v["targets"]["ingest_p99_ms"], json!("reported"));
    }

    #[test]
    fn table_lists_every_target_with_its_verdict() {
        let table = sample().to_table().unwrap();
        for t in TARGETS {
            assert!(table.contains(t.key), "{table}");
        }
        assert!(table.contains("MISSED"), "{table}");
        assert!(table.contains("64 in flight"), "{table}");
        assert!(table.contains("2 x Test CPU"), "{table}");
    }

    #[test]
    fn missing_python_requests_is_an_error() {
        let mut run = sample();
        run.python.requests = None;
        assert!(run.headline().unwrap_err().contains("requests"));
    }

    #[test]
    fn ratios_keep_three_digits() {
        assert_eq!(ratio(0.9464), "0.946x");
        assert_eq!(ratio(14.47), "14.5x");
        assert_eq!(ratio(1.0), "1.000x");
    }

    #[test]
    fn numbers_are_short() {
        assert_eq!(si(1_456_175_579.8), "1.46G");
        assert_eq!(si(48_123.0), "48.1k");
        assert_eq!(si(3_532.4), "3.53k");
        assert_eq!(si(123_456.0), "123k");
        assert_eq!(si(7.0), "7.00");
        let st = Stats::of(&[3.0, 1.0, 2.0, 10.0]).unwrap();
        assert_eq!((st.median, st.min, st.max, st.rounds), (2.5, 1.0, 10.0, 4));
        assert!(Stats::of(&[]).is_none());
    }
}
