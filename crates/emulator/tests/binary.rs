//! The `atoms-webhook-emulator` binary: arguments, the listening line, logs, and SIGTERM.
#![cfg(unix)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

const AGENT: &str = "60d0fe4f5311236168a109ca";

/// One HTTP/1.1 request over a fresh connection; the status and body.
fn request(addr: &str, method: &str, path: &str, key: &str, body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {key}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let status = text[9..12].parse().unwrap();
    (status, text.split_once("\r\n\r\n").unwrap().1.to_owned())
}

/// `HOST:PORT` of the URL in the banner.
fn addr_in(banner: &str) -> String {
    let start = banner.find("http://").expect("a URL in the banner") + "http://".len();
    banner[start..]
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

#[test]
fn serves_logs_safely_and_stops_on_sigterm() {
    let key = "sk-binary-test-key";
    let mut child = Command::new(env!("CARGO_BIN_EXE_atoms-webhook-emulator"))
        .args(["--listen", "127.0.0.1:0", "--api-key", key])
        .args(["--agent", &format!("{AGENT}=Support bot")])
        .env_remove("SMALLEST_API_KEY")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert!(
        line.starts_with("Atoms emulator listening on http://127.0.0.1:"),
        "unexpected first line {line:?}"
    );
    assert!(
        !line.contains(key),
        "the banner shows a chosen key: {line:?}"
    );
    let addr = addr_in(&line);

    let create = format!(
        r#"{{"endpoint":"https://example.com/bin","description":"d","events":[{{"agentId":"{AGENT}","eventType":"pre-conversation"}}]}}"#
    );
    let (status, body) = request(&addr, "POST", "/webhook", key, &create);
    assert_eq!(status, 201, "{body}");
    let (status, body) = request(&addr, "GET", "/webhook", key, "");
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        v["data"][0]["subscriptions"][0]["agentId"]["name"],
        "Support bot"
    );
    let secret = v["data"][0]["decryptedSecretKey"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(request(&addr, "GET", "/webhook", "test-api-key", "").0, 401);

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "exit status {status:?}");

    let mut logs = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .unwrap();
    assert!(
        logs.contains("POST") && logs.contains("/webhook") && logs.contains("201"),
        "{logs}"
    );
    assert!(logs.contains("401"), "{logs}");
    for leak in [key, secret.as_str(), "example.com/bin", "pre-conversation"] {
        assert!(!logs.contains(leak), "the logs contain {leak:?}: {logs}");
    }
    assert!(
        !logs.contains('\u{1b}'),
        "no colour codes when stderr is not a terminal"
    );
}

#[test]
fn api_key_comes_from_the_environment() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_atoms-webhook-emulator"))
        .args(["--listen", "127.0.0.1:0"])
        .env("SMALLEST_API_KEY", "sk-from-env")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = addr_in(&line);
    let ok = request(&addr, "GET", "/webhook", "sk-from-env", "").0;
    let default_key = request(&addr, "GET", "/webhook", "test-api-key", "").0;
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!((ok, default_key), (200, 401));
}

#[test]
fn bad_arguments_fail_fast() {
    let out = Command::new(env!("CARGO_BIN_EXE_atoms-webhook-emulator"))
        .args(["--listen", "127.0.0.1:0", "--agent", "not-an-id=Name"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("24 hexadecimal"));
}
