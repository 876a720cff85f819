//! `build` and `decode` of every endpoint: URLs, headers, bodies, envelopes and errors.

use std::time::Duration;

use atoms_webhook_models::{CreateWebhookRequest, EventType, UpdateWebhookRequest};
use atoms_webhook_transport::endpoint::*;
use atoms_webhook_transport::{
    build, decode, ApiErrorKind, Config, Error, DEFAULT_BASE_URL, LEGACY_BASE_URL, USER_AGENT_VALUE,
};
use http::{Method, Response};

const ID: &str = "64f0c0ffee0000000000abcd";
const AGENT: &str = "60d0fe4f5311236168a109ca";

fn config() -> Config {
    Config::new("sk-test-key").base_url("http://127.0.0.1:8080")
}

fn respond(status: u16, body: &str) -> Response<Vec<u8>> {
    Response::builder()
        .status(status)
        .body(body.as_bytes().to_vec())
        .unwrap()
}

fn create_body() -> CreateWebhookRequest {
    CreateWebhookRequest::new("https://example.com/hook", "CRM")
        .event(AGENT, EventType::PostConversation)
}

#[test]
fn base_urls_join_with_or_without_slash_and_prefix() {
    for (base, expected) in [
        ("http://h:1", "http://h:1/webhook"),
        ("http://h:1/", "http://h:1/webhook"),
        (
            "https://api.smallest.ai/atoms/v1",
            "https://api.smallest.ai/atoms/v1/webhook",
        ),
        (
            "https://api.smallest.ai/atoms/v1/",
            "https://api.smallest.ai/atoms/v1/webhook",
        ),
        (
            "https://api.smallest.ai/atoms/v1//",
            "https://api.smallest.ai/atoms/v1/webhook",
        ),
        (
            LEGACY_BASE_URL,
            "https://atoms-api.smallest.ai/api/v1/webhook",
        ),
        (DEFAULT_BASE_URL, "https://api.smallest.ai/atoms/v1/webhook"),
    ] {
        let req = build(&Config::new("k").base_url(base), &ListWebhooks::new()).unwrap();
        assert_eq!(req.uri().to_string(), expected, "{base}");
    }
}

#[test]
fn every_endpoint_has_its_method_and_path() {
    let c = config();
    let b = "http://127.0.0.1:8080";
    let cases: Vec<(http::Request<Vec<u8>>, Method, String)> = vec![
        (
            build(&c, &ListWebhooks::new()).unwrap(),
            Method::GET,
            format!("{b}/webhook"),
        ),
        (
            build(&c, &GetWebhook::new(ID)).unwrap(),
            Method::GET,
            format!("{b}/webhook?webhookId={ID}"),
        ),
        (
            build(&c, &CreateWebhook::new(create_body())).unwrap(),
            Method::POST,
            format!("{b}/webhook"),
        ),
        (
            build(
                &c,
                &UpdateWebhook::new(ID, UpdateWebhookRequest::new().description("x")),
            )
            .unwrap(),
            Method::PATCH,
            format!("{b}/webhook/{ID}"),
        ),
        (
            build(&c, &DeleteWebhook::new(ID)).unwrap(),
            Method::DELETE,
            format!("{b}/webhook/{ID}"),
        ),
        (
            build(&c, &GetAgentSubscriptions::new(AGENT)).unwrap(),
            Method::GET,
            format!("{b}/agent/{AGENT}/webhook-subscriptions"),
        ),
        (
            build(
                &c,
                &ReplaceAgentSubscriptions::new(AGENT, ID, [EventType::PreConversation]),
            )
            .unwrap(),
            Method::POST,
            format!("{b}/agent/{AGENT}/webhook-subscriptions"),
        ),
        (
            build(&c, &ClearAgentSubscriptions::new(AGENT)).unwrap(),
            Method::DELETE,
            format!("{b}/agent/{AGENT}/webhook-subscriptions"),
        ),
    ];
    for (req, method, uri) in cases {
        assert_eq!(req.method(), method);
        assert_eq!(req.uri().to_string(), uri);
    }
}

#[test]
fn ids_are_percent_encoded() {
    let c = config();
    let req = build(&c, &DeleteWebhook::new("a?b#c%d")).unwrap();
    assert_eq!(req.uri().path(), "/webhook/a%3Fb%23c%25d");
    let req = build(&c, &GetWebhook::new("x&y=z")).unwrap();
    assert_eq!(req.uri().query(), Some("webhookId=x%26y%3Dz"));
    let req = build(&c, &GetAgentSubscriptions::new("ä")).unwrap();
    assert_eq!(req.uri().path(), "/agent/%C3%A4/webhook-subscriptions");
}

#[test]
fn headers_are_set_and_auth_is_sensitive() {
    let req = build(&config(), &ListWebhooks::new()).unwrap();
    let h = req.headers();
    assert_eq!(h["authorization"], "Bearer sk-test-key");
    assert!(h["authorization"].is_sensitive());
    assert_eq!(h["user-agent"], USER_AGENT_VALUE);
    assert!(USER_AGENT_VALUE.starts_with("atoms-webhook-rust/0."));
    assert_eq!(h["accept"], "application/json");
    assert!(h.get("content-type").is_none());
    assert!(req.body().is_empty());
    // The key never shows in Debug.
    assert!(!format!("{req:?}").contains("sk-test-key"));

    let req = build(&config(), &CreateWebhook::new(create_body())).unwrap();
    assert_eq!(req.headers()["content-type"], "application/json");
    let body: serde_json::Value = serde_json::from_slice(req.body()).unwrap();
    assert_eq!(
        body,
        serde_json::json!({
            "endpoint": "https://example.com/hook",
            "description": "CRM",
            "events": [{"agentId": AGENT, "eventType": "post-conversation"}]
        })
    );
}

#[test]
fn bodies_of_update_and_replace() {
    let req = build(
        &config(),
        &UpdateWebhook::new(ID, UpdateWebhookRequest::new().clear_headers()),
    )
    .unwrap();
    assert_eq!(req.body(), br#"{"headers":{}}"#);
    let req = build(
        &config(),
        &ReplaceAgentSubscriptions::new(
            AGENT,
            ID,
            [EventType::PreConversation, EventType::AnalyticsCompleted],
        ),
    )
    .unwrap();
    let body: serde_json::Value = serde_json::from_slice(req.body()).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"eventTypes": ["pre-conversation", "analytics-completed"], "webhookId": ID})
    );
}

fn validation(r: Result<http::Request<Vec<u8>>, Error>) -> (String, String) {
    match r {
        Err(Error::Validation(v)) => (v.field().to_owned(), v.message().to_owned()),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[test]
fn validation_before_any_io() {
    let c = config();
    assert_eq!(validation(build(&c, &GetWebhook::new(""))).0, "id");
    assert_eq!(validation(build(&c, &DeleteWebhook::new("a/b"))).0, "id");
    assert_eq!(
        validation(build(
            &c,
            &UpdateWebhook::new("a b", UpdateWebhookRequest::new().description("x"))
        ))
        .0,
        "id"
    );
    assert_eq!(
        validation(build(&c, &GetAgentSubscriptions::new(" "))).0,
        "agent_id"
    );
    assert_eq!(
        validation(build(&c, &ClearAgentSubscriptions::new(""))).0,
        "agent_id"
    );

    let (field, msg) = validation(build(
        &c,
        &UpdateWebhook::new(ID, UpdateWebhookRequest::new()),
    ));
    assert_eq!(field, "body");
    assert!(msg.contains("at least one"), "{msg}");

    let bad = CreateWebhookRequest::new("example.com/hook", "d");
    let (field, msg) = validation(build(&c, &CreateWebhook::new(bad)));
    assert_eq!(field, "endpoint");
    assert!(msg.contains("absolute http(s) URL"), "{msg}");
    let bad = CreateWebhookRequest::new("ftp://example.com/hook", "d");
    assert_eq!(
        validation(build(&c, &CreateWebhook::new(bad))).0,
        "endpoint"
    );
    let bad = CreateWebhookRequest::new("https://example.com/hook", "d")
        .event("", EventType::PreConversation);
    assert_eq!(
        validation(build(&c, &CreateWebhook::new(bad))).0,
        "events[0].agentId"
    );
    // An empty description is allowed (the field is always sent).
    let ok = CreateWebhookRequest::new("https://example.com/hook", "");
    let req = build(&c, &CreateWebhook::new(ok)).unwrap();
    assert!(String::from_utf8_lossy(req.body()).contains(r#""description":"""#));

    let upd = UpdateWebhookRequest::new().endpoint("not a url");
    assert_eq!(
        validation(build(&c, &UpdateWebhook::new(ID, upd))).0,
        "endpoint"
    );
    let upd = UpdateWebhookRequest::new().headers([("X-Signature", "x")]);
    let (field, msg) = validation(build(&c, &UpdateWebhook::new(ID, upd)));
    assert_eq!(field, "headers.X-Signature");
    assert!(msg.contains("reserved"));
    let upd = UpdateWebhookRequest::new().headers((0..11).map(|i| (format!("X-{i}"), "v")));
    assert_eq!(
        validation(build(&c, &UpdateWebhook::new(ID, upd))).0,
        "headers"
    );
    let upd = UpdateWebhookRequest::new().headers([("X-Long", "a".repeat(1025))]);
    assert_eq!(
        validation(build(&c, &UpdateWebhook::new(ID, upd))).0,
        "headers.X-Long"
    );
    let upd = UpdateWebhookRequest::new().headers([("Bad Name", "v")]);
    assert_eq!(
        validation(build(&c, &UpdateWebhook::new(ID, upd))).0,
        "headers.Bad Name"
    );

    let (field, _) = validation(build(&c, &ReplaceAgentSubscriptions::new(AGENT, ID, [])));
    assert_eq!(field, "eventTypes");
    let (field, _) = validation(build(
        &c,
        &ReplaceAgentSubscriptions::new(AGENT, "", [EventType::PreConversation]),
    ));
    assert_eq!(field, "webhookId");

    // The configuration is checked too.
    let (field, _) = validation(build(
        &Config::new("k").base_url("not a url"),
        &ListWebhooks::new(),
    ));
    assert_eq!(field, "base_url");
    let (field, _) = validation(build(
        &Config::new("").base_url("http://h"),
        &ListWebhooks::new(),
    ));
    assert_eq!(field, "api_key");
}

#[test]
fn decode_envelopes_and_one_or_many() {
    let one = format!(
        r#"{{"status":true,"data":{{"_id":"{ID}","url":"https://e.test/h","decryptedSecretKey":"whsec"}}}}"#
    );
    let many = format!(r#"{{"status":true,"data":[{{"_id":"{ID}"}},{{"_id":"other"}}]}}"#);
    let single_array = format!(r#"{{"status":true,"data":[{{"_id":"{ID}"}}]}}"#);

    assert_eq!(
        decode::<ListWebhooks>(respond(200, &many)).unwrap().len(),
        2
    );
    assert_eq!(decode::<ListWebhooks>(respond(200, &one)).unwrap().len(), 1);
    assert_eq!(
        decode::<ListWebhooks>(respond(200, r#"{"status":true,"data":[]}"#))
            .unwrap()
            .len(),
        0
    );

    let w = decode::<GetWebhook>(respond(200, &one)).unwrap();
    assert_eq!(w.id.as_str(), ID);
    assert_eq!(w.signing_secret().unwrap().expose(), "whsec");
    assert_eq!(
        decode::<GetWebhook>(respond(200, &single_array))
            .unwrap()
            .id
            .as_str(),
        ID
    );
    match decode::<GetWebhook>(respond(200, &many)) {
        Err(Error::Decode { path, .. }) => assert_eq!(path, "data"),
        other => panic!("{other:?}"),
    }

    let id = decode::<CreateWebhook>(respond(201, &format!(r#"{{"status":true,"data":"{ID}"}}"#)))
        .unwrap();
    assert_eq!(id.as_str(), ID);
    let id = decode::<UpdateWebhook>(respond(
        200,
        &format!(r#"{{"status":true,"data":{{"_id":"{ID}"}}}}"#),
    ))
    .unwrap();
    assert_eq!(id.as_str(), ID);

    assert_eq!(
        decode::<DeleteWebhook>(respond(200, r#"{"status":true,"data":"Deleted"}"#)).unwrap(),
        "Deleted"
    );
    assert_eq!(
        decode::<ClearAgentSubscriptions>(respond(200, r#"{"status":true,"data":{"deleted":3}}"#))
            .unwrap(),
        r#"{"deleted":3}"#
    );
    let subs = decode::<GetAgentSubscriptions>(respond(
        200,
        &format!(r#"{{"status":true,"data":[{{"_id":"s1","webhookId":"{ID}","agentId":"{AGENT}","eventType":"brand-new"}}]}}"#),
    ))
    .unwrap();
    assert_eq!(
        subs[0].event_type,
        Some(EventType::Unknown("brand-new".into()))
    );
    assert_eq!(
        decode::<ReplaceAgentSubscriptions>(respond(201, r#"{"status":true,"data":"ok"}"#))
            .unwrap(),
        "ok"
    );
}

#[test]
fn status_false_on_2xx_is_an_api_error() {
    let e = decode::<ListWebhooks>(respond(
        200,
        r#"{"status":false,"errors":["Something failed"]}"#,
    ))
    .unwrap_err();
    let api = e.api().expect("api error");
    assert_eq!(api.status, 200);
    assert_eq!(api.messages, vec!["Something failed"]);
    assert!(e.to_string().contains("Something failed"), "{e}");

    let e = decode::<DeleteWebhook>(respond(200, r#"{"status":false,"data":"nope"}"#)).unwrap_err();
    assert!(matches!(e, Error::Api(_)), "{e:?}");
}

#[test]
fn html_and_empty_error_bodies_keep_the_status() {
    let html = "<html>\n<head><title>502 Bad Gateway</title></head>\n<body>nginx</body>\n</html>";
    let e = decode::<ListWebhooks>(respond(502, html)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "502 Bad Gateway: <html> <head><title>502 Bad Gateway</title></head> <body>nginx</body> </html>"
    );
    assert_eq!(e.status(), Some(http::StatusCode::BAD_GATEWAY));
    assert!(e.is_retryable());
    assert_eq!(e.api_kind(), Some(ApiErrorKind::Server));

    let e = decode::<ListWebhooks>(respond(503, "")).unwrap_err();
    assert_eq!(e.to_string(), "503 Service Unavailable: (empty body)");
    assert_eq!(e.api().unwrap().snippet, "");

    let long = "x".repeat(5000);
    let e = decode::<ListWebhooks>(respond(500, &long)).unwrap_err();
    assert!(e.api().unwrap().snippet.chars().count() <= 201);
}

#[test]
fn undecodable_success_names_the_path_and_hides_secrets() {
    let body = r#"{"status":true,"data":[{"_id":"a","decryptedSecretKey":"whsec-very-secret","subscriptions":"oops"}]}"#;
    let e = decode::<ListWebhooks>(respond(200, body)).unwrap_err();
    match &e {
        Error::Decode {
            status,
            path,
            snippet,
            ..
        } => {
            assert_eq!(*status, 200);
            assert_eq!(path, "data[0].subscriptions");
            assert!(!snippet.contains("whsec-very-secret"), "{snippet}");
        }
        other => panic!("{other:?}"),
    }
    assert!(!e.to_string().contains("whsec-very-secret"));
    assert!(!format!("{e:?}").contains("whsec-very-secret"));

    let e = decode::<ListWebhooks>(respond(200, "<html>maintenance</html>")).unwrap_err();
    assert!(
        matches!(&e, Error::Decode { path, .. } if path == "."),
        "{e:?}"
    );
    assert!(e.to_string().contains("<html>maintenance</html>"), "{e}");
    let e = decode::<DeleteWebhook>(respond(200, "")).unwrap_err();
    assert!(matches!(e, Error::Decode { .. }));
}

#[test]
fn documented_error_kinds() {
    let kind = |status: u16, msg: &str| {
        let body = serde_json::json!({"status": false, "errors": [msg]}).to_string();
        decode::<ListWebhooks>(respond(status, &body))
            .unwrap_err()
            .api_kind()
            .unwrap()
    };
    assert_eq!(
        kind(400, "A webhook with this URL has already been registered"),
        ApiErrorKind::UrlAlreadyRegistered
    );
    assert_eq!(
        kind(
            400,
            "Cannot delete webhook: It is currently assigned to one or more agents. Please remove all agent assignments first."
        ),
        ApiErrorKind::WebhookStillAssigned
    );
    assert_eq!(
        kind(400, "The provided Webhook ID is invalid."),
        ApiErrorKind::InvalidId
    );
    assert_eq!(kind(400, "something else"), ApiErrorKind::Other);
    assert_eq!(kind(401, "Unauthorized"), ApiErrorKind::Unauthorized);
    assert_eq!(kind(403, "Forbidden"), ApiErrorKind::Forbidden);
    assert_eq!(kind(404, "Webhook not found"), ApiErrorKind::NotFound);
    assert_eq!(kind(429, "slow down"), ApiErrorKind::RateLimited);
    assert_eq!(kind(500, "boom"), ApiErrorKind::Server);

    // Objects and a top-level message are read too.
    let e = decode::<ListWebhooks>(respond(
        400,
        r#"{"status":false,"errors":[{"message":"A"}],"message":"B"}"#,
    ))
    .unwrap_err();
    assert_eq!(e.api().unwrap().messages, vec!["A", "B"]);
    assert_eq!(e.to_string(), "400 Bad Request: A; B");
    assert!(!e.is_retryable());
}

#[test]
fn retry_after_is_kept_on_the_error() {
    let resp = Response::builder()
        .status(429)
        .header("retry-after", "12")
        .body(Vec::new())
        .unwrap();
    let e = decode::<ListWebhooks>(resp).unwrap_err();
    assert_eq!(e.retry_after(), Some(Duration::from_secs(12)));
    assert!(e.is_retryable());
}

#[test]
fn errors_never_show_the_api_key() {
    let e = build(
        &Config::new("sk-secret\nx").base_url("http://h"),
        &ListWebhooks::new(),
    )
    .unwrap_err();
    assert!(!e.to_string().contains("sk-secret"));
    assert!(!format!("{e:?}").contains("sk-secret"));
}
