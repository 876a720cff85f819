//! Properties of the flows over arbitrary answers: whatever the server says (the right webhook,
//! another one, errors, junk, retries), a flow ends within a bounded number of steps, never
//! panics, never writes to a webhook other than the one named, and never writes at all before
//! an answer about the named webhook arrived.

use std::time::Duration;

use atoms_webhook_models::{CreateWebhookRequest, EventType};
use atoms_webhook_transport::{
    AddAgentEvents, Config, CreateWebhookWithSecret, DeleteWebhookCascade, Error, GetSigningSecret,
    Jitter, Next, Operation, Prepared, RetryConfig, RetryPolicy,
};
use proptest::prelude::*;

const ASKED: &str = "64f0c0ffee00000000000aaa";
const OTHER: &str = "64f0c0ffee00000000000bbb";
const AGENTS: [&str; 3] = [
    "60d0fe4f5311236168a10001",
    "60d0fe4f5311236168a10002",
    "a b",
];

/// One answer of the script, from a small vocabulary of plausible and implausible ones.
fn answer() -> impl Strategy<Value = (u16, String)> {
    let webhook = (prop_oneof![Just(ASKED), Just(OTHER), Just("")], proptest::sample::subsequence(AGENTS.to_vec(), 0..3))
        .prop_map(|(id, agents)| {
            let subs: Vec<String> = agents
                .iter()
                .map(|a| format!(r#"{{"_id":"p","agentId":"{a}"}}"#))
                .collect();
            format!(
                r#"{{"status":true,"data":{{"_id":"{id}","decryptedSecretKey":"s","subscriptions":[{}]}}}}"#,
                subs.join(",")
            )
        });
    let subscriptions = (
        proptest::sample::select(AGENTS.to_vec()),
        prop_oneof![Just(ASKED), Just(OTHER)],
    )
        .prop_map(|(a, w)| {
            format!(
                r#"{{"status":true,"data":[{{"_id":"s","agentId":"{a}","webhookId":"{w}","eventType":"pre-conversation"}}]}}"#
            )
        });
    let body = prop_oneof![
        webhook,
        subscriptions,
        Just(r#"{"status":true,"data":"ok"}"#.to_owned()),
        Just(format!(r#"{{"status":true,"data":"{ASKED}"}}"#)),
        Just(format!(r#"{{"status":true,"data":"{OTHER}"}}"#)),
        Just(r#"{"status":true,"data":[]}"#.to_owned()),
        Just(r#"{"status":false,"errors":["no"]}"#.to_owned()),
        Just("<html>502</html>".to_owned()),
        Just(String::new()),
    ];
    (
        prop_oneof![
            Just(200u16),
            Just(201),
            Just(400),
            Just(404),
            Just(429),
            Just(503)
        ],
        body,
    )
}

/// Drives `op` over `script` (then 418s); returns the request lines sent, in order, and the
/// result. Fails if the flow has not ended after 200 steps.
fn drive<O: Operation>(
    mut op: O,
    script: &[(u16, String)],
) -> (Vec<String>, Result<O::Output, Error>) {
    let mut sent = Vec::new();
    let mut answers = script.iter();
    let mut next = op.resume();
    for _ in 0..200 {
        next = match next {
            Next::Send(r) => {
                let target = r
                    .uri()
                    .path_and_query()
                    .map(|p| p.to_string())
                    .unwrap_or_default();
                sent.push(format!("{} {target}", r.method()));
                let (status, body) = answers.next().cloned().unwrap_or((418, String::new()));
                op.receive(Ok(http::Response::builder()
                    .status(status)
                    .body(body.into_bytes().into())
                    .unwrap()))
            }
            Next::Sleep(d) => {
                assert!(d <= Duration::from_secs(60), "{d:?}");
                op.resume()
            }
            Next::Done(result) => return (sent, result),
        };
    }
    panic!("the flow did not end within 200 steps: {sent:?}");
}

fn setup() -> (Prepared, RetryPolicy) {
    let config = Config::new("k")
        .base_url("http://127.0.0.1:1")
        .retry(RetryConfig::default().jitter(Jitter::None));
    (
        Prepared::new(&config).unwrap(),
        RetryPolicy::new(config.retry),
    )
}

fn is_write(line: &str) -> bool {
    !line.starts_with("GET ")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn cascade_writes_only_for_the_named_webhook(
        script in proptest::collection::vec(answer(), 0..12),
        force in any::<bool>(),
    ) {
        let (p, policy) = setup();
        let (sent, result) = drive(DeleteWebhookCascade::new(&p, &policy, ASKED, force), &script);
        // The first request is the fetch of the named webhook; a write comes only after an
        // answer naming it.
        prop_assert_eq!(&sent.first().cloned().unwrap_or_default(), &format!("GET /webhook?webhookId={ASKED}"));
        let named = script.iter().position(|(status, body)| {
            (200..300).contains(status) && body.contains(&format!(r#""data":{{"_id":"{ASKED}""#))
        });
        if let Some(first_write) = sent.iter().position(|l| is_write(l)) {
            prop_assert!(named.is_some_and(|n| n < first_write), "{:?} / {:?}", sent, script);
        }
        for line in sent.iter().filter(|l| l.starts_with("DELETE /webhook/")) {
            prop_assert_eq!(line, &format!("DELETE /webhook/{ASKED}"));
        }
        prop_assert!(!sent.iter().any(|l| l.contains("a%20b")), "{:?}", sent);
        if let Ok(report) = result {
            prop_assert_eq!(report.webhook_id.as_str(), ASKED);
        }
    }

    #[test]
    fn secrets_come_only_from_the_named_webhook(script in proptest::collection::vec(answer(), 0..6)) {
        let (p, policy) = setup();
        let (sent, result) = drive(GetSigningSecret::new(&p, &policy, ASKED), &script);
        prop_assert!(sent.iter().all(|l| !is_write(l)));
        if result.is_ok() {
            let ok = script.iter().any(|(status, body)| {
                (200..300).contains(status) && body.contains(&format!(r#""data":{{"_id":"{ASKED}""#))
            });
            prop_assert!(ok, "a secret from {:?}", script);
        }
    }

    #[test]
    fn create_with_secret_and_add_events_end_and_never_panic(script in proptest::collection::vec(answer(), 0..8)) {
        let (p, policy) = setup();
        let create = CreateWebhookRequest::new("https://example.com/h", "");
        let (sent, _) = drive(CreateWebhookWithSecret::new(&p, &policy, create), &script);
        // A create is retried only after a 429 or a connect failure: at most three.
        prop_assert!(sent.iter().filter(|l| l.starts_with("POST /webhook")).count() <= 3);
        let (sent, _) = drive(
            AddAgentEvents::new(&p, &policy, AGENTS[0], ASKED, [EventType::PostConversation], false),
            &script,
        );
        for line in sent.iter().filter(|l| is_write(l)) {
            prop_assert_eq!(line, &format!("POST /agent/{}/webhook-subscriptions", AGENTS[0]));
        }
    }
}
