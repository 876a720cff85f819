//! The `atoms-webhook` binary against a server that misbehaves on purpose (the fault server of
//! the tests package, included as source): every fault ends with exit status 1, exactly one
//! `error:` line on stderr, no panic, nothing on stdout, after exactly the number of requests
//! the server counted; a create that meets a timeout or a 5xx is sent once.
//!
//! The CLI uses the SDK's default retry policy (two retries, 250 ms then 500 ms, jittered), so
//! an idempotent request is tried three times.

// Shared with the tests package (`tests/src/faulty.rs`); only some of it is used here.
#[allow(dead_code)]
#[path = "../../../tests/src/faulty.rs"]
mod faulty;

use std::process::{Command, Stdio};
use std::time::Duration;

use faulty::{Behavior, FaultServer, Refused, Reply};

const KEY: &str = "cli-fault-key";
/// Requests of an idempotent command: the first and two retries.
const MAX_ATTEMPTS: usize = 3;

/// What one run of the binary came to.
struct Outcome {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    /// Requests the server counted, and their request lines.
    attempts: usize,
    requests: Vec<String>,
}

impl Outcome {
    /// Exit status 1, one `error:` line, no panic, no output; gives the line.
    fn one_line_failure(&self, label: &str) -> &str {
        assert_eq!(
            self.code,
            Some(1),
            "{label}: exit status; stdout {:?}; stderr {:?}",
            self.stdout,
            self.stderr
        );
        assert!(
            !self.stderr.contains("panicked") && !self.stderr.contains("internal error"),
            "{label}: {}",
            self.stderr
        );
        let lines: Vec<&str> = self.stderr.lines().collect();
        assert_eq!(
            lines.len(),
            1,
            "{label}: one stderr line: {:?}",
            self.stderr
        );
        assert!(lines[0].starts_with("error: "), "{label}: {:?}", lines[0]);
        assert!(self.stdout.is_empty(), "{label}: stdout {:?}", self.stdout);
        assert!(
            !self.stderr.contains(KEY),
            "{label}: the key in {:?}",
            self.stderr
        );
        lines[0]
    }

    fn attempts(&self, label: &str, n: usize, request_line: &str) -> &Self {
        assert_eq!(
            self.attempts, n,
            "{label}: the server counted {:?}; stderr {:?}",
            self.requests, self.stderr
        );
        assert!(
            self.requests.iter().all(|r| r == request_line),
            "{label}: {:?}",
            self.requests
        );
        self
    }
}

/// Runs `atoms-webhook --timeout SECS ARGS...` against `url`, with a clean environment.
fn cli(url: &str, timeout: &str, args: &[&str]) -> (Option<i32>, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_atoms-webhook"));
    for var in ["ATOMS_WEBHOOK_SECRET", "RUST_LOG", "NO_COLOR"] {
        cmd.env_remove(var);
    }
    let out = cmd
        .env("SMALLEST_API_KEY", KEY)
        .env("ATOMS_BASE_URL", url)
        .args(["--timeout", timeout])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs the CLI against a fresh server playing `script`; every behaviour must be used.
fn scripted(label: &str, script: Vec<Behavior>, timeout: &str, args: &[&str]) -> Outcome {
    let server = FaultServer::start(script);
    let (code, stdout, stderr) = cli(&server.url(), timeout, args);
    let outcome = Outcome {
        code,
        stdout,
        stderr,
        attempts: server.attempts(),
        requests: server.requests().iter().map(ToString::to_string).collect(),
    };
    assert_eq!(
        server.remaining(),
        0,
        "{label}: script not used up; stderr {:?}",
        outcome.stderr
    );
    println!(
        "{label:<28} server {} -> exit {:?} {}",
        outcome.attempts,
        outcome.code,
        outcome.stderr.trim_end()
    );
    outcome
}

const LIST: [&str; 2] = ["webhooks", "list"];
const CREATE: [&str; 5] = [
    "webhooks",
    "create",
    "--url",
    "https://example.com/fault",
    "--description",
];

fn create_args() -> Vec<&'static str> {
    let mut v = CREATE.to_vec();
    v.push("fault");
    v
}

fn bad_gateway() -> Behavior {
    Behavior::Respond(
        Reply::new(502)
            .header("content-type", "text/html")
            .body("<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>nginx</body>\r\n</html>\r\n"),
    )
}

fn silent() -> Behavior {
    Behavior::Silent {
        max: Duration::from_secs(10),
    }
}

#[test]
fn html_502() {
    let o = scripted("list 502", vec![bad_gateway(); MAX_ATTEMPTS], "5", &LIST);
    let line = o
        .attempts("list 502", MAX_ATTEMPTS, "GET /webhook")
        .one_line_failure("list 502");
    assert!(line.contains("502"), "{line}");

    // A create that met a 5xx may have been carried out: sent once.
    let o = scripted("create 502", vec![bad_gateway()], "5", &create_args());
    let line = o
        .attempts("create 502", 1, "POST /webhook")
        .one_line_failure("create 502");
    assert!(line.contains("502"), "{line}");
}

#[test]
fn empty_200() {
    let o = scripted(
        "list empty 200",
        vec![Behavior::Respond(Reply::new(200))],
        "5",
        &LIST,
    );
    o.attempts("list empty 200", 1, "GET /webhook")
        .one_line_failure("list empty 200");
}

#[test]
fn status_false_and_a_body_cut_short() {
    let o = scripted(
        "list status false",
        vec![Behavior::Respond(Reply::json(
            200,
            r#"{"status":false,"errors":["Organization suspended"]}"#,
        ))],
        "5",
        &LIST,
    );
    let line = o
        .attempts("list status false", 1, "GET /webhook")
        .one_line_failure("list status false");
    assert!(line.contains("Organization suspended"), "{line}");

    let cut = Behavior::Truncated {
        reply: Reply::json(
            200,
            r#"{"status":true,"data":[{"_id":"64f0c0ffee0000000000abcd"}]}"#,
        ),
        sent: 10,
    };
    let o = scripted("list cut", vec![cut; MAX_ATTEMPTS], "5", &LIST);
    o.attempts("list cut", MAX_ATTEMPTS, "GET /webhook")
        .one_line_failure("list cut");
}

#[test]
fn timeout() {
    let o = scripted("list silent", vec![silent(); MAX_ATTEMPTS], "0.5", &LIST);
    let line = o
        .attempts("list silent", MAX_ATTEMPTS, "GET /webhook")
        .one_line_failure("list silent");
    assert!(line.contains("0.5 s"), "{line}");

    let o = scripted("create silent", vec![silent()], "0.5", &create_args());
    let line = o
        .attempts("create silent", 1, "POST /webhook")
        .one_line_failure("create silent");
    assert!(line.contains("may have been created"), "{line}");
}

#[test]
fn connection_refused() {
    let (code, stdout, stderr) = cli(&Refused::new().url(), "5", &LIST);
    let o = Outcome {
        code,
        stdout,
        stderr,
        attempts: 0,
        requests: Vec::new(),
    };
    println!(
        "{:<28} server - -> exit {:?} {}",
        "list refused",
        o.code,
        o.stderr.trim_end()
    );
    o.one_line_failure("list refused");
}

#[test]
fn a_50_mib_body() {
    for chunked in [false, true] {
        let label = format!("list 50 MiB chunked={chunked}");
        let o = scripted(
            &label,
            vec![Behavior::Large {
                len: 50 * 1024 * 1024,
                chunked,
            }],
            "5",
            &LIST,
        );
        // Over the response size limit: the same answer would come again, so one request.
        o.attempts(&label, 1, "GET /webhook")
            .one_line_failure(&label);
    }
}
