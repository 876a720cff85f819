//! `measure`: the Rust side of `cargo xtask compare`, run in release mode.
//!
//! ```text
//! measure [--quick] [--serve] [--payload PATH]... [--python PYTHON] [--receive-only]
//! ```
//!
//! Measures parse (typed and `Value`), serialize, verify (and raw SHA-256) on the payloads, then
//! starts the emulator on 127.0.0.1, creates a webhook, and measures `get_webhook` with the
//! blocking and the async SDK clients against raw ureq / reqwest, sequentially and (async) with
//! 64 requests in flight, and counts the TCP connections of 1,000 sequential calls per fresh
//! client. Prints one JSON line on stdout; progress goes to stderr.
//!
//! Then the receive figures (`receive`): 64 concurrent senders post signed ~14 KB deliveries
//! on loopback to the durable inbox on SQLite, to a naive receiver that commits each request in
//! its own SQLite transaction with the same durability, and (with `--python`, the interpreter
//! that has the official SDK) to `scripts/python/receiver.py`, deliveries/s; the receive core in
//! axum against a bare axum handler, requests/s; the time to the 2xx at a fixed 1,000
//! deliveries/s. The databases live in a temporary folder under `target/` (a disk, so that
//! fsync costs what it costs). `--receive-only` measures only these and prints `{"receive":..}`.
//!
//! With `--serve`, the JSON also names the emulator (`server`: url, API key, webhook id) and the
//! emulator keeps serving until standard input is closed, so that the Python SDK can be measured
//! against the same server.

use std::hint::black_box;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use atoms_webhook_bench::ingest::{self, closed_loop, Deliveries, SENDERS};
use atoms_webhook_bench::payload::{self, VERIFY_SIZES};
use atoms_webhook_bench::receivers::{self, Background, PythonReceiver};
use atoms_webhook_bench::server::{Server, API_KEY};
use atoms_webhook_bench::timing::{time_n, Plan, Stats};
use atoms_webhook_bench::BoxError;
use atoms_webhook_models::{sign, SigningSecret, Verifier, WebhookEvent};
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::task::JoinSet;

/// Requests in flight for the concurrent async figure.
const CONCURRENCY: u64 = 64;

/// Sequential calls whose TCP connections are counted.
const CONNECTION_CALLS: usize = 1000;

const USAGE: &str =
    "usage: measure [--quick] [--serve] [--payload PATH]... [--python PYTHON] [--receive-only]";

#[derive(Debug, Default)]
struct Args {
    quick: bool,
    serve: bool,
    payloads: Vec<PathBuf>,
    python: Option<PathBuf>,
    receive_only: bool,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut out = Args::default();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => out.quick = true,
            "--serve" => out.serve = true,
            "--receive-only" => out.receive_only = true,
            "--python" => out.python = Some(args.next().ok_or("`--python` needs a path")?.into()),
            "--payload" => out
                .payloads
                .push(args.next().ok_or("`--payload` needs a path")?.into()),
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument `{other}`\n{USAGE}")),
        }
    }
    Ok(out)
}

#[derive(Serialize)]
struct Report {
    quick: bool,
    rounds: usize,
    parse: Vec<ParseFigure>,
    serialize: Vec<Named>,
    verify: Vec<VerifyFigure>,
    requests: Requests,
    connections_per_1000_calls: Connections,
    receive: Receive,
    #[serde(skip_serializing_if = "Option::is_none")]
    server: Option<ServerInfo>,
}

/// The receive figures.
#[derive(Serialize)]
struct Receive {
    senders: usize,
    body_bytes: usize,
    /// Deliveries/s, answered 2xx once durable.
    ingest: Ingest,
    /// Requests/s: the receive core (verify + parse) in axum, and a bare axum handler.
    core: Option<Core>,
    /// The inbox at a fixed rate: time to the 2xx.
    latency: Option<ingest::Latency>,
}

#[derive(Serialize)]
struct Ingest {
    inbox: Option<Stats>,
    naive: Stats,
    python: Option<Stats>,
}

#[derive(Serialize)]
struct Core {
    receiver: Stats,
    bare: Stats,
}

/// Events per second.
#[derive(Serialize)]
struct ParseFigure {
    name: String,
    bytes: usize,
    typed: Stats,
    value: Stats,
}

/// Events per second.
#[derive(Serialize)]
struct Named {
    name: String,
    stats: Stats,
}

/// Bytes per second.
#[derive(Serialize)]
struct VerifyFigure {
    size: &'static str,
    bytes: usize,
    hmac: Stats,
    sha256: Stats,
}

/// Requests per second.
#[derive(Serialize)]
struct Requests {
    blocking_sdk: Stats,
    blocking_raw: Stats,
    async_sdk: Stats,
    async_raw: Stats,
    async64_sdk: Stats,
    async64_raw: Stats,
}

#[derive(Serialize)]
struct Connections {
    blocking_sdk: usize,
    async_sdk: usize,
}

#[derive(Serialize)]
struct ServerInfo {
    url: String,
    api_key: &'static str,
    webhook_id: String,
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<(), BoxError> {
    let plan = if args.quick {
        Plan::quick()
    } else {
        Plan::full()
    };
    let payloads = if args.payloads.is_empty() {
        payload::load_default()?
    } else {
        payload::load(&args.payloads)?
    };
    if args.receive_only {
        let receive = receive(plan, &payloads, args.python.as_deref())?;
        let mut stdout = std::io::stdout().lock();
        serde_json::to_writer(&mut stdout, &serde_json::json!({ "receive": receive }))?;
        writeln!(stdout)?;
        return Ok(());
    }

    progress("parse and serialize");
    let mut parse = Vec::new();
    let mut serialize = Vec::new();
    for p in &payloads {
        let event = WebhookEvent::from_slice(&p.body).map_err(|e| format!("{}: {e}", p.name))?;
        if event.is_unknown() {
            return Err(format!("{}: not a delivery this SDK knows", p.name).into());
        }
        let (typed, value) = plan.paired(
            1.0,
            |n| {
                time_n(n, || {
                    drop(black_box(WebhookEvent::from_slice(black_box(&p.body))))
                })
            },
            |n| {
                time_n(n, || {
                    drop(black_box(serde_json::from_slice::<serde_json::Value>(
                        black_box(&p.body),
                    )))
                })
            },
        );
        parse.push(ParseFigure {
            name: p.name.clone(),
            bytes: p.body.len(),
            typed,
            value,
        });
        let stats = plan.rate(1.0, |n| {
            time_n(n, || drop(black_box(black_box(&event).to_vec())))
        });
        serialize.push(Named {
            name: p.name.clone(),
            stats,
        });
    }

    progress("verify");
    let secret = SigningSecret::new(payload::SECRET);
    let verifier = Verifier::new(secret.clone())?.max_body(2 << 20);
    let mut verify = Vec::new();
    for (size, len) in VERIFY_SIZES {
        let body = payload::verify_body(len);
        let signature = sign(&secret, &body);
        verifier.verify(&body, &signature)?;
        let (hmac, sha256) = plan.paired(
            len as f64,
            |n| {
                time_n(n, || {
                    black_box(verifier.verify(black_box(&body), black_box(&signature)))
                        .expect("the signature is valid")
                })
            },
            |n| {
                time_n(n, || {
                    black_box(Sha256::digest(black_box(&body)));
                })
            },
        );
        verify.push(VerifyFigure {
            size,
            bytes: len,
            hmac,
            sha256,
        });
    }

    progress("client round trips against the emulator");
    let server = Server::start()?;
    let (requests, connections) = clients(&server, plan.longer(2))?;

    let receive = receive(plan, &payloads, args.python.as_deref())?;

    let report = Report {
        quick: args.quick,
        rounds: plan.rounds,
        parse,
        serialize,
        verify,
        requests,
        connections_per_1000_calls: connections,
        receive,
        server: args.serve.then(|| ServerInfo {
            url: server.url(),
            api_key: API_KEY,
            webhook_id: server.webhook_id.as_str().to_owned(),
        }),
    };
    let mut stdout = std::io::stdout().lock();
    serde_json::to_writer(&mut stdout, &report)?;
    writeln!(stdout)?;
    stdout.flush()?;
    drop(stdout);

    if args.serve {
        progress("serving until standard input closes");
        // Whatever arrives is ignored; end of input means "stop".
        std::io::stdin().read_to_end(&mut Vec::new())?;
    }
    server.emulator.shutdown();
    Ok(())
}

fn clients(server: &Server, plan: Plan) -> Result<(Requests, Connections), BoxError> {
    let id = server.webhook_id.clone();
    let expected = server.blocking_raw().get_webhook()?;

    let sdk = server.blocking_sdk()?;
    let raw = server.blocking_raw();
    if sdk.get_webhook(id.clone())? != expected {
        return Err("the blocking SDK and raw ureq disagree on the webhook".into());
    }
    let (blocking_sdk, blocking_raw) = plan.paired(
        1.0,
        |n| {
            time_n(n, || {
                drop(black_box(sdk.get_webhook(id.clone()).expect("SDK call")))
            })
        },
        |n| time_n(n, || drop(black_box(raw.get_webhook().expect("raw call")))),
    );

    // One thread for the client side: the emulator already has two workers on this two-core
    // machine, and a multi-threaded client only adds cross-thread wake-ups, the same for both
    // contenders. Both share this runtime.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let sdk = server.async_sdk()?;
    let raw = server.async_raw();
    let (got_sdk, got_raw) =
        rt.block_on(async { (sdk.get_webhook(id.clone()).await, raw.get_webhook().await) });
    if got_sdk? != expected || got_raw? != expected {
        return Err("the async SDK and raw reqwest disagree on the webhook".into());
    }
    let (async_sdk, async_raw) = plan.paired(
        1.0,
        |n| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..n {
                    black_box(sdk.get_webhook(id.clone()).await.expect("SDK call"));
                }
                start.elapsed()
            })
        },
        |n| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..n {
                    black_box(raw.get_webhook().await.expect("raw call"));
                }
                start.elapsed()
            })
        },
    );
    let (async64_sdk, async64_raw) = plan.paired(
        CONCURRENCY as f64,
        |n| {
            rt.block_on(concurrent(|tasks| {
                let (sdk, id) = (sdk.clone(), id.clone());
                tasks.spawn(async move {
                    for _ in 0..n {
                        black_box(sdk.get_webhook(id.clone()).await.expect("SDK call"));
                    }
                });
            }))
        },
        |n| {
            rt.block_on(concurrent(|tasks| {
                let raw = raw.clone();
                tasks.spawn(async move {
                    for _ in 0..n {
                        black_box(raw.get_webhook().await.expect("raw call"));
                    }
                });
            }))
        },
    );

    progress("connections of 1,000 sequential calls");
    let emulator = &server.emulator;
    let before = emulator.connections();
    let fresh = server.blocking_sdk()?;
    for _ in 0..CONNECTION_CALLS {
        fresh.get_webhook(id.clone())?;
    }
    let blocking_connections = emulator.connections() - before;
    drop(fresh);
    let before = emulator.connections();
    let fresh = server.async_sdk()?;
    rt.block_on(async {
        for _ in 0..CONNECTION_CALLS {
            fresh.get_webhook(id.clone()).await?;
        }
        Ok::<_, BoxError>(())
    })?;
    let async_connections = emulator.connections() - before;

    Ok((
        Requests {
            blocking_sdk,
            blocking_raw,
            async_sdk,
            async_raw,
            async64_sdk,
            async64_raw,
        },
        Connections {
            blocking_sdk: blocking_connections,
            async_sdk: async_connections,
        },
    ))
}

/// The receive figures (see the module's documentation).
fn receive(
    plan: Plan,
    payloads: &[payload::Payload],
    python: Option<&Path>,
) -> Result<Receive, BoxError> {
    let template = payloads
        .iter()
        .find(|p| p.name == payload::LARGE_PAYLOAD)
        .ok_or("the 14 KB payload is needed for the receive figures")?
        .body
        .clone();
    let body_bytes = template.len();
    let secret = SigningSecret::new(payload::SECRET);
    let deliveries = Arc::new(Deliveries::new(template, secret.clone())?);
    let target = payload::workspace_root().join("target");
    std::fs::create_dir_all(&target)?;
    let dir = tempfile::Builder::new()
        .prefix("bench-inbox-")
        .tempdir_in(&target)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let client = ingest::client()?;
    let verifier = || Verifier::new(secret.clone());

    progress("receive: durable ingest, 64 senders, 14 KB deliveries");
    let (inbox_router, inbox_store) =
        receivers::inbox(&dir.path().join("inbox.db"), secret.clone())?;
    let inbox = Background::serve(inbox_router, 2)?;
    let naive = Background::serve(
        receivers::naive(&dir.path().join("naive.db"), verifier()?)?,
        2,
    )?;
    let python_rx = match python {
        Some(python) => Some(PythonReceiver::start(
            python,
            &payload::workspace_root().join("scripts/python/receiver.py"),
            &dir.path().join("python.db"),
            payload::SECRET,
        )?),
        None => None,
    };
    // Every contender answers one delivery before the clock starts.
    for url in [
        Some(inbox.url()),
        Some(naive.url()),
        python_rx.as_ref().map(|p| p.url()),
    ]
    .into_iter()
    .flatten()
    {
        rt.block_on(ingest::post(&client, url, &deliveries))?;
    }
    let ingest_plan = plan.longer(4);
    let load = |url: String| {
        let (rt, client, deliveries) = (&rt, &client, &deliveries);
        move |n: u64| {
            rt.block_on(closed_loop(client, &url, deliveries, n))
                .expect("every delivery is answered 2xx")
        }
    };
    let mut inbox_run = load(inbox.url().to_owned());
    let mut naive_run = load(naive.url().to_owned());
    let (inbox_stats, naive_stats, python_stats) = match &python_rx {
        Some(p) => {
            let mut python_run = load(p.url().to_owned());
            let s = ingest_plan.interleaved(
                SENDERS as f64,
                &mut [&mut inbox_run, &mut naive_run, &mut python_run],
            );
            (s[0], s[1], Some(s[2]))
        }
        None => {
            let s = ingest_plan.interleaved(SENDERS as f64, &mut [&mut inbox_run, &mut naive_run]);
            (s[0], s[1], None)
        }
    };
    if receivers::stored_rows(&dir.path().join("naive.db"))? == 0 {
        return Err("the naive receiver stored nothing".into());
    }
    let stats = rt.block_on(inbox_store.stats(std::time::SystemTime::now()))?;
    if stats.count(atoms_webhook_receiver::Status::Pending) == 0 {
        return Err("the inbox stored nothing".into());
    }
    drop(naive);
    drop(python_rx);

    progress("receive: the inbox at a fixed 1,000 deliveries/s");
    let count = if plan.rounds < 10 { 1000 } else { 5000 };
    let latency = rt.block_on(ingest::fixed_rate(
        &client,
        inbox.url(),
        &deliveries,
        ingest::FIXED_RATE,
        count,
    ))?;
    drop(inbox);

    progress("receive: the receive core (VerifiedEvent) against a bare axum handler");
    let verified = Background::serve(receivers::verified(secret.clone())?, 2)?;
    let bare = Background::serve(receivers::bare(), 2)?;
    for url in [verified.url(), bare.url()] {
        rt.block_on(ingest::post(&client, url, &deliveries))?;
    }
    let mut verified_run = load(verified.url().to_owned());
    let mut bare_run = load(bare.url().to_owned());
    let (receiver, bare_stats) =
        plan.longer(2)
            .paired(SENDERS as f64, &mut verified_run, &mut bare_run);
    drop(verified);
    drop(bare);

    Ok(Receive {
        senders: SENDERS,
        body_bytes,
        ingest: Ingest {
            inbox: Some(inbox_stats),
            naive: naive_stats,
            python: python_stats,
        },
        core: Some(Core {
            receiver,
            bare: bare_stats,
        }),
        latency: Some(latency),
    })
}

/// Starts [`CONCURRENCY`] tasks with `spawn` (each makes `n` calls one after the other) and
/// returns the time until all have ended.
async fn concurrent(mut spawn: impl FnMut(&mut JoinSet<()>)) -> Duration {
    let start = Instant::now();
    let mut tasks = JoinSet::new();
    for _ in 0..CONCURRENCY {
        spawn(&mut tasks);
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("a request task panicked");
    }
    start.elapsed()
}

fn progress(what: &str) {
    eprintln!("measure: {what}");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Result<Args, String> {
        parse_args(list.iter().map(|s| s.to_string()))
    }

    #[test]
    fn parses_flags_and_payloads() {
        let a = args(&[
            "--quick",
            "--payload",
            "a.json",
            "--serve",
            "--payload",
            "b.json",
        ])
        .unwrap();
        assert!(a.quick && a.serve);
        assert_eq!(
            a.payloads,
            [PathBuf::from("a.json"), PathBuf::from("b.json")]
        );
        assert!(args(&["--payload"]).is_err());
        assert!(args(&["--fast"]).is_err());
    }
}
