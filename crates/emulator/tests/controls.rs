//! The test controls (hits, faults, connections), the state snapshot, and the server's
//! lifecycle (start, start_background, shutdown, drop).

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use atoms_webhook_emulator::{Emulator, EmulatorError, Fault, Op};
use common::*;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn hits_count_every_attempt_per_operation() {
    let c = Client::start().await;
    for op in Op::ALL {
        assert_eq!(c.emu.hits(op), 0, "{op}");
    }
    let id = c.create("https://example.com/a", &[]).await;
    c.get("/webhook").await.data(200);
    c.get("/webhook").await.data(200);
    c.get(&format!("/webhook?webhookId={id}")).await.data(200);
    // Refused by auth, failed validation, injected fault: all counted.
    c.raw(Method::GET, "/webhook", None, None).await.errors(401);
    c.get("/webhook?webhookId=bad").await.errors(400);
    c.emu.inject(Op::UpdateWebhook, Fault::status(500), 1);
    c.patch(&format!("/webhook/{id}"), json!({"description": "x"}))
        .await
        .errors(500);
    c.delete(&format!("/webhook/{id}")).await.data(200);
    let sub = format!("/agent/{AGENT}/webhook-subscriptions");
    c.get(&sub).await.data(200);
    c.post(&sub, json!({})).await.errors(400);
    c.delete(&sub).await.data(200);
    c.delete(&sub).await.data(200);
    // Not an operation: neither counted nor an error.
    c.get("/nowhere").await.errors(404);
    c.call(Method::PUT, "/webhook", None).await.errors(405);

    let expected = [
        (Op::ListWebhooks, 3),
        (Op::GetWebhook, 2),
        (Op::CreateWebhook, 1),
        (Op::UpdateWebhook, 1),
        (Op::DeleteWebhook, 1),
        (Op::GetAgentSubscriptions, 1),
        (Op::ReplaceAgentSubscriptions, 1),
        (Op::ClearAgentSubscriptions, 2),
    ];
    for (op, n) in expected {
        assert_eq!(c.emu.hits(op), n, "{op}");
    }
}

#[tokio::test]
async fn injected_responses_replace_handling_then_stop() {
    let c = Client::start().await;
    c.emu
        .inject(Op::CreateWebhook, Fault::retry_after(503, "7"), 2);
    let body = json!({"endpoint": "https://example.com/a", "description": "d", "events": []});
    for _ in 0..2 {
        let a = c.post("/webhook", body.clone()).await;
        assert_eq!(a.status, 503);
        assert_eq!(a.headers["retry-after"], "7");
        assert_eq!(a.headers["content-type"], "application/json");
        assert_eq!(a.text, r#"{"status":false,"errors":["Injected fault"]}"#);
    }
    // The faulted requests were not handled: no webhook yet.
    assert!(c.emu.webhooks().is_empty());
    c.post("/webhook", body.clone()).await.data(201);
    assert_eq!(c.emu.webhooks().len(), 1);
    assert_eq!(c.emu.hits(Op::CreateWebhook), 3);

    // A raw fault goes out exactly as given: not rewritten into JSON, even for an error status.
    c.emu.inject(
        Op::ListWebhooks,
        Fault::Respond {
            status: 502,
            headers: vec![
                ("content-type".into(), "text/html".into()),
                ("x-upstream".into(), "gw-1".into()),
            ],
            body: "<html>Bad Gateway</html>".into(),
        },
        1,
    );
    // Faults apply before auth: a request without a key gets the fault too.
    let a = c.raw(Method::GET, "/webhook", None, None).await;
    assert_eq!(a.status, 502);
    assert_eq!(a.headers["content-type"], "text/html");
    assert_eq!(a.headers["x-upstream"], "gw-1");
    assert_eq!(a.text, "<html>Bad Gateway</html>");
    // Faults are per operation: the single get was never affected.
    let id = c.emu.webhooks()[0].id.to_string();
    c.get(&format!("/webhook?webhookId={id}")).await.data(200);
    c.get("/webhook").await.data(200);

    // A 2xx fault with a non-JSON body, for clients' decode-error paths.
    c.emu.inject(
        Op::GetAgentSubscriptions,
        Fault::Respond {
            status: 200,
            headers: vec![],
            body: "not json".into(),
        },
        1,
    );
    let a = c
        .get(&format!("/agent/{AGENT}/webhook-subscriptions"))
        .await;
    assert_eq!((a.status, a.text.as_str()), (200, "not json"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delayed_request_still_acts_after_the_client_gave_up() {
    let c = Client::start().await;
    c.emu.inject(
        Op::CreateWebhook,
        Fault::delay(Duration::from_millis(400)),
        1,
    );
    let impatient = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let err = impatient
        .post(format!("{}/webhook", c.emu.url()))
        .bearer_auth(c.emu.api_key())
        .body(
            json!({"endpoint": "https://example.com/late", "description": "d", "events": []})
                .to_string(),
        )
        .send()
        .await
        .expect_err("the client times out first");
    assert!(err.is_timeout(), "{err}");
    assert!(
        c.emu.webhooks().is_empty(),
        "not yet: the server is still sleeping"
    );

    // The server finishes the request anyway, like a real server after a client timeout.
    let deadline = Instant::now() + Duration::from_secs(5);
    while c.emu.webhooks().is_empty() {
        assert!(
            Instant::now() < deadline,
            "the delayed create never happened"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        c.emu.webhooks()[0].url.as_deref(),
        Some("https://example.com/late")
    );

    // With a patient client the delayed answer arrives normally.
    c.emu
        .inject(Op::ListWebhooks, Fault::delay(Duration::from_millis(50)), 1);
    assert_eq!(
        c.get("/webhook").await.data(200).as_array().unwrap().len(),
        1
    );
}

#[tokio::test]
async fn keep_alive_reuses_one_connection() {
    let c = Client::start().await;
    assert_eq!(c.emu.connections(), 0);
    for _ in 0..5 {
        c.get("/webhook").await.data(200);
    }
    c.create("https://example.com/a", &[]).await;
    c.get(&format!("/agent/{AGENT}/webhook-subscriptions"))
        .await
        .data(200);
    assert_eq!(
        c.emu.connections(),
        1,
        "sequential calls share one kept-alive connection"
    );

    // Error answers keep the connection too.
    c.get("/webhook?webhookId=bad").await.errors(400);
    c.raw(Method::GET, "/webhook", None, None).await.errors(401);
    c.get("/nowhere").await.errors(404);
    assert_eq!(c.emu.connections(), 1);

    let other = http_client();
    let a = other
        .get(format!("{}/webhook", c.emu.url()))
        .bearer_auth(c.emu.api_key())
        .send()
        .await
        .unwrap();
    assert_eq!(a.status(), 200);
    assert_eq!(
        c.emu.connections(),
        2,
        "a second client opens a second connection"
    );
}

#[tokio::test]
async fn url_and_addr_agree() {
    let c = Client::start().await;
    let addr = c.emu.addr();
    assert!(addr.ip().is_loopback());
    assert_ne!(addr.port(), 0);
    assert_eq!(c.emu.url(), format!("http://127.0.0.1:{}", addr.port()));
    assert!(!c.emu.url().ends_with('/'));
}

#[tokio::test]
async fn a_busy_address_is_a_bind_error() {
    let first = Emulator::builder().start().await.unwrap();
    let err = Emulator::builder()
        .listen(first.addr())
        .start()
        .await
        .expect_err("the port is taken");
    assert!(
        matches!(err, EmulatorError::Bind { addr, .. } if addr == first.addr()),
        "{err}"
    );
    assert!(std::error::Error::source(&err).is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_waits_for_the_server_to_stop() {
    let emu = Emulator::builder().start().await.unwrap();
    let addr = emu.addr();
    let http = http_client();
    let url = format!("{}/webhook", emu.url());
    // An idle kept-alive connection must not hold the shutdown up.
    http.get(&url)
        .bearer_auth("test-api-key")
        .send()
        .await
        .unwrap();
    emu.shutdown();
    assert!(
        TcpStream::connect(addr).is_err(),
        "still accepting after shutdown"
    );
}

/// A bare HTTP/1.1 exchange over std's TcpStream (no tokio anywhere in this test).
fn raw_get(addr: SocketAddr, path: &str, key: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {key}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let status = text[9..12].parse().unwrap();
    let body = text.split_once("\r\n\r\n").unwrap().1.to_owned();
    (status, body)
}

#[test]
fn start_background_serves_without_a_runtime() {
    let emu = Emulator::builder()
        .api_key("bg-key")
        .start_background()
        .unwrap();
    let addr = emu.addr();
    assert_eq!(
        raw_get(addr, "/webhook", "bg-key"),
        (200, r#"{"status":true,"data":[]}"#.to_owned())
    );
    assert_eq!(raw_get(addr, "/webhook", "other").0, 401);
    assert_eq!(emu.hits(Op::ListWebhooks), 2);
    assert_eq!(emu.connections(), 2);
    emu.shutdown();
    assert!(
        TcpStream::connect(addr).is_err(),
        "still accepting after shutdown"
    );
}

#[test]
fn dropping_stops_the_server() {
    let emu = Emulator::builder().start_background().unwrap();
    let addr = emu.addr();
    assert_eq!(raw_get(addr, "/webhook", "test-api-key").0, 200);
    drop(emu);
    let deadline = Instant::now() + Duration::from_secs(5);
    while TcpStream::connect(addr).is_ok() {
        assert!(Instant::now() < deadline, "still accepting after drop");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn background_start_reports_bind_errors() {
    let first = Emulator::builder().start_background().unwrap();
    let err = Emulator::builder()
        .listen(first.addr())
        .start_background()
        .expect_err("the port is taken");
    assert!(matches!(err, EmulatorError::Bind { .. }), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_a_task_emulator_stops_it() {
    let emu = Emulator::builder().start().await.unwrap();
    let addr = emu.addr();
    drop(emu);
    let deadline = Instant::now() + Duration::from_secs(5);
    while tokio::net::TcpStream::connect(addr).await.is_ok() {
        assert!(Instant::now() < deadline, "still accepting after drop");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
