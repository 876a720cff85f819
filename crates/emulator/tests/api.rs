//! The webhook API over real HTTP on 127.0.0.1: every endpoint's success and documented errors.

mod common;

use atoms_webhook_emulator::Emulator;
use atoms_webhook_models::{ApiResponse, Webhook, WebhookSubscription};
use common::*;
use reqwest::Method;
use serde_json::{json, Value};

const UNAUTHORIZED: &str = r#"{"status":false,"errors":["Unauthorized: User not found"]}"#;
const NOT_FOUND: &str = r#"{"status":false,"errors":["Webhook not found"]}"#;
const INVALID_WEBHOOK_ID: &str = "The provided Webhook ID is invalid.";
const INVALID_AGENT_ID: &str = "The provided Agent ID is invalid.";
const DUPLICATE_URL: &str = "A webhook with this URL has already been registered";
const STILL_ASSIGNED: &str = "Cannot delete webhook: It is currently assigned to one or more agents. Please remove all agent assignments first.";

#[tokio::test]
async fn every_endpoint_needs_the_bearer_key() {
    let c = Client::start().await;
    let id = c.create("https://example.com/a", &[]).await;
    let endpoints = [
        (Method::GET, "/webhook".to_owned(), None),
        (Method::GET, format!("/webhook?webhookId={id}"), None),
        (Method::POST, "/webhook".to_owned(), Some("{}")),
        (
            Method::PATCH,
            format!("/webhook/{id}"),
            Some(r#"{"description":"x"}"#),
        ),
        (Method::DELETE, format!("/webhook/{id}"), None),
        (
            Method::GET,
            format!("/agent/{AGENT}/webhook-subscriptions"),
            None,
        ),
        (
            Method::POST,
            format!("/agent/{AGENT}/webhook-subscriptions"),
            Some("{}"),
        ),
        (
            Method::DELETE,
            format!("/agent/{AGENT}/webhook-subscriptions"),
            None,
        ),
    ];
    let wrong = [
        None,
        Some("Bearer wrong-key"),
        Some("Bearer"),
        Some("Basic dGVzdC1hcGkta2V5"),
        Some("test-api-key"),
        Some("Bearer test-api-key-and-more"),
    ];
    for (method, path, body) in &endpoints {
        for auth in wrong {
            let a = c.raw(method.clone(), path, *body, auth).await;
            assert_eq!(a.status, 401, "{method} {path} with {auth:?}");
            assert_eq!(a.text, UNAUTHORIZED, "{method} {path} with {auth:?}");
        }
    }
    // Nothing was changed by the refused requests, and the right key (any scheme case) works.
    assert_eq!(c.emu.webhooks().len(), 1);
    let a = c
        .raw(Method::GET, "/webhook", None, Some("bearer test-api-key"))
        .await;
    assert_eq!(a.status, 200);
}

#[tokio::test]
async fn custom_api_key() {
    let c = Client::with(Emulator::builder().api_key("sk-custom")).await;
    assert_eq!(c.emu.api_key(), "sk-custom");
    assert_eq!(c.get("/webhook").await.data(200), json!([]));
    let a = c
        .raw(Method::GET, "/webhook", None, Some("Bearer test-api-key"))
        .await;
    assert_eq!(a.status, 401);
}

#[tokio::test]
async fn create_then_list_and_get_show_the_documented_shape() {
    let c =
        Client::with(Emulator::builder().agent(AGENT, "Support bot", "Answers questions")).await;
    assert_eq!(c.get("/webhook").await.data(200), json!([]));

    let created = c
        .post(
            "/webhook",
            json!({
                "endpoint": "https://example.com/hook",
                "description": "CRM sync",
                "events": [
                    {"agentId": AGENT, "eventType": "pre-conversation"},
                    {"agentId": AGENT, "eventType": "post-conversation"},
                    {"agentId": AGENT, "eventType": "pre-conversation"},
                ],
            }),
        )
        .await;
    assert_eq!(created.status, 201);
    let id = created.data(201);
    assert!(is_object_id(&id), "{id}");
    let id = id.as_str().unwrap().to_owned();

    let answer = c.get("/webhook").await;
    let list = answer.data(200);
    let list = list.as_array().expect("list is an array");
    assert_eq!(list.len(), 1);
    let w = &list[0];
    let keys = answer.first_data_keys();
    assert_eq!(
        keys,
        [
            "_id",
            "url",
            "description",
            "status",
            "organizationId",
            "createdBy",
            "subscriptions",
            "decryptedSecretKey",
            "createdAt",
            "updatedAt"
        ],
        "no `headers` key while none are set"
    );
    assert_eq!(w["_id"], json!(id));
    assert_eq!(w["url"], json!("https://example.com/hook"));
    assert_eq!(w["description"], json!("CRM sync"));
    assert_eq!(w["status"], json!("enabled"));
    assert!(is_object_id(&w["organizationId"]));
    assert!(is_object_id(&w["createdBy"]));
    let secret = w["decryptedSecretKey"].as_str().unwrap();
    assert!(secret.len() >= 32 && secret.bytes().all(|b| b.is_ascii_hexdigit()));
    assert!(is_api_timestamp(&w["createdAt"]), "{}", w["createdAt"]);
    assert!(is_api_timestamp(&w["updatedAt"]), "{}", w["updatedAt"]);

    let subs = w["subscriptions"].as_array().unwrap();
    assert_eq!(subs.len(), 2, "identical pairs are deduped: {subs:?}");
    let mut types: Vec<&str> = subs
        .iter()
        .map(|s| s["eventType"].as_str().unwrap())
        .collect();
    types.sort_unstable();
    assert_eq!(types, ["post-conversation", "pre-conversation"]);
    for s in subs {
        assert!(is_object_id(&s["_id"]));
        assert_eq!(s["webhookId"], json!(id));
        assert_eq!(
            s["agentId"],
            json!({"_id": AGENT, "name": "Support bot", "description": "Answers questions"})
        );
        assert!(is_api_timestamp(&s["createdAt"]));
        assert!(is_api_timestamp(&s["updatedAt"]));
    }

    // The single get returns the same object, secret included.
    let one = c.webhook(&id).await;
    assert_eq!(&one, w);

    // Both parse with the SDK's models, and the snapshot agrees with the API.
    let parsed: ApiResponse<Vec<Webhook>> =
        serde_json::from_str(&c.get("/webhook").await.text).unwrap();
    assert_eq!(parsed.data, c.emu.webhooks());
    assert_eq!(parsed.data[0].agent_ids(), [AGENT]);

    // A second webhook gets a different id and secret.
    let id2 = c.create("https://example.com/hook2", &[]).await;
    assert_ne!(id2, id);
    let w2 = c.webhook(&id2).await;
    assert_ne!(w2["decryptedSecretKey"], w["decryptedSecretKey"]);
    assert_eq!(w2["subscriptions"], json!([]));
    let ids: Vec<Value> = c
        .get("/webhook")
        .await
        .data(200)
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["_id"].clone())
        .collect();
    assert_eq!(ids, [json!(id), json!(id2)], "listed in creation order");
}

#[tokio::test]
async fn create_rejects_invalid_bodies_without_changing_state() {
    let c = Client::start().await;
    let ok_event = json!({"agentId": AGENT, "eventType": "pre-conversation"});
    let base =
        json!({"endpoint": "https://example.com/x", "description": "d", "events": [ok_event]});
    let with = |key: &str, value: Value| {
        let mut b = base.clone();
        b[key] = value;
        b
    };
    let without = |key: &str| {
        let mut b = base.clone();
        b.as_object_mut().unwrap().remove(key);
        b
    };
    let cases: Vec<(Value, &str)> = vec![
        (without("endpoint"), "endpoint"),
        (without("description"), "description"),
        (without("events"), "events"),
        (with("endpoint", json!("example.com/x")), "endpoint"),
        (with("endpoint", json!("/relative")), "endpoint"),
        (with("endpoint", json!("ftp://example.com/x")), "endpoint"),
        (with("endpoint", json!("https://")), "endpoint"),
        (with("endpoint", json!(42)), "endpoint"),
        (with("description", json!(7)), "description"),
        (with("description", Value::Null), "description"),
        (with("events", json!({"agentId": AGENT})), "events"),
        (with("events", json!(["x"])), "events[0]"),
        (
            with("events", json!([{"eventType": "pre-conversation"}])),
            "agentId",
        ),
        (
            with(
                "events",
                json!([{"agentId": "xyz", "eventType": "pre-conversation"}]),
            ),
            INVALID_AGENT_ID,
        ),
        (
            with(
                "events",
                json!([{"agentId": 5, "eventType": "pre-conversation"}]),
            ),
            "agentId",
        ),
        (with("events", json!([{"agentId": AGENT}])), "eventType"),
        (
            with(
                "events",
                json!([{"agentId": AGENT, "eventType": "call-started"}]),
            ),
            "eventType",
        ),
        (
            with(
                "events",
                json!([ok_event, {"agentId": AGENT, "eventType": 3}]),
            ),
            "events[1].eventType",
        ),
    ];
    for (body, needle) in cases {
        let a = c.post("/webhook", body.clone()).await;
        assert_eq!(a.status, 400, "{body}");
        a.bad_request_mentioning(needle);
    }

    // Not an object, not JSON, empty: 400 too, never quoting the body.
    for raw in ["[]", "\"s\"", "{\"endpoint\": \"sk-secret", "sk-secret", ""] {
        let auth = "Bearer test-api-key";
        let a = c.raw(Method::POST, "/webhook", Some(raw), Some(auth)).await;
        let errors = a.errors(400);
        assert!(!errors.concat().contains("sk-secret"), "{errors:?}");
    }
    assert!(c.emu.webhooks().is_empty());
}

#[tokio::test]
async fn duplicate_urls_are_refused_on_create_and_update() {
    let c = Client::start().await;
    let a = c.create("https://example.com/a", &[]).await;
    let b = c.create("https://example.com/b", &[]).await;

    let dup = c
        .post(
            "/webhook",
            json!({"endpoint": "https://example.com/a", "description": "again", "events": []}),
        )
        .await;
    assert_eq!(dup.errors(400), [DUPLICATE_URL]);

    let dup = c
        .patch(
            &format!("/webhook/{b}"),
            json!({"endpoint": "https://example.com/a"}),
        )
        .await;
    assert_eq!(dup.errors(400), [DUPLICATE_URL]);
    assert_eq!(c.webhook(&b).await["url"], json!("https://example.com/b"));

    // Setting a webhook's own URL again is not a duplicate.
    let same = c
        .patch(
            &format!("/webhook/{a}"),
            json!({"endpoint": "https://example.com/a"}),
        )
        .await;
    assert_eq!(same.data(200), json!(a));
    assert_eq!(c.emu.webhooks().len(), 2);
}

#[tokio::test]
async fn get_by_id_errors() {
    let c = Client::start().await;
    for bad in [
        "not-a-valid-id",
        "",
        "0123456789abcdef0123456",
        "0123456789abcdef012345678",
        "0123456789abcdef0123456g",
    ] {
        let a = c.get(&format!("/webhook?webhookId={bad}")).await;
        assert_eq!(a.errors(400), [INVALID_WEBHOOK_ID], "{bad:?}");
    }
    let a = c.get(&format!("/webhook?webhookId={UNKNOWN_ID}")).await;
    assert_eq!(a.status, 404);
    assert_eq!(a.text, NOT_FOUND);
}

#[tokio::test]
async fn update_changes_only_what_is_given() {
    let c = Client::start().await;
    let id = c
        .create("https://example.com/a", &[(AGENT, "pre-conversation")])
        .await;
    let before = c.webhook(&id).await;

    let a = c
        .patch(&format!("/webhook/{id}"), json!({"description": "renamed"}))
        .await;
    assert_eq!(a.data(200), json!(id));
    let after = c.webhook(&id).await;
    assert_eq!(after["description"], json!("renamed"));
    for same in [
        "_id",
        "url",
        "status",
        "decryptedSecretKey",
        "createdAt",
        "subscriptions",
    ] {
        assert_eq!(after[same], before[same], "{same}");
    }
    assert!(after["updatedAt"].as_str() >= before["updatedAt"].as_str());

    let a = c
        .patch(
            &format!("/webhook/{id}"),
            json!({"endpoint": "http://127.0.0.1:9/new"}),
        )
        .await;
    assert_eq!(a.data(200), json!(id));
    let after = c.webhook(&id).await;
    assert_eq!(after["url"], json!("http://127.0.0.1:9/new"));
    assert_eq!(after["description"], json!("renamed"));

    for (body, needle) in [
        (json!({"endpoint": "not a url"}), "endpoint"),
        (json!({"endpoint": "mailto:a@example.com"}), "endpoint"),
        (json!({"endpoint": 1}), "endpoint"),
        (json!({"description": null}), "description"),
        (json!({"description": ["x"]}), "description"),
        (json!({"description": "ok", "endpoint": "nope"}), "endpoint"),
    ] {
        c.patch(&format!("/webhook/{id}"), body)
            .await
            .bad_request_mentioning(needle);
    }
    // A refused update changes nothing, not even the parts that were valid.
    assert_eq!(c.webhook(&id).await["description"], json!("renamed"));
}

#[tokio::test]
async fn update_needs_at_least_one_field_and_a_valid_known_id() {
    let c = Client::start().await;
    let id = c.create("https://example.com/a", &[]).await;
    let auth = Some("Bearer test-api-key");
    let path = format!("/webhook/{id}");
    for raw in [
        None,
        Some(""),
        Some("{}"),
        Some(r#"{"unknown": 1}"#),
        Some("{oops"),
        Some("[1]"),
    ] {
        let a = c.raw(Method::PATCH, &path, raw, auth).await;
        a.errors(400);
    }
    let a = c
        .patch("/webhook/not-a-valid-id", json!({"description": "x"}))
        .await;
    assert_eq!(a.errors(400), [INVALID_WEBHOOK_ID]);
    let a = c
        .patch(
            &format!("/webhook/{UNKNOWN_ID}"),
            json!({"description": "x"}),
        )
        .await;
    assert_eq!(a.status, 404);
    assert_eq!(a.text, NOT_FOUND);
}

#[tokio::test]
async fn headers_replace_clear_keep() {
    let c = Client::start().await;
    let id = c.create("https://example.com/a", &[]).await;
    let path = format!("/webhook/{id}");

    let set = json!({"x-api-key": "k1", "X-Tenant": "t1"});
    // Sent as text: the order of the keys is the order the headers are set in (serde_json's
    // own map would sort them).
    let auth = format!("Bearer {}", c.emu.api_key());
    let body = r#"{"headers": {"x-api-key": "k1", "X-Tenant": "t1"}}"#;
    assert_eq!(
        c.raw(Method::PATCH, &path, Some(body), Some(&auth))
            .await
            .data(200),
        json!(id)
    );
    assert_eq!(c.webhook(&id).await["headers"], set);
    let snapshot = c.emu.webhooks();
    assert_eq!(
        snapshot[0].custom_headers(),
        [("x-api-key", "k1"), ("X-Tenant", "t1")].map(|(k, v)| (k.to_owned(), v.to_owned()))
    );

    // Absent: kept.
    c.patch(&path, json!({"description": "d2"})).await.data(200);
    assert_eq!(c.webhook(&id).await["headers"], set);

    // Non-empty: replaces all.
    let other = json!({"Authorization": "Bearer downstream"});
    c.patch(&path, json!({"headers": other})).await.data(200);
    assert_eq!(c.webhook(&id).await["headers"], other);

    // {}: clears (and the field disappears).
    c.patch(&path, json!({"headers": {}})).await.data(200);
    let w = c.webhook(&id).await;
    assert!(w.get("headers").is_none(), "{w}");
}

#[tokio::test]
async fn header_rules_are_enforced() {
    let c = Client::start().await;
    let id = c.create("https://example.com/a", &[]).await;
    let path = format!("/webhook/{id}");
    let kept = json!({"x-kept": "v"});
    c.patch(&path, json!({"headers": kept})).await.data(200);

    for reserved in [
        "x-signature",
        "X-Signature",
        "HOST",
        "Content-Length",
        "content-type",
        "Connection",
        "Transfer-Encoding",
    ] {
        let a = c
            .patch(&path, json!({"headers": {"x-ok": "1", reserved: "v"}}))
            .await;
        a.bad_request_mentioning("reserved");
    }

    let eleven: serde_json::Map<String, Value> =
        (0..11).map(|i| (format!("x-h{i}"), json!("v"))).collect();
    c.patch(&path, json!({"headers": eleven}))
        .await
        .bad_request_mentioning("at most 10");
    let ten: serde_json::Map<String, Value> =
        (0..10).map(|i| (format!("x-h{i}"), json!("v"))).collect();
    c.patch(&path, json!({"headers": ten.clone()}))
        .await
        .data(200);
    assert_eq!(c.webhook(&id).await["headers"], Value::Object(ten.clone()));

    let long = "v".repeat(1025);
    c.patch(&path, json!({"headers": {"x-long": long}}))
        .await
        .bad_request_mentioning("1024");
    let a = c.patch(&path, json!({"headers": {"x-long": long}})).await;
    assert!(!a.text.contains(&long), "the value is not echoed");
    let max = "v".repeat(1024);
    c.patch(&path, json!({"headers": {"x-max": max}}))
        .await
        .data(200);
    c.patch(&path, json!({"headers": ten})).await.data(200);

    for bad_name in ["bad name", "x:y", "", "x-é", "(x)"] {
        c.patch(&path, json!({"headers": {bad_name: "v"}}))
            .await
            .bad_request_mentioning("header name");
    }
    for bad_value in [
        json!(1),
        json!(true),
        Value::Null,
        json!(["v"]),
        json!({"v": 1}),
    ] {
        c.patch(&path, json!({"headers": {"x-n": bad_value}}))
            .await
            .bad_request_mentioning("must be a string");
    }
    for bad_headers in [json!("x"), json!(["x-a", "v"]), Value::Null, json!(3)] {
        c.patch(&path, json!({"headers": bad_headers}))
            .await
            .bad_request_mentioning("headers");
    }
    // None of the refused updates touched the headers.
    let w = c.webhook(&id).await;
    assert_eq!(w["headers"].as_object().unwrap().len(), 10);
}

#[tokio::test]
async fn delete_refuses_while_subscribed() {
    let c = Client::start().await;
    let id = c
        .create("https://example.com/a", &[(AGENT, "post-conversation")])
        .await;

    assert_eq!(
        c.delete("/webhook/not-a-valid-id").await.errors(400),
        [INVALID_WEBHOOK_ID]
    );
    let a = c.delete(&format!("/webhook/{UNKNOWN_ID}")).await;
    assert_eq!(a.status, 404);
    assert_eq!(a.text, NOT_FOUND);

    let a = c.delete(&format!("/webhook/{id}")).await;
    assert_eq!(a.errors(400), [STILL_ASSIGNED]);
    assert_eq!(c.emu.webhooks().len(), 1);

    c.delete(&format!("/agent/{AGENT}/webhook-subscriptions"))
        .await
        .data(200);
    let a = c.delete(&format!("/webhook/{id}")).await;
    assert_eq!(a.data(200), json!("Webhook deleted successfully"));
    assert!(c.emu.webhooks().is_empty());
    assert_eq!(c.get(&format!("/webhook?webhookId={id}")).await.status, 404);
    assert_eq!(c.delete(&format!("/webhook/{id}")).await.status, 404);
}

#[tokio::test]
async fn replace_and_clear_work_across_webhooks() {
    let c = Client::start().await;
    let a = c
        .create(
            "https://example.com/a",
            &[(AGENT, "pre-conversation"), (AGENT, "post-conversation")],
        )
        .await;
    let b = c
        .create(
            "https://example.com/b",
            &[(AGENT, "pre-conversation"), (AGENT_2, "pre-conversation")],
        )
        .await;
    let pair = |w: &str, e: &str| (w.to_owned(), e.to_owned());
    let mut want = vec![
        pair(&a, "post-conversation"),
        pair(&a, "pre-conversation"),
        pair(&b, "pre-conversation"),
    ];
    want.sort();
    assert_eq!(c.agent_pairs(AGENT).await, want);

    // Replace: the agent's whole set, on every webhook, becomes the new one (deduped).
    let r = c
        .post(
            &format!("/agent/{AGENT}/webhook-subscriptions"),
            json!({"eventTypes": ["analytics-completed", "post-conversation", "analytics-completed"], "webhookId": a}),
        )
        .await;
    assert_eq!(r.data(201), json!("Subscriptions created successfully"));
    let mut want = vec![
        pair(&a, "analytics-completed"),
        pair(&a, "post-conversation"),
    ];
    want.sort();
    assert_eq!(c.agent_pairs(AGENT).await, want);
    // Webhook B keeps only the other agent's subscription.
    let wb = c.webhook(&b).await;
    let subs = wb["subscriptions"].as_array().unwrap();
    assert_eq!(subs.len(), 1);
    assert_eq!(subs[0]["agentId"]["_id"], json!(AGENT_2));
    assert_eq!(c.agent_pairs(AGENT_2).await, [pair(&b, "pre-conversation")]);

    // Replace onto B moves everything there.
    c.post(
        &format!("/agent/{AGENT}/webhook-subscriptions"),
        json!({"eventTypes": ["pre-conversation"], "webhookId": b}),
    )
    .await
    .data(201);
    assert_eq!(c.agent_pairs(AGENT).await, [pair(&b, "pre-conversation")]);
    assert_eq!(c.webhook(&a).await["subscriptions"], json!([]));

    // Clear: removes all the agent's subscriptions, nobody else's.
    let r = c
        .delete(&format!("/agent/{AGENT}/webhook-subscriptions"))
        .await;
    assert_eq!(r.data(200), json!("Subscriptions deleted successfully"));
    assert!(c.agent_pairs(AGENT).await.is_empty());
    assert_eq!(c.agent_pairs(AGENT_2).await, [pair(&b, "pre-conversation")]);
    // Clearing again is fine.
    c.delete(&format!("/agent/{AGENT}/webhook-subscriptions"))
        .await
        .data(200);
}

#[tokio::test]
async fn subscriptions_have_the_documented_shape() {
    let c = Client::start().await;
    let id = c
        .create("https://example.com/a", &[(AGENT, "analytics-completed")])
        .await;
    let answer = c
        .get(&format!("/agent/{AGENT}/webhook-subscriptions"))
        .await;
    let data = answer.data(200);
    let subs = data.as_array().unwrap();
    assert_eq!(subs.len(), 1);
    let s = subs[0].as_object().unwrap();
    let keys = answer.first_data_keys();
    assert_eq!(
        keys,
        [
            "_id",
            "webhookId",
            "agentId",
            "eventType",
            "createdAt",
            "updatedAt"
        ]
    );
    assert!(is_object_id(&s["_id"]));
    assert_eq!(s["webhookId"], json!(id));
    assert_eq!(s["agentId"], json!(AGENT), "a plain id string here");
    assert_eq!(s["eventType"], json!("analytics-completed"));
    assert!(is_api_timestamp(&s["createdAt"]));
    let parsed: Vec<WebhookSubscription> = serde_json::from_value(data.clone()).unwrap();
    assert_eq!(parsed[0].agent_id.as_ref().map(|a| a.as_str()), Some(AGENT));
}

#[tokio::test]
async fn subscription_requests_are_validated() {
    let c = Client::start().await;
    let id = c
        .create("https://example.com/a", &[(AGENT, "pre-conversation")])
        .await;
    let path = format!("/agent/{AGENT}/webhook-subscriptions");

    for bad_agent in ["xyz", "60d0fe4f5311236168a109c", "60d0fe4f5311236168a109cz"] {
        let p = format!("/agent/{bad_agent}/webhook-subscriptions");
        assert_eq!(c.get(&p).await.errors(400), [INVALID_AGENT_ID]);
        assert_eq!(c.delete(&p).await.errors(400), [INVALID_AGENT_ID]);
        let a = c
            .post(
                &p,
                json!({"eventTypes": ["pre-conversation"], "webhookId": id}),
            )
            .await;
        assert_eq!(a.errors(400), [INVALID_AGENT_ID]);
    }

    let cases = [
        (
            json!({"eventTypes": ["pre-conversation"], "webhookId": "nope"}),
            INVALID_WEBHOOK_ID,
        ),
        (
            json!({"eventTypes": ["pre-conversation"], "webhookId": 12}),
            "webhookId",
        ),
        (json!({"eventTypes": ["pre-conversation"]}), "webhookId"),
        (json!({"eventTypes": [], "webhookId": id}), "eventTypes"),
        (
            json!({"eventTypes": "pre-conversation", "webhookId": id}),
            "eventTypes",
        ),
        (
            json!({"eventTypes": ["pre-conversation", "call-started"], "webhookId": id}),
            "eventTypes[1]",
        ),
        (json!({"eventTypes": [1], "webhookId": id}), "eventTypes[0]"),
        (json!({"webhookId": id}), "eventTypes"),
    ];
    for (body, needle) in cases {
        c.post(&path, body).await.bad_request_mentioning(needle);
    }
    let auth = Some("Bearer test-api-key");
    for raw in [None, Some("{"), Some("[]")] {
        c.raw(Method::POST, &path, raw, auth).await.errors(400);
    }
    let a = c
        .post(
            &path,
            json!({"eventTypes": ["pre-conversation"], "webhookId": UNKNOWN_ID}),
        )
        .await;
    assert_eq!(a.status, 404);
    assert_eq!(a.text, NOT_FOUND);

    // Refused replacements left the existing subscription alone.
    assert_eq!(
        c.agent_pairs(AGENT).await,
        [(id.clone(), "pre-conversation".to_owned())]
    );
}

#[tokio::test]
async fn agents_are_remembered_on_first_use() {
    let c = Client::with(Emulator::builder().agent(AGENT, "Seeded", "seeded agent")).await;
    // A never-seen agent has no subscriptions, and is not an error.
    let fresh = "aaaaaaaaaaaaaaaaaa1b2c3d";
    assert_eq!(
        c.get(&format!("/agent/{fresh}/webhook-subscriptions"))
            .await
            .data(200),
        json!([])
    );
    let id = c
        .create(
            "https://example.com/a",
            &[(fresh, "pre-conversation"), (AGENT, "pre-conversation")],
        )
        .await;
    let w = c.webhook(&id).await;
    let agents: Vec<&Value> = w["subscriptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["agentId"])
        .collect();
    assert_eq!(agents[0]["_id"], json!(fresh));
    assert_eq!(agents[0]["name"], json!("Agent 1b2c3d"));
    assert!(agents[0]["description"].is_string());
    assert_eq!(
        agents[1],
        &json!({"_id": AGENT, "name": "Seeded", "description": "seeded agent"})
    );
}

#[tokio::test]
async fn unknown_paths_and_wrong_methods_answer_json() {
    let c = Client::start().await;
    for path in [
        "/",
        "/webhooks",
        "/webhook/",
        "/api/v1/webhook",
        "/agent/x",
        "/_emulator/nothing",
    ] {
        let a = c.get(path).await;
        a.errors(404);
    }
    for (method, path) in [
        (Method::PUT, "/webhook".to_owned()),
        (Method::DELETE, "/webhook".to_owned()),
        (Method::GET, format!("/webhook/{UNKNOWN_ID}")),
        (Method::POST, format!("/webhook/{UNKNOWN_ID}")),
        (
            Method::PATCH,
            format!("/agent/{AGENT}/webhook-subscriptions"),
        ),
    ] {
        let a = c.call(method.clone(), &path, None).await;
        a.errors(405);
        assert!(a.headers.contains_key("allow"), "{method} {path}");
        assert_eq!(a.headers["content-type"], "application/json");
    }
}
