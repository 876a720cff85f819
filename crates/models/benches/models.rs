//! Parse, serialize and verify throughput of the models crate.
//!
//! `cargo bench -p atoms-webhook-models`. The same payloads feed `cargo xtask compare`, which
//! sets them against the official Python SDK and OpenSSL.

// criterion's macros generate undocumented items.
#![allow(missing_docs)]

use std::hint::black_box;
use std::path::PathBuf;

use atoms_webhook_models::{sign, SigningSecret, Verifier, WebhookEvent};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The payloads: the three documented examples and the 14 KB post-conversation.
pub fn payloads() -> Vec<(&'static str, Vec<u8>)> {
    let ex = root().join("crates/models/tests/fixtures/examples");
    let read = |p: PathBuf| std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    vec![
        ("pre-conversation", read(ex.join("pre-conversation.json"))),
        ("post-conversation", read(ex.join("post-conversation.json"))),
        (
            "analytics-completed",
            read(ex.join("analytics-completed.json")),
        ),
        (
            "post-conversation-14k",
            read(root().join("bench-data/post-conversation-14k.json")),
        ),
    ]
}

fn parse(c: &mut Criterion) {
    let mut g = c.benchmark_group("parse");
    for (name, body) in payloads() {
        g.throughput(Throughput::Bytes(body.len() as u64));
        g.bench_function(format!("{name}/typed"), |b| {
            b.iter(|| WebhookEvent::from_slice(black_box(&body)).unwrap())
        });
        g.bench_function(format!("{name}/value"), |b| {
            b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(&body)).unwrap())
        });
    }
    g.finish();
}

fn serialize(c: &mut Criterion) {
    let mut g = c.benchmark_group("serialize");
    for (name, body) in payloads() {
        let event = WebhookEvent::from_slice(&body).unwrap();
        g.throughput(Throughput::Bytes(body.len() as u64));
        g.bench_function(name, |b| b.iter(|| black_box(&event).to_vec()));
    }
    g.finish();
}

fn verify(c: &mut Criterion) {
    let secret = SigningSecret::new("whsec_bench_secret_0123456789abcdef");
    let verifier = Verifier::new(secret.clone()).unwrap().max_body(2 << 20);
    let mut g = c.benchmark_group("verify");
    for (name, len) in [("1k", 1024usize), ("14k", 14 * 1024), ("1m", 1 << 20)] {
        let body: Vec<u8> = (0..len)
            .map(|i| b"{\"a\":\"0123456789\"}"[i % 18])
            .collect();
        let sig = sign(&secret, &body);
        g.throughput(Throughput::Bytes(len as u64));
        g.bench_function(name, |b| {
            b.iter(|| verifier.verify(black_box(&body), black_box(&sig)).unwrap())
        });
    }
    g.finish();
}

criterion_group!(benches, parse, serialize, verify);
criterion_main!(benches);
