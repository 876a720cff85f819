//! `atoms-webhook inbox serve --reconcile` as a real process against the emulator: a call
//! whose every delivery was dropped is recovered from the call logs and forwarded with
//! `X-Atoms-Recovered: <event type>`, signed with the webhook's secret (fetched via the API);
//! `inbox stats` counts it and `inbox list --recovered` lists it. Every wait polls something
//! observable a bounded number of times.

mod inbox_common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use atoms_webhook_blocking::{Client, Config};
use atoms_webhook_emulator::{CallOptions, Emulator, Scenario};
use atoms_webhook_models::{CreateWebhookRequest, EventType, UpdateWebhookRequest, Verifier};
use axum::body::Bytes;
use axum::http::HeaderMap;
use inbox_common::{bin, inbox_json, runtime, wait_for};

const KEY: &str = "reconcile-cli-key";
const AGENT: &str = "aaaaaaaaaaaaaaaaaaaaaaa1";

/// What the app received: (X-Atoms-Recovered, X-Signature, body).
type Received = Arc<Mutex<Vec<(Option<String>, String, Vec<u8>)>>>;

#[test]
fn lost_call_is_recovered_and_forwarded_signed() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("inbox.db");
    let db = db.to_str().unwrap();
    let rt = runtime();
    let emu = Emulator::builder()
        .api_key(KEY)
        .agent(AGENT, "Agent", "")
        .start_background()
        .unwrap();

    // The app behind the inbox records what it is forwarded.
    let received: Received = Arc::default();
    let record = received.clone();
    let app = axum::Router::new().fallback(move |headers: HeaderMap, body: Bytes| {
        let record = record.clone();
        async move {
            let h = |n: &str| {
                headers
                    .get(n)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            };
            record.lock().unwrap().push((
                h("x-atoms-recovered"),
                h("x-signature").unwrap_or_default(),
                body.to_vec(),
            ));
            "ok"
        }
    });
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let app_url = format!("http://{}/app", listener.local_addr().unwrap());
    rt.spawn(async move { axum::serve(listener, app).await });

    // The webhook (its endpoint is set once the inbox listens).
    let api = Client::new(Config::new(KEY).base_url(emu.url())).unwrap();
    let created = api
        .create_webhook_with_secret(
            CreateWebhookRequest::new("http://127.0.0.1:9/not-yet", "inbox")
                .event(AGENT, EventType::PreConversation)
                .event(AGENT, EventType::PostConversation)
                .event(AGENT, EventType::AnalyticsCompleted),
        )
        .unwrap();
    let secret = created.secret.expose().to_owned();

    let mut child = Command::new(bin())
        .args([
            "--api-key",
            KEY,
            "--base-url",
            &emu.url(),
            "inbox",
            "serve",
            "--port",
            "0",
            "--secret",
            &secret,
            "--db",
            db,
            "--forward",
            &app_url,
            "--poll",
            "0.02",
            "--reconcile",
            "--reconcile-grace",
            "0",
            "--sweep-interval",
            "0.05",
        ])
        .env_remove("ATOMS_WEBHOOK_SECRET")
        .env_remove("SMALLEST_API_KEY")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().and_then(Result::ok).unwrap_or_default();
    let inbox_url = format!(
        "{}/atoms",
        first
            .strip_prefix("listening on ")
            .expect("listening line")
            .trim()
    );
    let rest: Arc<Mutex<Vec<String>>> = Arc::default();
    let keep = rest.clone();
    std::thread::spawn(move || {
        for l in lines.map_while(Result::ok) {
            keep.lock().unwrap().push(l);
        }
    });
    api.update_webhook(
        created.id.as_str(),
        UpdateWebhookRequest::new().endpoint(inbox_url),
    )
    .unwrap();

    // One call delivered, one lost entirely.
    let kept = emu
        .simulate_call(CallOptions::new().agent_id(AGENT).seed(1))
        .call_id;
    let lost = emu
        .simulate_call(Scenario::new(CallOptions::new().agent_id(AGENT).seed(2)).drop_all())
        .call_id;

    let all = wait_for("six forwards (three real, three recovered)", || {
        let got = received.lock().unwrap().clone();
        (got.len() >= 6).then_some(got)
    });
    let verifier = Verifier::new(created.secret.clone()).unwrap();
    let mut recovered: Vec<String> = Vec::new();
    for (marker, signature, body) in &all {
        let event = verifier
            .verify_and_parse(body, signature)
            .expect("every forward verifies with the webhook's secret");
        let call = event.call_id().unwrap().to_string();
        match marker {
            Some(t) => {
                assert!(event.is_recovered());
                assert_eq!(call, lost.to_string());
                assert_eq!(t, event.event_type().as_str());
                recovered.push(t.clone());
            }
            None => {
                assert!(!event.is_recovered());
                assert_eq!(call, kept.to_string());
            }
        }
    }
    recovered.sort();
    assert_eq!(
        recovered,
        [
            "analytics-completed",
            "post-conversation",
            "pre-conversation"
        ]
    );

    let stats = inbox_json(&["stats", "--db", db]);
    assert_eq!(stats["recovered"], 3, "{stats}");
    let listed = inbox_json(&["list", "--recovered", "--db", db]);
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 3, "{listed:?}");
    assert!(listed
        .iter()
        .all(|d| d["recovered"] == true && d["callId"] == lost.as_str()));
    assert!(rest
        .lock()
        .unwrap()
        .iter()
        .any(|l| l.starts_with("reconciling")));

    let _ = child.kill();
    let _ = child.wait();
}
