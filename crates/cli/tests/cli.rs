//! End-to-end tests of the `atoms-webhook` binary against the emulator on 127.0.0.1.
//!
//! Every test starts its own emulator in-process; spawned children (`listen`, `emulate`) are
//! killed by [`Child`]'s `Drop`, so nothing outlives a test, even a failing one.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

// The fault server of the tests package, for its `Refused` port (only that part is used).
#[allow(dead_code)]
#[path = "../../../tests/src/faulty.rs"]
mod faulty;

use atoms_webhook_emulator::{CallOptions, DeliveryOutcome, Emulator};
use atoms_webhook_models::{sign, SigningSecret, WebhookId};
use serde_json::Value;

const KEY: &str = "cli-test-key";
const AGENT: &str = "60d0fe4f5311236168a109ca";
const AGENT_2: &str = "60d0fe4f5311236168a109cb";
const UNKNOWN_ID: &str = "0123456789abcdef01234567";
const SECRET: &str = "whsec-cli-test";

fn emulator() -> Emulator {
    Emulator::builder()
        .api_key(KEY)
        .delivery_timeout(Duration::from_secs(3))
        .start_background()
        .expect("emulator starts")
}

/// The binary with a clean environment: no key, no base URL, no colour, no tracing.
fn bare() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_atoms-webhook"));
    for var in [
        "SMALLEST_API_KEY",
        "ATOMS_BASE_URL",
        "ATOMS_WEBHOOK_SECRET",
        "RUST_LOG",
        "NO_COLOR",
    ] {
        cmd.env_remove(var);
    }
    cmd.stdin(Stdio::null());
    cmd
}

/// The binary pointed at `emu` with its key, and a short timeout.
fn at(emu: &Emulator) -> Command {
    let mut cmd = bare();
    cmd.env("ATOMS_BASE_URL", emu.url())
        .env("SMALLEST_API_KEY", KEY)
        .args(["--timeout", "5"]);
    cmd
}

/// What a finished command gave back.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn of(output: Output) -> Self {
        Self {
            code: output.status.code().expect("exited, not killed"),
            stdout: String::from_utf8(output.stdout).expect("utf-8 stdout"),
            stderr: String::from_utf8(output.stderr).expect("utf-8 stderr"),
        }
    }

    /// Asserts success and no stderr; gives stdout.
    fn ok(self) -> String {
        assert_eq!(
            self.code, 0,
            "stdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        assert!(self.stderr.is_empty(), "stderr: {}", self.stderr);
        self.stdout
    }

    /// Asserts this exit status and exactly one `error:` line on stderr; gives that line.
    fn fails(self, code: i32) -> String {
        assert_eq!(
            self.code, code,
            "stdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        let lines: Vec<&str> = self.stderr.lines().collect();
        assert_eq!(
            lines.len(),
            1,
            "one stderr line expected: {:?}",
            self.stderr
        );
        assert!(lines[0].starts_with("error: "), "{:?}", lines[0]);
        assert!(!self.stderr.contains("panicked"), "{}", self.stderr);
        lines[0].to_owned()
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.stdout))
    }
}

fn run(mut cmd: Command, args: &[&str]) -> Run {
    Run::of(cmd.args(args).output().expect("binary runs"))
}

fn run_stdin(mut cmd: Command, args: &[&str], input: &[u8]) -> Run {
    let mut child = cmd
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input)
        .expect("write stdin");
    Run::of(child.wait_with_output().expect("binary ends"))
}

/// Creates a webhook through the CLI; gives its id.
fn create(emu: &Emulator, url: &str, extra: &[&str]) -> String {
    let mut args = vec!["webhooks", "create", "--url", url, "--description", "test"];
    args.extend_from_slice(extra);
    let id = run(at(emu), &args).ok().trim().to_owned();
    assert_eq!(id.len(), 24, "an ObjectId: {id:?}");
    id
}

fn secret_of(emu: &Emulator, id: &str) -> String {
    emu.webhooks()
        .into_iter()
        .find(|w| w.id == id)
        .and_then(|w| w.decrypted_secret_key)
        .expect("webhook with a secret")
        .expose()
        .to_owned()
}

/// A base URL nothing listens on, reserved while the value lives (no bind-then-drop race).
fn dead() -> faulty::Refused {
    faulty::Refused::new()
}

/// A spawned child whose output is collected line by line; killed on drop.
struct Child {
    child: std::process::Child,
    stdout: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<Vec<String>>>,
    first_line: mpsc::Receiver<String>,
}

impl Child {
    fn spawn(mut cmd: Command, args: &[&str]) -> Self {
        let mut child = cmd
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("binary runs");
        let (tx, first_line) = mpsc::channel();
        let stdout = collect(child.stdout.take().expect("stdout"), Some(tx));
        let stderr = collect(child.stderr.take().expect("stderr"), None);
        Self {
            child,
            stdout,
            stderr,
            first_line,
        }
    }

    /// The first stdout line (the `listening on ...` banner).
    fn banner(&self) -> String {
        self.first_line
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|_| panic!("no banner; stderr: {:?}", self.stderr()))
    }

    /// The URL at the end of the banner.
    fn url(&self) -> String {
        let banner = self.banner();
        let start = banner.find("http://").expect("a URL in the banner");
        banner[start..]
            .split_whitespace()
            .next()
            .unwrap()
            .to_owned()
    }

    fn stdout(&self) -> String {
        self.stdout.lock().unwrap().join("\n")
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().join("\n")
    }

    /// Waits until `pred` holds for stdout (or stderr), up to 10 s.
    fn wait_for(&self, what: &str, pred: impl Fn(&str, &str) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if pred(&self.stdout(), &self.stderr()) {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!(
            "timed out waiting for {what}\nstdout: {}\nstderr: {}",
            self.stdout(),
            self.stderr()
        );
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn collect(
    stream: impl Read + Send + 'static,
    first: Option<mpsc::Sender<String>>,
) -> Arc<Mutex<Vec<String>>> {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = lines.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if let Some(tx) = &first {
                let _ = tx.send(line.clone());
            }
            sink.lock().unwrap().push(line);
        }
    });
    lines
}

fn listen(secret: &str, extra: &[&str]) -> Child {
    let mut args = vec!["listen", "--port", "0", "--secret", secret];
    args.extend_from_slice(extra);
    Child::spawn(bare(), &args)
}

fn temp_file(name: &str, contents: &[u8]) -> PathBuf {
    let path =
        std::env::temp_dir().join(format!("atoms-webhook-cli-{}-{name}", std::process::id()));
    std::fs::write(&path, contents).expect("temp file");
    path
}

fn post(url: &str, body: &[u8], signature: Option<&str>) -> u16 {
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(5)))
        .build()
        .new_agent();
    let mut request = agent.post(url).header("content-type", "application/json");
    if let Some(sig) = signature {
        request = request.header("x-signature", sig);
    }
    request
        .send(body)
        .expect("receiver answers")
        .status()
        .as_u16()
}

// ----- webhooks ---------------------------------------------------------------------------------

#[test]
fn webhooks_create_list_get_update_delete() {
    let emu = emulator();
    assert_eq!(run(at(&emu), &["webhooks", "list"]).ok(), "no webhooks\n");

    let pre_post = format!("{AGENT}:pre,{AGENT}:post");
    let id = create(
        &emu,
        "https://example.com/a",
        &[
            "--event",
            &pre_post,
            "--agent",
            AGENT_2,
            "--event",
            "analytics",
        ],
    );
    let secret = secret_of(&emu, &id);
    let webhook = &emu.webhooks()[0];
    assert_eq!(webhook.agent_ids().len(), 2);
    assert_eq!(webhook.subscription_list().len(), 3);

    // Human list: an aligned table, the secret redacted.
    let list = run(at(&emu), &["webhooks", "list"]).ok();
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 2, "{list}");
    assert!(lines[0].starts_with("ID "), "{list}");
    for column in ["URL", "STATUS", "AGENTS", "EVENTS", "SECRET"] {
        assert!(lines[0].contains(column), "{list}");
    }
    assert!(lines[1].starts_with(&id), "{list}");
    assert_eq!(lines[0].find("URL"), lines[1].find("https://"), "{list}");
    assert!(lines[1].contains("enabled") && lines[1].contains("[redacted]"));
    assert!(!list.contains(&secret) && !list.contains('\x1b'), "{list}");

    // JSON list and get: the secret redacted.
    let json = run(at(&emu), &["--json", "webhooks", "list"]);
    assert!(!json.stdout.contains(&secret));
    let json = json.json();
    assert_eq!(json[0]["_id"], id.as_str());
    assert_eq!(json[0]["decryptedSecretKey"], "[redacted]");

    let get = run(at(&emu), &["webhooks", "get", &id]).ok();
    assert!(
        get.contains("[redacted]") && !get.contains(&secret),
        "{get}"
    );
    assert!(get.contains("https://example.com/a"), "{get}");
    let get = run(at(&emu), &["webhooks", "get", &id, "--json"]);
    assert!(!get.stdout.contains(&secret));
    assert_eq!(get.json()["decryptedSecretKey"], "[redacted]");

    // `secret` is the one command that prints it.
    assert_eq!(run(at(&emu), &["secret", &id]).ok(), format!("{secret}\n"));
    let j = run(at(&emu), &["--json", "secret", &id]).json();
    assert_eq!(j["secret"], secret.as_str());

    // Update: URL, description, headers (values redacted on display).
    let out = run(
        at(&emu),
        &[
            "webhooks",
            "update",
            &id,
            "--url",
            "https://example.com/b",
            "--description",
            "renamed",
            "--header",
            "X-Token=tok-123",
        ],
    )
    .ok();
    assert_eq!(out, format!("updated webhook {id}\n"));
    let w = &emu.webhooks()[0];
    assert_eq!(w.url.as_deref(), Some("https://example.com/b"));
    assert_eq!(w.description.as_deref(), Some("renamed"));
    assert_eq!(
        w.custom_headers(),
        vec![("X-Token".to_owned(), "tok-123".to_owned())]
    );
    let get = run(at(&emu), &["webhooks", "get", &id]).ok();
    assert!(
        get.contains("X-Token: [redacted]") && !get.contains("tok-123"),
        "{get}"
    );
    let get = run(at(&emu), &["--json", "webhooks", "get", &id]);
    assert!(!get.stdout.contains("tok-123"), "{}", get.stdout);
    run(at(&emu), &["webhooks", "update", &id, "--clear-headers"]).ok();
    assert!(emu.webhooks()[0].custom_headers().is_empty());

    // Create --json gives the id object; a duplicate URL is refused.
    let j = run(
        at(&emu),
        &[
            "--json",
            "webhooks",
            "create",
            "--url",
            "https://example.com/c",
        ],
    )
    .json();
    let other = j["id"].as_str().expect("id").to_owned();
    let line = run(
        at(&emu),
        &["webhooks", "create", "--url", "https://example.com/c"],
    )
    .fails(1);
    assert!(line.contains("already registered"), "{line}");

    // Plain delete of an unassigned webhook.
    assert_eq!(
        run(at(&emu), &["webhooks", "delete", &other]).ok(),
        format!("deleted webhook {other}\n")
    );
    assert_eq!(emu.webhooks().len(), 1);
}

#[test]
fn delete_of_an_assigned_webhook_names_the_agents_then_cascade_deletes() {
    let emu = emulator();
    let both = format!("{AGENT}:all,{AGENT_2}:post");
    let id = create(&emu, "https://example.com/a", &["--event", &both]);

    let line = run(at(&emu), &["webhooks", "delete", &id]).fails(1);
    assert_eq!(
        line,
        format!("error: webhook {id} is still assigned to 2 agents; use --cascade")
    );

    let out = run(at(&emu), &["webhooks", "delete", &id, "--cascade"]).ok();
    assert!(
        out.starts_with(&format!(
            "deleted webhook {id}: cleared 2 agents, removed 4 subscriptions"
        )),
        "{out}"
    );
    assert!(emu.webhooks().is_empty());
}

#[test]
fn cascade_refuses_to_drop_other_webhooks_without_yes() {
    let emu = emulator();
    let first = create(
        &emu,
        "https://example.com/a",
        &["--agent", AGENT, "--event", "pre"],
    );
    let post_analytics = format!("{AGENT}:post,{AGENT}:analytics");
    let second = create(&emu, "https://example.com/b", &["--event", &post_analytics]);

    let line = run(at(&emu), &["webhooks", "delete", &first, "--cascade"]).fails(1);
    assert!(line.contains("1 agent also has 2 subscriptions"), "{line}");
    assert!(line.contains("add --yes"), "{line}");
    assert_eq!(emu.webhooks().len(), 2, "nothing was deleted");

    let j = run(
        at(&emu),
        &["--json", "webhooks", "delete", &first, "--cascade", "--yes"],
    )
    .json();
    assert_eq!(j["deleted"], true);
    assert_eq!(j["agentsCleared"], 1);
    assert_eq!(j["subscriptionsRemoved"], 3);
    assert_eq!(
        j["agents"][0]["removedOther"].as_array().map(Vec::len),
        Some(2)
    );
    let left = emu.webhooks();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].id, second.as_str());
    assert!(left[0].subscription_list().is_empty());

    // A cascade that fails half way says what it already removed.
    let third = create(
        &emu,
        "https://example.com/c",
        &["--agent", AGENT_2, "--event", "pre"],
    );
    emu.inject(
        atoms_webhook_emulator::Op::DeleteWebhook,
        atoms_webhook_emulator::Fault::status(403),
        1,
    );
    let line = run(at(&emu), &["webhooks", "delete", &third, "--cascade"]).fails(1);
    assert!(
        line.contains("stopped after clearing 1 agent (1 subscription removed)")
            && line.contains("403 Forbidden"),
        "{line}"
    );
    assert_eq!(emu.webhooks().len(), 2);

    // --yes without --cascade is a usage error.
    run(at(&emu), &["webhooks", "delete", &second, "--yes"]).fails(2);
}

// ----- subscriptions ----------------------------------------------------------------------------

#[test]
fn subscriptions_get_set_add_clear() {
    let emu = emulator();
    let hook = create(&emu, "https://example.com/a", &[]);
    let other = create(&emu, "https://example.com/b", &[]);

    assert_eq!(
        run(at(&emu), &["subscriptions", "get", AGENT]).ok(),
        format!("agent {AGENT} has no subscriptions\n")
    );

    run(
        at(&emu),
        &[
            "subscriptions",
            "set",
            AGENT,
            "--webhook",
            &hook,
            "--event",
            "pre",
            "post",
        ],
    )
    .ok();
    let table = run(at(&emu), &["subscriptions", "get", AGENT]).ok();
    assert_eq!(table.lines().count(), 3, "{table}");
    assert!(table.contains("pre-conversation") && table.contains("post-conversation"));

    // Add keeps what the agent has on that webhook.
    let out = run(
        at(&emu),
        &[
            "subscriptions",
            "add",
            AGENT,
            "--webhook",
            &hook,
            "--event",
            "analytics",
        ],
    )
    .ok();
    assert!(out.starts_with("added analytics-completed"), "{out}");
    let j = run(at(&emu), &["--json", "subscriptions", "get", AGENT]).json();
    assert_eq!(j.as_array().map(Vec::len), Some(3));

    // Adding on another webhook would drop those three: refused without --force.
    let line = run(
        at(&emu),
        &[
            "subscriptions",
            "add",
            AGENT,
            "--webhook",
            &other,
            "--event",
            "pre",
        ],
    )
    .fails(1);
    assert!(
        line.contains("3 subscriptions") && line.contains("--force"),
        "{line}"
    );
    assert_eq!(
        run(at(&emu), &["--json", "subscriptions", "get", AGENT])
            .json()
            .as_array()
            .map(Vec::len),
        Some(3),
        "nothing changed"
    );
    let j = run(
        at(&emu),
        &[
            "--json",
            "subscriptions",
            "add",
            AGENT,
            "--webhook",
            &other,
            "--event",
            "pre",
            "--force",
        ],
    )
    .json();
    assert_eq!(j["changed"], true);
    assert_eq!(j["removed"].as_array().map(Vec::len), Some(3));

    // Set replaces; clear removes all.
    run(
        at(&emu),
        &[
            "subscriptions",
            "set",
            AGENT,
            "--webhook",
            &hook,
            "--event",
            "all",
        ],
    )
    .ok();
    let j = run(at(&emu), &["--json", "subscriptions", "get", AGENT]).json();
    let subs = j.as_array().unwrap();
    assert_eq!(subs.len(), 3);
    assert!(subs.iter().all(|s| s["webhookId"] == hook.as_str()));
    let out = run(at(&emu), &["subscriptions", "clear", AGENT]).ok();
    assert!(out.contains("cleared"), "{out}");
    assert!(emu
        .webhooks()
        .iter()
        .all(|w| w.subscription_list().is_empty()));

    // A write to an unknown webhook is a 404 naming it.
    let line = run(
        at(&emu),
        &[
            "subscriptions",
            "set",
            AGENT,
            "--webhook",
            UNKNOWN_ID,
            "--event",
            "pre",
        ],
    )
    .fails(1);
    assert!(line.contains("404") && line.contains(UNKNOWN_ID), "{line}");
}

// ----- errors -----------------------------------------------------------------------------------

#[test]
fn wrong_key_is_a_one_line_401() {
    let emu = emulator();
    let mut cmd = at(&emu);
    cmd.args(["--api-key", "not-the-key"]);
    let line = run(cmd, &["webhooks", "list"]).fails(1);
    assert_eq!(
        line,
        "error: 401 Unauthorized: check SMALLEST_API_KEY (or --api-key)"
    );
    let mut cmd = at(&emu);
    cmd.env("SMALLEST_API_KEY", "also-wrong");
    run(cmd, &["secret", UNKNOWN_ID]).fails(1);
}

#[test]
fn unknown_webhook_is_a_one_line_404() {
    let emu = emulator();
    for args in [
        vec!["webhooks", "get", UNKNOWN_ID],
        vec!["secret", UNKNOWN_ID],
        vec!["webhooks", "delete", UNKNOWN_ID],
        vec!["webhooks", "update", UNKNOWN_ID, "--description", "x"],
    ] {
        let line = run(at(&emu), &args).fails(1);
        assert_eq!(
            line,
            format!("error: 404 Not Found: no webhook with id {UNKNOWN_ID}"),
            "{args:?}"
        );
    }
    let line = run(at(&emu), &["webhooks", "get", "not-an-id"]).fails(1);
    assert!(
        line.contains("400") && line.contains("24 hexadecimal"),
        "{line}"
    );
}

#[test]
fn missing_api_key_is_a_usage_error() {
    let emu = emulator();
    let mut cmd = bare();
    cmd.env("ATOMS_BASE_URL", emu.url());
    let line = run(cmd, &["webhooks", "list"]).fails(2);
    assert_eq!(
        line,
        "error: no API key: pass --api-key or set SMALLEST_API_KEY"
    );
    let mut cmd = bare();
    cmd.env("SMALLEST_API_KEY", "  ");
    run(cmd, &["secret", UNKNOWN_ID]).fails(2);
}

#[test]
fn usage_errors_exit_2_on_one_line() {
    let emu = emulator();
    for args in [
        vec!["webhooks", "frobnicate"],
        vec!["webhooks", "update", UNKNOWN_ID],
        vec!["webhooks", "create"],
        vec![
            "webhooks",
            "create",
            "--url",
            "https://e.com",
            "--event",
            "pre",
        ],
        vec![
            "webhooks",
            "create",
            "--url",
            "https://e.com",
            "--agent",
            AGENT,
        ],
        vec![
            "subscriptions",
            "set",
            AGENT,
            "--webhook",
            UNKNOWN_ID,
            "--event",
            "call-ended",
        ],
        vec!["webhooks", "update", UNKNOWN_ID, "--header", "no-equals"],
        vec!["--timeout", "zero", "webhooks", "list"],
        vec!["--timeout", "-1", "webhooks", "list"],
        vec!["--base-url", "ftp://x", "webhooks", "list"],
        vec!["verify", "--signature", "00"],
    ] {
        let r = run(at(&emu), &args);
        assert!(!r.stderr.contains("Usage:"), "{args:?}: {}", r.stderr);
        r.fails(2);
    }
    assert_eq!(emu.hits(atoms_webhook_emulator::Op::ListWebhooks), 0);
    // Help is not an error.
    let help = run(bare(), &["webhooks", "create", "--help"]).ok();
    assert!(help.contains("[AGENT:]EVENT"), "{help}");
}

#[test]
fn timeouts_and_unreachable_servers_are_one_line() {
    let emu = emulator();
    emu.inject(
        atoms_webhook_emulator::Op::ListWebhooks,
        atoms_webhook_emulator::Fault::delay(Duration::from_secs(3)),
        5,
    );
    let mut cmd = at(&emu);
    cmd.args(["--timeout", "0.3"]);
    let line = run(cmd, &["webhooks", "list"]).fails(1);
    assert!(line.contains("within 0.3 s"), "{line}");

    let down = dead();
    let mut cmd = bare();
    cmd.env("SMALLEST_API_KEY", KEY)
        .args(["--base-url", &down.url()]);
    let line = run(cmd, &["webhooks", "list"]).fails(1);
    assert!(line.contains("could not connect"), "{line}");
}

// ----- listen and trigger -----------------------------------------------------------------------

#[test]
fn listen_and_trigger_round_trip() {
    let receiver = listen(SECRET, &[]);
    let url = format!("{}/atoms", receiver.url());

    let out = run(bare(), &["trigger", "--url", &url, "--secret", SECRET]).ok();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    for (line, kind) in lines.iter().zip([
        "pre-conversation",
        "post-conversation",
        "analytics-completed",
    ]) {
        assert!(line.starts_with(kind) && line.ends_with("200 OK"), "{line}");
    }
    receiver.wait_for("three summaries", |out, _| {
        out.contains("analytics-completed")
    });
    let shown = receiver.stdout();
    for kind in [
        "pre-conversation",
        "post-conversation",
        "analytics-completed",
    ] {
        assert!(shown.contains(&format!("{kind}  call CALL-")), "{shown}");
    }
    assert_eq!(shown.matches("  verified").count(), 3, "{shown}");
    assert!(
        shown.contains("turns 6") && shown.contains("status completed"),
        "{shown}"
    );
    assert!(
        shown.contains("metrics  ") && shown.contains("duration "),
        "{shown}"
    );

    // A wrong secret: trigger reports the 401 and fails; listen says why on stderr.
    let r = run(
        bare(),
        &[
            "trigger",
            "--url",
            &url,
            "--secret",
            "wrong",
            "--event",
            "post-conversation",
        ],
    );
    assert!(r.stdout.contains("401 Unauthorized"), "{}", r.stdout);
    let line = r.fails(1);
    assert!(line.contains("1 of 1 deliveries"), "{line}");
    receiver.wait_for("the rejection", |_, err| err.contains("rejected"));
    let err = receiver.stderr();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("401 signature mismatch"), "{err}");
    assert_eq!(receiver.stdout().matches("  verified").count(), 3);

    // A missing signature and a signed unknown event type.
    assert_eq!(post(&url, b"{}", None), 401);
    receiver.wait_for("missing", |_, err| err.contains("missing signature"));
    let unknown =
        br#"{"id":"d-9","metadata":{"eventType":"call-transferred","callId":"C-9","agentId":"a"}}"#;
    let sig = sign(&SigningSecret::new(SECRET), unknown);
    assert_eq!(post(&url, unknown, Some(&sig)), 200);
    receiver.wait_for("unknown", |out, _| {
        out.contains("unknown event \"call-transferred\"  call C-9")
    });

    // Signed but unparseable: 400.
    let sig = sign(&SigningSecret::new(SECRET), b"not json");
    assert_eq!(post(&url, b"not json", Some(&sig)), 400);
    receiver.wait_for("unparseable", |_, err| err.contains("400 unparseable"));
}

#[test]
fn listen_json_and_forward() {
    let downstream = listen(SECRET, &[]);
    let downstream_url = format!("{}/downstream", downstream.url());
    let front = listen(SECRET, &["--json", "--forward", &downstream_url]);
    let url = format!("{}/in", front.url());

    let out = run(
        bare(),
        &[
            "--json",
            "trigger",
            "--url",
            &url,
            "--secret",
            SECRET,
            "--event",
            "pre,analytics",
        ],
    )
    .ok();
    let sent: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(sent.len(), 2, "{out}");
    assert!(sent.iter().all(|s| s["ok"] == true && s["status"] == 200));

    front.wait_for("two JSON lines", |out, _| out.lines().count() >= 3);
    let lines: Vec<Value> = front
        .stdout()
        .lines()
        .skip(1)
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(lines[0]["kind"], "pre-conversation");
    assert_eq!(lines[1]["kind"], "analytics-completed");
    for (line, s) in lines.iter().zip(&sent) {
        assert_eq!(line["verified"], true);
        assert_eq!(line["deliveryId"], s["deliveryId"]);
        assert_eq!(line["callId"], s["callId"]);
        assert_eq!(line["agentId"], "6a1b2c3d4e5f60718293a4b5");
        assert_eq!(line["event"]["id"], s["deliveryId"]);
        assert_eq!(line["forward"]["status"], 200, "{line}");
    }
    // The forwarded copies verified downstream (same body, same X-Signature).
    downstream.wait_for("forwarded", |out, _| out.contains("analytics-completed"));
    assert_eq!(downstream.stdout().matches("  verified").count(), 2);
}

#[test]
fn listen_refuses_oversized_bodies_with_413() {
    let receiver = listen(SECRET, &["--max-body", "1000"]);
    let base = receiver.url();
    let url = format!("{base}/big");
    let body = vec![b' '; 2000];
    let sig = sign(&SigningSecret::new(SECRET), &body);
    assert_eq!(post(&url, &body, Some(&sig)), 413);
    receiver.wait_for("the rejection", |_, err| err.contains("413"));
    assert!(receiver.stderr().contains("over the 1000-byte limit"));

    // Without a Content-Length (chunked), the limit holds while reading.
    let mut stream = std::net::TcpStream::connect(base.trim_start_matches("http://")).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let chunk = "x".repeat(1500);
    write!(
        stream,
        "POST /big HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nX-Signature: {sig}\r\n\r\n{:x}\r\n{chunk}\r\n0\r\n\r\n",
        chunk.len()
    )
    .unwrap();
    let mut answer = [0u8; 12];
    stream.read_exact(&mut answer).unwrap();
    assert_eq!(&answer, b"HTTP/1.1 413");
}

#[test]
fn trigger_fails_when_the_endpoint_is_down() {
    let down = dead();
    let url = format!("{}/x", down.url());
    let r = run(
        bare(),
        &[
            "trigger",
            "--url",
            &url,
            "--secret",
            SECRET,
            "--timeout",
            "2",
        ],
    );
    assert_eq!(r.stdout.lines().count(), 3, "{}", r.stdout);
    assert!(r.stdout.contains("failed"), "{}", r.stdout);
    let line = r.fails(1);
    assert!(line.contains("3 of 3 deliveries"), "{line}");
}

// ----- verify -----------------------------------------------------------------------------------

#[test]
fn verify_valid_invalid_unparseable() {
    let opts = CallOptions::new().call_id("CALL-1737000000000-abc123");
    let [_, (body, sig), _] = atoms_webhook_models::testkit::SampleCall::generate(&opts)
        .signed_bodies("https://example.com/h", "d", &SigningSecret::new(SECRET));
    assert_eq!(sig, sign(&SigningSecret::new(SECRET), &body));
    let file = temp_file("body.json", &body);
    let file = file.to_str().unwrap();
    let call = "CALL-1737000000000-abc123";

    let out = run(
        bare(),
        &["verify", "--secret", SECRET, "--signature", &sig, file],
    )
    .ok();
    assert_eq!(out, format!("valid: post-conversation call {call}\n"));
    let r = run_stdin(
        bare(),
        &["verify", "--secret", SECRET, "--signature", &sig, "-"],
        &body,
    );
    assert_eq!(r.ok(), format!("valid: post-conversation call {call}\n"));
    let mut cmd = bare();
    cmd.env("ATOMS_WEBHOOK_SECRET", SECRET);
    assert!(run(cmd, &["verify", "--signature", &sig, file])
        .ok()
        .starts_with("valid:"));

    // Mismatch, malformed, missing: exit 1 and the reason.
    let wrong = sign(&SigningSecret::new("other"), &body);
    for (signature, reason) in [
        (wrong.as_str(), "invalid: signature mismatch"),
        ("abc", "invalid: malformed signature"),
        ("", "invalid: missing signature"),
    ] {
        let r = run(
            bare(),
            &["verify", "--secret", SECRET, "--signature", signature, file],
        );
        assert_eq!(r.code, 1, "{signature:?}");
        assert!(r.stdout.starts_with(reason), "{}", r.stdout);
    }
    let j = run(
        bare(),
        &[
            "--json",
            "verify",
            "--secret",
            SECRET,
            "--signature",
            &wrong,
            file,
        ],
    );
    assert_eq!(j.code, 1);
    assert_eq!(j.json()["reason"], "mismatch");

    // Signed but unparseable; unsigned parse only.
    let garbage = b"{\"metadata\": 5}";
    let gsig = sign(&SigningSecret::new(SECRET), garbage);
    let r = run_stdin(
        bare(),
        &["verify", "--secret", SECRET, "--signature", &gsig],
        garbage,
    );
    assert_eq!(r.code, 1);
    assert!(r.stdout.starts_with("invalid: unparseable"), "{}", r.stdout);
    let r = run_stdin(bare(), &["verify"], b"not json");
    assert_eq!(r.code, 1);
    assert!(r.stdout.starts_with("invalid: unparseable"), "{}", r.stdout);
    let out = run(bare(), &["verify", file]).ok();
    assert!(
        out.starts_with(&format!("parsed: post-conversation call {call}")),
        "{out}"
    );

    // An unreadable file is a one-line error.
    let line = run(bare(), &["verify", "/nonexistent/body.json"]).fails(1);
    assert!(line.contains("cannot read"), "{line}");
    let _ = std::fs::remove_file(file);
}

#[test]
fn verify_accepts_every_signature_form() {
    let opts = CallOptions::new();
    let events = atoms_webhook_emulator::sample::call_events(&opts, "https://example.com/h", "d");
    let body = atoms_webhook_emulator::sample::event_body(&events[0]);
    let sig = sign(&SigningSecret::new(SECRET), &body);
    let file = temp_file("forms.json", &body);
    let file = file.to_str().unwrap();
    // What the older doc pages describe, and what people paste from request logs.
    for form in [
        sig.to_uppercase(),
        format!("sha256={sig}"),
        format!("X-Atoms-Signature: sha256={sig}"),
        format!("X-Signature: {sig}"),
    ] {
        let out = run(
            bare(),
            &["verify", "--secret", SECRET, "--signature", &form, file],
        )
        .ok();
        assert!(out.starts_with("valid: pre-conversation"), "{form}: {out}");
    }
    let r = run(
        bare(),
        &[
            "verify",
            "--secret",
            SECRET,
            "--signature",
            &format!("sha256={}", &sig[..60]),
            file,
        ],
    );
    assert_eq!(r.code, 1);
    assert!(
        r.stdout.starts_with("invalid: malformed signature"),
        "{}",
        r.stdout
    );
    let _ = std::fs::remove_file(file);
}

// ----- emulator, deliveries, demo ---------------------------------------------------------------

#[test]
fn a_delivery_to_a_receiver_that_is_down_fails_once() {
    let emu = emulator();
    let down = dead();
    let url = format!("{}/down", down.url());
    let id = create(&emu, &url, &[]);
    run(
        at(&emu),
        &[
            "subscriptions",
            "set",
            AGENT,
            "--webhook",
            &id,
            "--event",
            "post-conversation",
        ],
    )
    .ok();
    let report = emu.simulate_call(CallOptions::new().agent_id(AGENT));
    assert!(!report.all_delivered());
    let to_it: Vec<_> = emu
        .deliveries()
        .into_iter()
        .filter(|d| d.webhook_id == WebhookId::new(id.as_str()))
        .collect();
    assert_eq!(to_it.len(), 1, "exactly one attempt, no retry: {to_it:?}");
    assert!(
        matches!(to_it[0].outcome, DeliveryOutcome::Error { .. }),
        "{:?}",
        to_it[0].outcome
    );
    assert_eq!(to_it[0].call_id, report.call_id);
}

#[test]
fn emulate_serves_the_api_until_killed() {
    let emulator = Child::spawn(bare(), &["emulate", "--listen", "127.0.0.1:0"]);
    let url = emulator.url();
    let mut cmd = bare();
    cmd.env("ATOMS_BASE_URL", &url)
        .env("SMALLEST_API_KEY", "test-api-key");
    assert_eq!(run(cmd, &["webhooks", "list"]).ok(), "no webhooks\n");
    let mut cmd = bare();
    cmd.args(["--base-url", &url, "--api-key", "wrong"]);
    run(cmd, &["webhooks", "list"]).fails(1);
}

#[test]
fn demo_shows_three_verified_events() {
    let r = run(bare(), &["demo"]);
    let out = r.ok();
    for step in 1..=7 {
        assert!(out.contains(&format!("{step}/7 ")), "{out}");
    }
    assert!(
        out.contains("1/7 started emulator at http://127.0.0.1:"),
        "{out}"
    );
    assert!(out.contains("3/3 events verified"), "{out}");
    assert_eq!(out.matches("  verified\n").count(), 3, "{out}");
    assert!(
        out.lines().last().unwrap().starts_with("demo complete"),
        "{out}"
    );
}

#[test]
fn demo_lost_shows_a_lost_delivery_recovered() {
    let out = run(bare(), &["demo", "--lost"]).ok();
    for step in 1..=6 {
        assert!(out.contains(&format!("{step}/6 ")), "{out}");
    }
    assert_eq!(
        out.matches("handler: pre-conversation - delivered by Atoms")
            .count(),
        1,
        "{out}"
    );
    for event in ["post-conversation", "analytics-completed"] {
        assert_eq!(
            out.matches(&format!("handler: {event} - RECOVERED"))
                .count(),
            1,
            "{out}"
        );
    }
    assert!(out.contains("2 item(s) recovered"), "{out}");
    assert!(
        out.lines()
            .last()
            .unwrap()
            .starts_with("demo complete: 1 delivered + 2 recovered"),
        "{out}"
    );
}

#[test]
fn tracing_carries_no_secret_body_or_phone_number() {
    let emu = emulator();
    let id = create(
        &emu,
        "https://example.com/a",
        &["--agent", AGENT, "--event", "all"],
    );
    let secret = secret_of(&emu, &id);
    let traced = |mut cmd: Command| {
        cmd.env("RUST_LOG", "trace");
        cmd
    };
    let mut logs = String::new();
    for args in [
        vec!["secret", id.as_str()],
        vec!["webhooks", "list"],
        vec!["webhooks", "get", id.as_str()],
        vec!["--json", "webhooks", "list"],
    ] {
        let r = run(traced(at(&emu)), &args);
        assert_eq!(r.code, 0, "{}", r.stderr);
        logs.push_str(&r.stderr);
    }
    assert!(logs.contains("call succeeded"), "tracing is on: {logs}");

    let receiver = Child::spawn(
        traced(bare()),
        &["listen", "--port", "0", "--secret", SECRET],
    );
    let url = format!("{}/t", receiver.url());
    let r = run(
        traced(bare()),
        &["trigger", "--url", &url, "--secret", SECRET],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    logs.push_str(&r.stderr);
    receiver.wait_for("three events", |out, _| {
        out.matches("  verified").count() == 3
    });
    logs.push_str(&receiver.stderr());

    let (from, to) = CallOptions::new().numbers();
    for needle in [
        KEY,
        secret.as_str(),
        SECRET,
        "Bearer",
        "authorization",
        from.as_str(),
        to.as_str(),
        "transcript",
        "\"metadata\"",
    ] {
        assert!(!logs.contains(needle), "{needle:?} in the logs:\n{logs}");
    }
}
