//! The `atoms-webhook` binary against a server that answers about the wrong webhook: it acts
//! only on the id it was given. After the mismatch no DELETE, PATCH or POST reaches the server
//! (the server counts), nothing is printed on stdout (no secret, no "deleted"), and the exit
//! status is 1: the bad data came from the server, it is not a usage error (2).

// Shared with the tests package (`tests/src/faulty.rs`); only some of it is used here.
#[allow(dead_code)]
#[path = "../../../tests/src/faulty.rs"]
mod faulty;

use std::process::{Command, Stdio};

use faulty::{Behavior, FaultServer, Reply};

const KEY: &str = "cli-wrong-id-key";
const ASKED: &str = "64f0c0ffee00000000000aaa";
const OTHER: &str = "64f0c0ffee00000000000bbb";
const AGENT: &str = "60d0fe4f5311236168a109ca";
const OTHER_SECRET: &str = "whsec-of-the-other-webhook";

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    /// The request lines the server received.
    requests: Vec<String>,
}

impl Run {
    /// Exit 1, one `error:` line naming both ids, nothing on stdout, no secret anywhere.
    fn refused(&self, label: &str) -> &Self {
        assert_eq!(self.code, Some(1), "{label}: {:?}", self.stderr);
        assert!(self.stdout.is_empty(), "{label}: stdout {:?}", self.stdout);
        let lines: Vec<&str> = self.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{label}: {:?}", self.stderr);
        assert!(lines[0].starts_with("error: "), "{label}: {:?}", lines[0]);
        assert!(
            !self.stderr.contains(OTHER_SECRET),
            "{label}: {}",
            self.stderr
        );
        self
    }

    fn writes(&self) -> Vec<&str> {
        self.requests
            .iter()
            .map(String::as_str)
            .filter(|r| !r.starts_with("GET "))
            .collect()
    }
}

fn run(script: Vec<Behavior>, args: &[&str]) -> Run {
    let server = FaultServer::start(script);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_atoms-webhook"));
    for var in ["ATOMS_WEBHOOK_SECRET", "RUST_LOG", "NO_COLOR"] {
        cmd.env_remove(var);
    }
    let out = cmd
        .env("SMALLEST_API_KEY", KEY)
        .env("ATOMS_BASE_URL", server.url())
        .args(["--timeout", "5"])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        requests: server.requests().iter().map(ToString::to_string).collect(),
    }
}

/// Webhook `id` as a by-id answer, with an agent subscribed and a signing secret.
fn webhook(id: &str) -> Behavior {
    Behavior::Respond(Reply::json(
        200,
        &format!(
            r#"{{"status":true,"data":{{"_id":"{id}","decryptedSecretKey":"{OTHER_SECRET}","subscriptions":[{{"_id":"s1","agentId":"{AGENT}","eventType":"post-conversation"}}]}}}}"#
        ),
    ))
}

fn json(status: u16, body: &str) -> Behavior {
    Behavior::Respond(Reply::json(status, body))
}

#[test]
fn cascade_delete_of_a_answered_with_b_deletes_nothing() {
    for extra in [&[][..], &["--json"][..]] {
        let mut args = vec!["webhooks", "delete", ASKED, "--cascade", "--yes"];
        args.extend_from_slice(extra);
        // What a cascade of B would need next, should the CLI go on.
        let r = run(
            vec![
                webhook(OTHER),
                json(200, r#"{"status":true,"data":[]}"#),
                json(200, r#"{"status":true,"data":"cleared"}"#),
                json(200, r#"{"status":true,"data":"deleted"}"#),
            ],
            &args,
        );
        r.refused("cascade");
        assert_eq!(r.requests, [format!("GET /webhook?webhookId={ASKED}")]);
        assert!(r.writes().is_empty());
        assert!(
            r.stderr.contains(ASKED) && r.stderr.contains(OTHER),
            "{}",
            r.stderr
        );
        assert!(r.stderr.contains("nothing was changed"), "{}", r.stderr);
    }
}

#[test]
fn secret_of_a_answered_with_b_prints_nothing() {
    for json_flag in [false, true] {
        let mut args = vec!["secret", ASKED];
        if json_flag {
            args.push("--json");
        }
        let r = run(vec![webhook(OTHER)], &args);
        r.refused("secret");
        assert_eq!(r.requests.len(), 1);
    }
}

#[test]
fn update_of_a_answered_with_b_is_a_failure() {
    let r = run(
        vec![json(200, &format!(r#"{{"status":true,"data":"{OTHER}"}}"#))],
        &["webhooks", "update", ASKED, "--description", "new"],
    );
    r.refused("update");
    assert_eq!(r.writes(), [format!("PATCH /webhook/{ASKED}")]);
    assert!(!r.stderr.contains("updated webhook"), "{}", r.stderr);
}

#[test]
fn bad_data_from_the_server_exits_1_not_2() {
    // An id with whitespace in the answer to a create.
    let r = run(
        vec![json(201, r#"{"status":true,"data":"64f0 c0ffee"}"#)],
        &["webhooks", "create", "--url", "https://example.com/h"],
    );
    r.refused("create whitespace id");
    assert!(r.stderr.contains("probably created"), "{}", r.stderr);
    // An agent id with whitespace in the webhook a cascade reads: stops before any write.
    let r = run(
        vec![json(
            200,
            &format!(
                r#"{{"status":true,"data":{{"_id":"{ASKED}","subscriptions":[{{"_id":"s","agentId":"a b"}}]}}}}"#
            ),
        )],
        &["webhooks", "delete", ASKED, "--cascade", "--yes"],
    );
    r.refused("cascade whitespace agent");
    assert!(r.writes().is_empty(), "{:?}", r.requests);
    // An answer that cannot be decoded.
    let r = run(
        vec![json(200, r#"{"status":true,"data":{"url":5}}"#)],
        &["webhooks", "get", ASKED],
    );
    r.refused("undecodable");
}
