//! Shared parts of the atoms-webhook benchmarks: the payloads, a small timing harness (median of
//! rounds after a warm-up), the raw-client baselines, the emulator set-up, and the receive side:
//! a load generator of signed deliveries and the receivers the inbox is compared with.
//!
//! Two consumers: the criterion benches (`cargo bench -p atoms-webhook-bench`) and the `measure`
//! binary that `cargo xtask compare` runs in release mode next to the official Python SDK.
//! Nothing here asserts a speed; timings belong in `BENCHMARKS.md`, not in tests.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod ingest;
pub mod payload;
pub mod raw;
pub mod receivers;
pub mod server;
pub mod timing;

/// The error type of the set-up code: anything, boxed (a benchmark has no caller to match on it).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
