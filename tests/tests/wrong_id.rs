//! Both clients against a server that answers about the wrong webhook (the public API
//! description allows any `Webhook` in the answer to `GET /webhook?webhookId=`): every
//! operation on an id acts on that id only. After the mismatch, no write (DELETE, PATCH,
//! POST) reaches the server, as the server counts; no secret of the other webhook comes back.

#[allow(dead_code)]
mod support;

use atoms_webhook_models::{CreateWebhookRequest, UpdateWebhookRequest};
use atoms_webhook_tests::faulty::{Behavior, FaultServer, Reply, Seen};
use atoms_webhook_transport::Error;
use support::{test_config, Async, Blocking, Flavor};

const KEY: &str = "wrong-id-key";
const ASKED: &str = "64f0c0ffee00000000000aaa";
const OTHER: &str = "64f0c0ffee00000000000bbb";
const AGENT: &str = "60d0fe4f5311236168a109ca";
const OTHER_SECRET: &str = "whsec-of-the-other-webhook";

/// Webhook `id` as a by-id answer, with an agent subscribed and its signing secret.
fn webhook(id: &str) -> Behavior {
    Behavior::Respond(Reply::json(
        200,
        &format!(
            r#"{{"status":true,"data":{{"_id":"{id}","url":"https://example.com/{id}","decryptedSecretKey":"{OTHER_SECRET}","subscriptions":[{{"_id":"s1","agentId":{{"_id":"{AGENT}","name":"Bot"}},"eventType":"post-conversation"}}]}}}}"#
        ),
    ))
}

fn writes(requests: &[Seen]) -> Vec<String> {
    requests
        .iter()
        .filter(|r| r.method != "GET")
        .map(ToString::to_string)
        .collect()
}

fn assert_mismatch(e: &Error) {
    let Error::UnexpectedResponse {
        requested,
        received,
        ..
    } = e
    else {
        panic!("expected UnexpectedResponse, got {e:?}")
    };
    assert_eq!(requested.as_str(), ASKED);
    assert_eq!(received.as_str(), OTHER);
    assert!(e.is_bad_response());
    let shown = format!("{e} {e:?}");
    assert!(!shown.contains(OTHER_SECRET), "{shown}");
    assert!(shown.contains(ASKED) && shown.contains(OTHER), "{shown}");
}

fn both(case: fn(&dyn Flavor)) {
    case(&Blocking);
    case(&Async);
}

#[test]
fn cascade_delete_stops_before_any_write() {
    both(|f| {
        for force in [false, true] {
            // Everything a cascade of the other webhook would need, should it go on.
            let server = FaultServer::start([webhook(OTHER)]);
            let c = f.client(test_config(&server.url(), KEY));
            let err = c.delete_webhook_cascade(ASKED, force).unwrap_err();
            assert_mismatch(&err);
            let seen = server.requests();
            assert_eq!(seen.len(), 1, "{seen:?}");
            assert_eq!(seen[0].target, format!("/webhook?webhookId={ASKED}"));
            assert!(writes(&seen).is_empty(), "{seen:?}");
        }
    });
}

#[test]
fn signing_secret_returns_nothing() {
    both(|f| {
        let server = FaultServer::start([webhook(OTHER)]);
        let c = f.client(test_config(&server.url(), KEY));
        let err = c.signing_secret(ASKED).unwrap_err();
        assert_mismatch(&err);
        let err = {
            // The plain get says so too.
            let server = FaultServer::start([webhook(OTHER)]);
            f.client(test_config(&server.url(), KEY))
                .get_webhook(ASKED)
                .unwrap_err()
        };
        assert_mismatch(&err);
        assert_eq!(server.attempts(), 1);
    });
}

#[test]
fn create_with_secret_keeps_the_new_id_and_no_secret() {
    both(|f| {
        let server = FaultServer::start([
            Behavior::Respond(Reply::json(
                201,
                &format!(r#"{{"status":true,"data":"{ASKED}"}}"#),
            )),
            webhook(OTHER),
        ]);
        let c = f.client(test_config(&server.url(), KEY));
        let err = c
            .create_webhook_with_secret(CreateWebhookRequest::new("https://example.com/new", ""))
            .unwrap_err();
        let Error::CreatedWithoutSecret { id, source } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(id.as_str(), ASKED);
        assert_mismatch(source);
        assert!(err.is_bad_response());
        assert_eq!(writes(&server.requests()), ["POST /webhook"]);
    });
}

#[test]
fn update_echoing_another_id_is_an_error() {
    both(|f| {
        let server = FaultServer::start([Behavior::Respond(Reply::json(
            200,
            &format!(r#"{{"status":true,"data":"{OTHER}"}}"#),
        ))]);
        let c = f.client(test_config(&server.url(), KEY));
        let err = c
            .update_webhook(ASKED, UpdateWebhookRequest::new().description("x"))
            .unwrap_err();
        assert_mismatch(&err);
        // The update itself, to the id asked for, and nothing after it.
        assert_eq!(
            writes(&server.requests()),
            [format!("PATCH /webhook/{ASKED}")]
        );
    });
}

#[test]
fn ids_in_answers_that_cannot_be_used_are_the_servers_fault() {
    both(|f| {
        // A created id with a space: never used to fetch a secret.
        let server = FaultServer::start([Behavior::Respond(Reply::json(
            201,
            r#"{"status":true,"data":"64f0 c0ffee"}"#,
        ))]);
        let c = f.client(test_config(&server.url(), KEY));
        let err = c
            .create_webhook_with_secret(CreateWebhookRequest::new("https://example.com/ws", ""))
            .unwrap_err();
        assert!(matches!(err, Error::InvalidResponse { .. }), "{err:?}");
        assert!(err.is_bad_response());
        assert_eq!(server.attempts(), 1);

        // A listed agent id with a space: the cascade stops before reading or clearing.
        let body = format!(
            r#"{{"status":true,"data":{{"_id":"{ASKED}","subscriptions":[{{"_id":"s","agentId":"a b"}}]}}}}"#
        );
        let server = FaultServer::start([Behavior::Respond(Reply::json(200, &body))]);
        let c = f.client(test_config(&server.url(), KEY));
        let err = c.delete_webhook_cascade(ASKED, true).unwrap_err();
        assert!(matches!(err, Error::InvalidResponse { .. }), "{err:?}");
        assert_eq!(server.attempts(), 1);
    });
}
