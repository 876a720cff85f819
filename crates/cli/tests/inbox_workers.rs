//! `atoms-webhook inbox` workers as real processes on SQLite: a failing forward is retried
//! with backoff and dead-lettered after the maximum, `inbox replay --dead` brings it back;
//! per-call order holds with several workers; a killed worker's lease comes back; SIGTERM
//! ends `serve` with status 0; usage and data errors exit 2 and 1 with one line.

mod inbox_common;

use std::process::Command;

use inbox_common::{
    bin, client, delivery, delivery_id, inbox_json, post, runtime, temp_db, wait_for, Counter,
    InboxProcess, Mode, StoreAt,
};

fn store_args(store: &StoreAt) -> Vec<String> {
    store.args()
}

#[test]
fn failing_forward_is_retried_then_dead_lettered_and_replay_brings_it_back() {
    let dir = tempfile::tempdir().unwrap();
    let store = temp_db(dir.path());
    let rt = runtime();
    let counter = Counter::start(&rt);
    counter.set_mode(Mode::Fail);
    let mut args: Vec<String> = store_args(&store);
    args.extend(
        [
            "--forward",
            &counter.url,
            "--workers",
            "2",
            "--max-attempts",
            "3",
            "--backoff",
            "0.02",
            "--max-backoff",
            "0.05",
            "--poll",
            "0.02",
        ]
        .map(String::from),
    );
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let serve = InboxProcess::serve(&refs);

    let id = delivery_id(0x3a1, 7);
    let (body, sig) = delivery(&id, "CALL-1700000000007-aaaaaa", "pre-conversation");
    let c = client();
    assert_eq!(rt.block_on(post(&c, &serve.url, body, &sig)), Some(200));

    wait_for("the delivery dead-lettered", || {
        (store.statuses().get(&id).map(String::as_str) == Some("dead")).then_some(())
    });
    let attempts: Vec<u32> = counter.hits().iter().map(|h| h.attempt).collect();
    assert_eq!(attempts, [1, 2, 3], "three attempts, numbered");
    let shown = inbox_json(&[
        "show",
        &id,
        "--db",
        &dir.path().join("inbox.db").display().to_string(),
    ]);
    assert_eq!(shown["status"], "dead");
    assert_eq!(shown["attempts"], 3);
    assert!(
        shown["lastError"]
            .as_str()
            .unwrap_or_default()
            .contains("500"),
        "{shown}"
    );
    assert_eq!(store.stats()["by_status"]["dead"], 1);

    counter.set_mode(Mode::Accept);
    let mut replay: Vec<String> = vec!["replay".into(), "--dead".into()];
    replay.extend(store_args(&store));
    let refs: Vec<&str> = replay.iter().map(String::as_str).collect();
    assert_eq!(inbox_json(&refs)["replayed"], 1);
    wait_for("the replayed delivery done", || {
        (store.statuses().get(&id).map(String::as_str) == Some("done")).then_some(())
    });
    let hits = counter.hits();
    assert_eq!(hits.len(), 4);
    assert_eq!(hits[3].attempt, 1, "a replay starts the attempts again");
    assert_eq!(hits[3].answered, Mode::Accept);

    // Ctrl-C / SIGTERM: stops and exits 0.
    assert_eq!(serve.terminate(), Some(0));
}

#[test]
fn several_workers_keep_the_order_of_each_call() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("inbox.db").display().to_string();
    let rt = runtime();
    let counter = Counter::start(&rt);

    // Everything is stored first (ingest only), so that the workers find many calls at once.
    let serve = InboxProcess::serve(&["--db", &db, "--no-workers"]);
    let c = client();
    let kinds = [
        "pre-conversation",
        "post-conversation",
        "analytics-completed",
    ];
    rt.block_on(async {
        for call in 0..12u64 {
            let call_id = format!("CALL-17000000{call:05}-0rder0");
            for (k, kind) in kinds.iter().enumerate() {
                let id = delivery_id(0x3a2, call * 3 + k as u64);
                let (body, sig) = delivery(&id, &call_id, kind);
                assert_eq!(post(&c, &serve.url, body, &sig).await, Some(200));
            }
        }
    });
    assert_eq!(serve.terminate(), Some(0));

    let work = InboxProcess::work(&[
        "--db",
        &db,
        "--forward",
        &counter.url,
        "--workers",
        "6",
        "--poll",
        "0.02",
    ]);
    wait_for("all 36 forwarded", || {
        (counter.accepted().len() == 36).then_some(())
    });
    let mut per_call: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for h in counter.hits() {
        per_call
            .entry(h.call_id.clone())
            .or_default()
            .push(h.event_type.clone());
    }
    assert_eq!(per_call.len(), 12);
    for (call, order) in &per_call {
        assert_eq!(order, &kinds.map(String::from).to_vec(), "order of {call}");
    }
    assert_eq!(work.terminate(), Some(0));
}

#[test]
fn a_killed_workers_lease_comes_back() {
    let dir = tempfile::tempdir().unwrap();
    let store = temp_db(dir.path());
    let db = dir.path().join("inbox.db").display().to_string();
    let rt = runtime();
    let counter = Counter::start(&rt);
    counter.set_mode(Mode::Hang);

    let serve = InboxProcess::serve(&["--db", &db, "--no-workers"]);
    let id = delivery_id(0x3a3, 1);
    let (body, sig) = delivery(&id, "CALL-1700000000001-1ea5e0", "post-conversation");
    assert_eq!(
        rt.block_on(post(&client(), &serve.url, body, &sig)),
        Some(200)
    );

    let lease = [
        "--db",
        &db,
        "--forward",
        &counter.url,
        "--workers",
        "1",
        "--lease",
        "1",
        "--poll",
        "0.02",
    ];
    let first = InboxProcess::work(&lease);
    wait_for("the first worker holding the delivery", || {
        (counter.hits().len() == 1).then_some(())
    });
    assert_eq!(store.statuses()[&id], "leased");
    first.kill();

    counter.set_mode(Mode::Accept);
    let second = InboxProcess::work(&lease);
    wait_for("the delivery done by the second worker", || {
        (store.statuses().get(&id).map(String::as_str) == Some("done")).then_some(())
    });
    let hits = counter.hits();
    assert_eq!(hits.len(), 2);
    assert_eq!(
        hits[1].attempt, 2,
        "the expired lease counted as an attempt"
    );
    drop(second);
    drop(serve);
}

/// Runs the binary; gives (status, stdout, stderr).
fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(bin())
        .args(args)
        .env_remove("ATOMS_WEBHOOK_SECRET")
        .env_remove("ATOMS_INBOX_DATABASE_URL")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn errors_are_one_line_with_the_right_status() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("inbox.db").display().to_string();
    let one_line = |(code, _out, err): (Option<i32>, String, String), want: i32| {
        assert_eq!(code, Some(want), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.starts_with("error: "), "{err}");
        err
    };
    one_line(run(&["inbox", "serve", "--db", &db]), 2);
    one_line(run(&["inbox", "work", "--db", &db]), 2);
    one_line(run(&["inbox", "replay", "--db", &db]), 2);
    one_line(run(&["inbox", "list", "--db", &db, "--status", "lost"]), 2);
    one_line(
        run(&[
            "inbox",
            "serve",
            "--db",
            &db,
            "--secret",
            "s",
            "--forward",
            "ftp://x",
        ]),
        2,
    );
    let err = one_line(
        run(&["inbox", "show", "6a0000000000000000000001", "--db", &db]),
        1,
    );
    assert!(err.contains("no delivery"), "{err}");
    let err = one_line(
        run(&["inbox", "replay", "6a0000000000000000000001", "--db", &db]),
        1,
    );
    assert!(err.contains("6a0000000000000000000001"), "{err}");
    let missing = dir
        .path()
        .join("no/such/dir/inbox.db")
        .display()
        .to_string();
    one_line(run(&["inbox", "stats", "--db", &missing]), 1);
    // An empty inbox lists nothing and counts zeros.
    let (code, out, _) = run(&["inbox", "list", "--db", &db]);
    assert_eq!((code, out.trim()), (Some(0), "no deliveries"));
    let stats = inbox_json(&["stats", "--db", &db]);
    assert_eq!(stats["by_status"]["pending"], 0);
}

#[test]
fn refusals_are_counted_not_stored_and_unparseable_bodies_are_kept_dead() {
    let dir = tempfile::tempdir().unwrap();
    let store = temp_db(dir.path());
    let db = dir.path().join("inbox.db").display().to_string();
    let serve = InboxProcess::serve(&["--db", &db, "--no-workers", "--max-body", "1000"]);
    let rt = runtime();
    let c = client();
    let id = delivery_id(0x3a4, 1);
    let (body, sig) = delivery(&id, "CALL-1700000000001-4ef05e", "pre-conversation");
    let statuses = rt.block_on(async {
        let wrong = "0".repeat(64);
        let big = vec![b'x'; 2000];
        let big_sig = atoms_webhook_models::sign(
            &atoms_webhook_models::SigningSecret::new(inbox_common::SECRET),
            &big,
        );
        let junk = b"signed but not json".to_vec();
        let junk_sig = atoms_webhook_models::sign(
            &atoms_webhook_models::SigningSecret::new(inbox_common::SECRET),
            &junk,
        );
        let get = c.get(&serve.url).send().await.unwrap().status().as_u16();
        let missing = c
            .post(&serve.url)
            .body(body.clone())
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        vec![
            post(&c, &serve.url, body.clone(), &wrong).await,
            post(&c, &serve.url, big, &big_sig).await,
            Some(get),
            Some(missing),
            post(&c, &serve.url, junk, &junk_sig).await,
            post(&c, &serve.url, body, &sig).await,
        ]
    });
    assert_eq!(
        statuses,
        [
            Some(401),
            Some(413),
            Some(405),
            Some(401),
            Some(200),
            Some(200)
        ]
    );
    let stats = store.stats();
    assert_eq!(stats["rejections"]["bad_signature"], 1, "{stats}");
    assert_eq!(stats["rejections"]["too_large"], 1, "{stats}");
    assert_eq!(stats["rejections"]["method_not_allowed"], 1, "{stats}");
    assert_eq!(stats["rejections"]["missing_signature"], 1, "{stats}");
    assert_eq!(stats["unparseable"], 1, "{stats}");
    let stored = store.statuses();
    assert_eq!(
        stored.len(),
        2,
        "only the authentic bodies are stored: {stored:?}"
    );
    assert_eq!(stored[&id], "pending");
    let dead: Vec<&String> = stored
        .iter()
        .filter(|(k, s)| k.starts_with("sha256:") && s.as_str() == "dead")
        .map(|(k, _)| k)
        .collect();
    assert_eq!(dead.len(), 1, "{stored:?}");
    // The raw body comes back byte for byte.
    let out = Command::new(bin())
        .args(["inbox", "show", dead[0], "--body", "--db", &db])
        .output()
        .unwrap();
    assert_eq!(out.stdout, b"signed but not json");
    assert_eq!(serve.terminate(), Some(0));
}

#[test]
fn exec_gets_the_body_on_stdin_and_its_exit_status_decides() {
    let dir = tempfile::tempdir().unwrap();
    let store = temp_db(dir.path());
    let db = dir.path().join("inbox.db").display().to_string();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    // Writes each body to a file named after its id and attempt; a body of a call ending in
    // "-fa11ed" fails.
    let script = format!(
        "f={}/\"$ATOMS_DELIVERY_ID.$ATOMS_DELIVERY_ATTEMPT\"; cat > \"$f\"; \
         if grep -q fa11ed \"$f\"; then exit 3; fi",
        out.display()
    );
    let serve = InboxProcess::serve(&[
        "--db",
        &db,
        "--exec",
        &script,
        "--workers",
        "2",
        "--max-attempts",
        "2",
        "--backoff",
        "0.02",
        "--poll",
        "0.02",
    ]);
    let rt = runtime();
    let c = client();
    let ok_id = delivery_id(0x3a5, 1);
    let bad_id = delivery_id(0x3a5, 2);
    let (ok_body, ok_sig) = delivery(&ok_id, "CALL-1700000000001-0c0c0c", "pre-conversation");
    let (bad_body, bad_sig) = delivery(&bad_id, "CALL-1700000000002-fa11ed", "pre-conversation");
    rt.block_on(async {
        assert_eq!(
            post(&c, &serve.url, ok_body.clone(), &ok_sig).await,
            Some(200)
        );
        assert_eq!(post(&c, &serve.url, bad_body, &bad_sig).await, Some(200));
    });
    wait_for("one done, one dead", || {
        let s = store.statuses();
        (s.get(&ok_id).map(String::as_str) == Some("done")
            && s.get(&bad_id).map(String::as_str) == Some("dead"))
        .then_some(())
    });
    assert_eq!(
        std::fs::read(out.join(format!("{ok_id}.1"))).unwrap(),
        ok_body
    );
    assert!(out.join(format!("{bad_id}.1")).exists());
    assert!(out.join(format!("{bad_id}.2")).exists());
    let shown = inbox_json(&["show", &bad_id, "--db", &db]);
    assert!(
        shown["lastError"]
            .as_str()
            .unwrap_or_default()
            .contains("exit"),
        "{shown}"
    );
    assert_eq!(serve.terminate(), Some(0));
}
