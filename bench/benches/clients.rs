//! Client round trips on loopback against the emulator: `get_webhook` with the blocking and the
//! async SDK clients against raw ureq / reqwest doing the same request and the same JSON parse,
//! sequentially and (async) with 64 requests in flight.
//!
//! `cargo bench -p atoms-webhook-bench --bench clients`. Before timing, it checks that 1,000
//! sequential calls of a fresh client open one TCP connection (`Emulator::connections`), and
//! prints the count. `cargo xtask compare` measures the same things with its own loops (see
//! `src/bin/measure.rs`) to set them against the Python SDK.

// criterion's macros generate undocumented items.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use atoms_webhook_bench::server::Server;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tokio::task::JoinSet;

/// Requests in flight in the concurrent group.
const CONCURRENCY: u64 = 64;

fn runtime() -> tokio::runtime::Runtime {
    // One client thread, as in `measure` (the emulator has its own two workers).
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// Counts the TCP connections 1,000 sequential calls of a fresh client open (keep-alive must
/// hold them to one).
fn connections(server: &Server, rt: &tokio::runtime::Runtime) {
    let emu = &server.emulator;
    let id = &server.webhook_id;
    let before = emu.connections();
    let client = server.blocking_sdk().expect("blocking client");
    for _ in 0..1000 {
        client.get_webhook(id).expect("SDK call");
    }
    let blocking = emu.connections() - before;
    let before = emu.connections();
    let client = server.async_sdk().expect("async client");
    rt.block_on(async {
        for _ in 0..1000 {
            client.get_webhook(id).await.expect("SDK call");
        }
    });
    let asynchronous = emu.connections() - before;
    eprintln!(
        "TCP connections for 1,000 sequential calls: blocking {blocking}, async {asynchronous}"
    );
    assert_eq!(
        (blocking, asynchronous),
        (1, 1),
        "sequential calls must reuse one connection"
    );
}

fn sequential(c: &mut Criterion) {
    let server = Server::start().expect("emulator");
    let rt = runtime();
    connections(&server, &rt);
    let id = &server.webhook_id;

    let mut g = c.benchmark_group("get_webhook");
    g.throughput(Throughput::Elements(1));
    let sdk = server.blocking_sdk().expect("blocking client");
    g.bench_function("blocking/sdk", |b| {
        b.iter(|| black_box(sdk.get_webhook(id).expect("SDK call")))
    });
    let raw = server.blocking_raw();
    g.bench_function("blocking/raw-ureq", |b| {
        b.iter(|| black_box(raw.get_webhook().expect("raw call")))
    });
    let sdk = server.async_sdk().expect("async client");
    // `iter_custom` with one `block_on` per sample rather than per call, so that both async
    // contenders pay only for their requests.
    g.bench_function("async/sdk", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    black_box(sdk.get_webhook(id).await.expect("SDK call"));
                }
                start.elapsed()
            })
        })
    });
    let raw = server.async_raw();
    g.bench_function("async/raw-reqwest", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    black_box(raw.get_webhook().await.expect("raw call"));
                }
                start.elapsed()
            })
        })
    });
    g.finish();

    // 64 tasks, each making `iters` calls in a row: one criterion iteration is 64 requests.
    let mut g = c.benchmark_group("get_webhook_64_in_flight");
    g.throughput(Throughput::Elements(CONCURRENCY));
    g.bench_function("async/sdk", |b| {
        b.iter_custom(|iters| {
            rt.block_on(concurrent(|tasks| {
                let (sdk, id) = (sdk.clone(), id.clone());
                tasks.spawn(async move {
                    for _ in 0..iters {
                        black_box(sdk.get_webhook(&id).await.expect("SDK call"));
                    }
                });
            }))
        })
    });
    g.bench_function("async/raw-reqwest", |b| {
        b.iter_custom(|iters| {
            rt.block_on(concurrent(|tasks| {
                let raw = raw.clone();
                tasks.spawn(async move {
                    for _ in 0..iters {
                        black_box(raw.get_webhook().await.expect("raw call"));
                    }
                });
            }))
        })
    });
    g.finish();
    server.emulator.shutdown();
}

/// Starts `CONCURRENCY` tasks with `spawn`; the time until all have ended.
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

criterion_group!(benches, sequential);
criterion_main!(benches);
