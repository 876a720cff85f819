//! Retention and replay protection of `atoms-webhook inbox` as real processes: `inbox purge`
//! deletes done deliveries older than an age and (with `--dead`) dead letters, never pending
//! ones; the retention task of `serve`/`work` (`--retain-done`) deletes done deliveries and
//! keeps dead letters; `serve --replay-window` refuses a delivery whose ObjectId id is old
//! (401, counted as `stale`, not stored), which is accepted without it.
//!
//! SQLite always; PostgreSQL too when `ATOMS_TEST_DATABASE_URL` is set (under `CI=true` a
//! missing URL is a failure). No test waits for a fixed time: ages of 0 or a tiny retention,
//! and bounded polls of the store.

mod inbox_common;

use std::process::Command;

use inbox_common::{
    bin, client, delivery, delivery_id, inbox_json, post, postgres_url, runtime, temp_db, wait_for,
    Counter, InboxProcess, Mode, StoreAt,
};

fn refs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

/// `store.args()` followed by `extra`.
fn with(store: &StoreAt, extra: &[&str]) -> Vec<String> {
    let mut a = store.args();
    a.extend(extra.iter().map(|s| (*s).to_owned()));
    a
}

/// `inbox purge STORE ARGS... --json`.
fn purge(store: &StoreAt, args: &[&str]) -> serde_json::Value {
    let mut a = vec!["purge".to_owned()];
    a.extend(with(store, args));
    inbox_json(&refs(&a))
}

fn status(store: &StoreAt, id: &str) -> Option<String> {
    store.statuses().get(id).cloned()
}

/// A schema name no earlier run used.
fn schema(test: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("inbox_{test}_{}_{nanos}", std::process::id())
}

/// One done delivery, one dead letter and one pending delivery in `store`; gives their ids.
fn one_of_each(store: &StoreAt, prefix: u32) -> (String, String, String) {
    let rt = runtime();
    let counter = Counter::start(&rt);
    let c = client();
    // No retention of its own: only `inbox purge` deletes here.
    let args = with(
        store,
        &[
            "--forward",
            &counter.url,
            "--max-attempts",
            "1",
            "--poll",
            "0.02",
            "--retain-done",
            "0",
        ],
    );
    let serve = InboxProcess::serve(&refs(&args));
    let done = delivery_id(prefix, 1);
    let (body, sig) = delivery(&done, "CALL-1700000000001-purge0", "post-conversation");
    assert_eq!(rt.block_on(post(&c, &serve.url, body, &sig)), Some(200));
    wait_for("the first delivery done", || {
        (status(store, &done).as_deref() == Some("done")).then_some(())
    });
    counter.set_mode(Mode::Fail);
    let dead = delivery_id(prefix, 2);
    let (body, sig) = delivery(&dead, "CALL-1700000000002-purge0", "post-conversation");
    assert_eq!(rt.block_on(post(&c, &serve.url, body, &sig)), Some(200));
    wait_for("the second delivery dead-lettered", || {
        (status(store, &dead).as_deref() == Some("dead")).then_some(())
    });
    assert_eq!(serve.terminate(), Some(0));

    // Stored by an ingest-only process: it stays pending.
    let ingest = InboxProcess::serve(&refs(&with(store, &["--no-workers"])));
    let pending = delivery_id(prefix, 3);
    let (body, sig) = delivery(&pending, "CALL-1700000000003-purge0", "post-conversation");
    assert_eq!(rt.block_on(post(&c, &ingest.url, body, &sig)), Some(200));
    assert_eq!(ingest.terminate(), Some(0));
    (done, dead, pending)
}

fn purge_command(store: &StoreAt, prefix: u32) {
    let (done, dead, pending) = one_of_each(store, prefix);
    assert_eq!(store.statuses().len(), 3);

    // Processed moments ago: not older than a day.
    let out = purge(store, &["--done-before", "86400"]);
    assert_eq!(out["done"], 0, "{out}");
    assert!(out["dead"].is_null(), "{out}");
    assert_eq!(store.statuses().len(), 3);

    let out = purge(store, &["--done-before", "0"]);
    assert_eq!(out["done"], 1, "{out}");
    let left = store.statuses();
    assert!(!left.contains_key(&done), "{left:?}");
    assert_eq!(left.get(&dead).map(String::as_str), Some("dead"));
    assert_eq!(left.get(&pending).map(String::as_str), Some("pending"));

    let out = purge(store, &["--dead"]);
    assert_eq!(out["dead"], 1, "{out}");
    assert!(out["done"].is_null(), "{out}");
    let left = store.statuses();
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left.get(&pending).map(String::as_str), Some("pending"));

    // Without --json: one line per kind, with the counts.
    let mut a = vec!["inbox".to_owned(), "purge".to_owned()];
    a.extend(with(store, &["--done-before", "0", "--dead"]));
    let out = Command::new(bin())
        .args(&a)
        .env_remove("ATOMS_INBOX_DATABASE_URL")
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("purged 0 done deliveries") && text.contains("purged 0 dead letters"),
        "{text}"
    );
    assert_eq!(store.statuses().len(), 1);
}

/// The retention task (`--retain-done` tiny, `--purge-every` tiny) of `serve`, or of `work`
/// beside an ingest-only `serve` when `split`.
fn retention_task(store: &StoreAt, prefix: u32, split: bool) {
    let rt = runtime();
    let counter = Counter::start(&rt);
    let c = client();
    let processing = vec![
        "--forward",
        &counter.url,
        "--max-attempts",
        "1",
        "--poll",
        "0.02",
        "--retain-done",
        "0.001",
        "--purge-every",
        "0.05",
    ];
    let (ingest, _work) = if split {
        let ingest = InboxProcess::serve(&refs(&with(store, &["--no-workers"])));
        let work = InboxProcess::work(&refs(&with(store, &processing)));
        (ingest, Some(work))
    } else {
        (InboxProcess::serve(&refs(&with(store, &processing))), None)
    };

    counter.set_mode(Mode::Fail);
    let dead = delivery_id(prefix, 1);
    let (body, sig) = delivery(&dead, "CALL-1700000000001-retain", "post-conversation");
    assert_eq!(rt.block_on(post(&c, &ingest.url, body, &sig)), Some(200));
    wait_for("the first delivery dead-lettered", || {
        (status(store, &dead).as_deref() == Some("dead")).then_some(())
    });

    counter.set_mode(Mode::Accept);
    let done = delivery_id(prefix, 2);
    let (body, sig) = delivery(&done, "CALL-1700000000002-retain", "post-conversation");
    assert_eq!(rt.block_on(post(&c, &ingest.url, body, &sig)), Some(200));
    wait_for("the second delivery forwarded, then deleted", || {
        let forwarded = counter.accepted().get(&done) == Some(&1);
        (forwarded && status(store, &done).is_none()).then_some(())
    });
    // The purge that deleted it ran after the first one was dead: dead letters stay.
    assert_eq!(status(store, &dead).as_deref(), Some("dead"));
    let stats = store.stats();
    assert_eq!(stats["by_status"]["done"], 0, "{stats}");
    assert_eq!(stats["by_status"]["dead"], 1, "{stats}");
}

#[test]
fn purge_deletes_old_done_deliveries_and_dead_letters_but_never_pending_ones() {
    let dir = tempfile::tempdir().unwrap();
    purge_command(&temp_db(dir.path()), 0x4b1);
}

#[test]
fn serve_retention_deletes_done_deliveries_and_keeps_dead_letters() {
    let dir = tempfile::tempdir().unwrap();
    retention_task(&temp_db(dir.path()), 0x4b2, false);
}

#[test]
fn postgres_purge_and_retention_of_work() {
    let Some(url) = postgres_url("postgres_purge_and_retention_of_work") else {
        return;
    };
    purge_command(
        &StoreAt::Postgres {
            url: url.clone(),
            schema: schema("purge"),
        },
        0x4b3,
    );
    retention_task(
        &StoreAt::Postgres {
            url,
            schema: schema("retain"),
        },
        0x4b4,
        true,
    );
}

#[test]
fn purge_without_what_to_purge_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("inbox.db").display().to_string();
    let out = Command::new(bin())
        .args(["inbox", "purge", "--db", &db])
        .env_remove("ATOMS_INBOX_DATABASE_URL")
        .output()
        .expect("the binary runs");
    assert_eq!(out.status.code(), Some(2));
}

/// A delivery id (an ObjectId) minted `age_secs` ago by the clock of this machine.
fn object_id(age_secs: u64, n: u64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    format!("{:08x}{n:016x}", now.saturating_sub(age_secs))
}

#[test]
fn replay_window_refuses_an_old_delivery_id_which_is_accepted_without_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = temp_db(dir.path());
    let rt = runtime();
    let c = client();
    // Ten days old, against a window of one day; the fresh one is well inside it.
    let old = object_id(10 * 86400, 1);
    let fresh = object_id(0, 2);
    let (old_body, old_sig) = delivery(&old, "CALL-1700000000001-replay", "post-conversation");
    let (fresh_body, fresh_sig) =
        delivery(&fresh, "CALL-1700000000002-replay", "post-conversation");

    let on = InboxProcess::serve(&refs(&with(
        &store,
        &["--no-workers", "--replay-window", "86400"],
    )));
    assert_eq!(
        rt.block_on(post(&c, &on.url, old_body.clone(), &old_sig)),
        Some(401)
    );
    assert_eq!(
        rt.block_on(post(&c, &on.url, fresh_body, &fresh_sig)),
        Some(200)
    );
    assert_eq!(on.terminate(), Some(0));
    let stats = store.stats();
    assert_eq!(stats["rejections"]["stale"], 1, "{stats}");
    let stored = store.statuses();
    assert!(
        !stored.contains_key(&old),
        "a refused delivery is not stored"
    );
    assert!(stored.contains_key(&fresh));

    let off = InboxProcess::serve(&refs(&with(&store, &["--no-workers"])));
    assert_eq!(
        rt.block_on(post(&c, &off.url, old_body, &old_sig)),
        Some(200)
    );
    assert_eq!(off.terminate(), Some(0));
    assert!(store.statuses().contains_key(&old));
    assert_eq!(store.stats()["rejections"]["stale"], 1);

    let help = Command::new(bin())
        .args(["inbox", "serve", "--help"])
        .output()
        .expect("the binary runs");
    // Wrapped to any width: compared word by word.
    let help = String::from_utf8_lossy(&help.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        help.contains("--replay-window") && help.contains("an observation, not a platform promise"),
        "{help}"
    );
}
