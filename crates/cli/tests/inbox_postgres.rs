//! `atoms-webhook inbox` on PostgreSQL, scaled out: two `serve --no-workers` ingest processes
//! and two `work` processes on one database, through the crash test (all four killed with
//! SIGKILL under 64 concurrent senders, then restarted) and the dedup test.
//!
//! They need `ATOMS_TEST_DATABASE_URL` (`scripts/with-postgres.sh` starts a throwaway cluster
//! and sets it). Without it each says so in one line and passes, except under `CI=true`, where
//! a missing URL is a failure. Each test keeps its inbox in a schema of its own.

mod inbox_common;

use inbox_common::{crash, dedup, postgres_url, Layout, StoreAt};

/// A schema name no earlier run used.
fn schema(test: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("inbox_{test}_{}_{nanos}", std::process::id())
}

#[test]
fn postgres_crash_with_two_ingest_and_two_worker_processes() {
    let Some(url) = postgres_url("postgres_crash") else {
        return;
    };
    let layout = Layout {
        store: StoreAt::Postgres {
            url,
            schema: schema("crash"),
        },
        split: true,
    };
    let (acked, _again) = crash(&layout, 0x9c1);
    assert!(acked >= 400);
}

#[test]
fn postgres_dedup_across_two_ingest_processes() {
    let Some(url) = postgres_url("postgres_dedup") else {
        return;
    };
    let layout = Layout {
        store: StoreAt::Postgres {
            url,
            schema: schema("dedup"),
        },
        split: true,
    };
    dedup(&layout, 0x9c2);
}
