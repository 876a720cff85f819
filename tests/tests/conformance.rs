//! The conformance suite, written once and run against both clients (blocking and async), each
//! against its own emulator on 127.0.0.1.

mod support;

use std::time::Duration;

use atoms_webhook_emulator::{CallOptions, Emulator, Fault, Op, Scenario};
use atoms_webhook_models::{
    CallDirection, CallId, CallStatus, CreateWebhookRequest, EventType, UpdateWebhookRequest,
};
use atoms_webhook_transport::{ApiErrorKind, BodyTooLarge, Error, ListConversations, RetryConfig};
use support::{test_config, Flavor, Ops};

use EventType::{AnalyticsCompleted as Ana, PostConversation as Post, PreConversation as Pre};

const KEY: &str = "conformance-key";
const AGENT_A: &str = "aaaaaaaaaaaaaaaaaaaaaaa1";
const AGENT_B: &str = "bbbbbbbbbbbbbbbbbbbbbbb2";
const AGENT_C: &str = "ccccccccccccccccccccccc3";
const MISSING: &str = "0123456789abcdef01234567";

fn emulator() -> Emulator {
    Emulator::builder()
        .api_key(KEY)
        .agent(AGENT_A, "Agent A", "first")
        .agent(AGENT_B, "Agent B", "second")
        .agent(AGENT_C, "Agent C", "third")
        .start_background()
        .expect("emulator")
}

fn client(f: &dyn Flavor, emu: &Emulator) -> Box<dyn Ops> {
    f.client(test_config(&emu.url(), emu.api_key()))
}

fn total_hits(emu: &Emulator) -> usize {
    Op::ALL.iter().map(|op| emu.hits(*op)).sum()
}

fn api_kind(r: Result<impl std::fmt::Debug, Error>) -> ApiErrorKind {
    match r {
        Err(e) => e
            .api_kind()
            .unwrap_or_else(|| panic!("expected an API error, got {e:?}")),
        Ok(v) => panic!("expected an error, got {v:?}"),
    }
}

fn event_types(
    subs: &[atoms_webhook_models::WebhookSubscription],
    webhook: &str,
) -> Vec<EventType> {
    let mut v: Vec<EventType> = subs
        .iter()
        .filter(|s| s.webhook_id.as_ref().is_some_and(|w| w.as_str() == webhook))
        .filter_map(|s| s.event_type.clone())
        .collect();
    v.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    v
}

fn sorted(mut v: Vec<EventType>) -> Vec<EventType> {
    v.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    v
}

// ----- every operation ----------------------------------------------------------------------

fn crud_round_trip(f: &dyn Flavor) {
    let emu = emulator();
    let c = client(f, &emu);
    assert!(c.list_webhooks().unwrap().is_empty());

    let id = c
        .create_webhook(
            CreateWebhookRequest::new("https://example.com/crm", "CRM").event(AGENT_A, Post),
        )
        .unwrap();
    assert!(id.is_object_id(), "{id:?}");

    let list = c.list_webhooks().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].id, id);
    assert_eq!(list[0].url.as_deref(), Some("https://example.com/crm"));
    assert_eq!(
        list[0].agent_ids(),
        vec![atoms_webhook_models::AgentId::from(AGENT_A)]
    );

    let got = c.get_webhook(id.as_str()).unwrap();
    assert_eq!(got.id, id);
    assert_eq!(got.description.as_deref(), Some("CRM"));
    assert!(got.signing_secret().is_some());

    let updated = c
        .update_webhook(
            id.as_str(),
            UpdateWebhookRequest::new()
                .description("CRM v2")
                .headers([("X-Team", "voice")]),
        )
        .unwrap();
    assert_eq!(updated, id);
    let got = c.get_webhook(id.as_str()).unwrap();
    assert_eq!(got.description.as_deref(), Some("CRM v2"));

    // Assigned: the documented refusal.
    assert_eq!(
        api_kind(c.delete_webhook(id.as_str())),
        ApiErrorKind::WebhookStillAssigned
    );
    assert!(!c.clear_agent_subscriptions(AGENT_A).unwrap().is_empty());
    assert!(c.agent_subscriptions(AGENT_A).unwrap().is_empty());
    assert!(!c.delete_webhook(id.as_str()).unwrap().is_empty());
    assert_eq!(api_kind(c.get_webhook(id.as_str())), ApiErrorKind::NotFound);
    assert!(c.list_webhooks().unwrap().is_empty());
    assert!(emu.webhooks().is_empty());
}

fn subscriptions_replace_and_clear(f: &dyn Flavor) {
    let emu = emulator();
    let c = client(f, &emu);
    let w1 = c
        .create_webhook(CreateWebhookRequest::new("https://example.com/1", ""))
        .unwrap();
    let w2 = c
        .create_webhook(CreateWebhookRequest::new("https://example.com/2", ""))
        .unwrap();

    c.replace_agent_subscriptions(AGENT_A, w1.as_str(), vec![Pre, Post])
        .unwrap();
    let subs = c.agent_subscriptions(AGENT_A).unwrap();
    assert_eq!(event_types(&subs, w1.as_str()), sorted(vec![Pre, Post]));

    // POST replaces everything, across webhooks.
    c.replace_agent_subscriptions(AGENT_A, w2.as_str(), vec![Ana])
        .unwrap();
    let subs = c.agent_subscriptions(AGENT_A).unwrap();
    assert_eq!(subs.len(), 1);
    assert_eq!(event_types(&subs, w2.as_str()), vec![Ana]);

    c.clear_agent_subscriptions(AGENT_A).unwrap();
    assert!(c.agent_subscriptions(AGENT_A).unwrap().is_empty());
}

fn secrets(f: &dyn Flavor) {
    let emu = emulator();
    let c = client(f, &emu);
    let created = c
        .create_webhook_with_secret(
            CreateWebhookRequest::new("https://example.com/s", "signed").event(AGENT_B, Pre),
        )
        .unwrap();
    assert!(!created.secret.is_empty());
    assert!(!format!("{created:?}").contains(created.secret.expose()));
    let again = c.signing_secret(created.id.as_str()).unwrap();
    assert_eq!(again.expose(), created.secret.expose());
    let listed = emu.webhooks();
    assert_eq!(
        listed[0].signing_secret().map(|s| s.expose().to_owned()),
        Some(created.secret.expose().to_owned())
    );
    assert_eq!(emu.hits(Op::CreateWebhook), 1);
    assert_eq!(emu.hits(Op::GetWebhook), 2);
}

// ----- documented errors --------------------------------------------------------------------

fn wrong_key_is_unauthorized(f: &dyn Flavor) {
    let emu = emulator();
    let c = f.client(test_config(&emu.url(), "wrong-key"));
    let err = c.list_webhooks().unwrap_err();
    assert_eq!(err.api_kind(), Some(ApiErrorKind::Unauthorized), "{err}");
    assert_eq!(err.status(), Some(http::StatusCode::UNAUTHORIZED));
    assert!(!err.to_string().contains("wrong-key"));
    assert!(!format!("{err:?}").contains("wrong-key"));
    // Not retried.
    assert_eq!(emu.hits(Op::ListWebhooks), 1);
}

fn invalid_and_missing_ids(f: &dyn Flavor) {
    let emu = emulator();
    let c = client(f, &emu);
    // Not an ObjectId: the server's 400, not a client-side refusal.
    assert_eq!(
        api_kind(c.get_webhook("not-an-object-id")),
        ApiErrorKind::InvalidId
    );
    assert_eq!(api_kind(c.delete_webhook("12345")), ApiErrorKind::InvalidId);
    assert_eq!(emu.hits(Op::GetWebhook), 1);
    assert_eq!(emu.hits(Op::DeleteWebhook), 1);
    // Well-formed but unknown.
    assert_eq!(api_kind(c.get_webhook(MISSING)), ApiErrorKind::NotFound);
    assert_eq!(api_kind(c.delete_webhook(MISSING)), ApiErrorKind::NotFound);
    assert_eq!(
        api_kind(c.update_webhook(MISSING, UpdateWebhookRequest::new().description("x"))),
        ApiErrorKind::NotFound
    );
}

fn duplicate_url(f: &dyn Flavor) {
    let emu = emulator();
    let c = client(f, &emu);
    let req = CreateWebhookRequest::new("https://example.com/dup", "");
    c.create_webhook(req.clone()).unwrap();
    let err = c.create_webhook(req).unwrap_err();
    assert_eq!(err.api_kind(), Some(ApiErrorKind::UrlAlreadyRegistered));
    assert_eq!(
        err.to_string(),
        "400 Bad Request: A webhook with this URL has already been registered"
    );
    assert_eq!(emu.hits(Op::CreateWebhook), 2);
    assert_eq!(emu.webhooks().len(), 1);
}

fn validation_sends_nothing(f: &dyn Flavor) {
    let emu = emulator();
    let c = client(f, &emu);
    fn field<T: std::fmt::Debug>(r: Result<T, Error>) -> String {
        match r {
            Err(Error::Validation(v)) => v.field().to_owned(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }
    fn s<T>(r: T) -> T {
        r
    }

    assert_eq!(field(s(c.get_webhook(""))), "id");
    assert_eq!(field(s(c.delete_webhook("a/b"))), "id");
    assert_eq!(field(s(c.agent_subscriptions("has space"))), "agent_id");
    assert_eq!(field(s(c.clear_agent_subscriptions(""))), "agent_id");
    assert_eq!(
        field(s(c.update_webhook(MISSING, UpdateWebhookRequest::new()))),
        "body"
    );
    assert_eq!(
        field(s(c.update_webhook(
            MISSING,
            UpdateWebhookRequest::new().headers([("Content-Type", "text/plain")])
        ))),
        "headers.Content-Type"
    );
    assert_eq!(
        field(s(c.update_webhook(
            MISSING,
            UpdateWebhookRequest::new().headers((0..11).map(|i| (format!("X-{i}"), "v")))
        ))),
        "headers"
    );
    assert_eq!(
        field(s(c.create_webhook(CreateWebhookRequest::new(
            "example.com/no-scheme",
            ""
        )))),
        "endpoint"
    );
    assert_eq!(
        field(s(c.create_webhook_with_secret(CreateWebhookRequest::new(
            "ftp://x.test",
            ""
        )))),
        "endpoint"
    );
    assert_eq!(
        field(s(c.replace_agent_subscriptions(AGENT_A, MISSING, vec![]))),
        "eventTypes"
    );
    assert_eq!(
        field(s(c.add_agent_events(AGENT_A, MISSING, vec![], false))),
        "event_types"
    );
    assert_eq!(
        field(s(c.add_agent_events("", MISSING, vec![Pre], false))),
        "agent_id"
    );
    assert_eq!(field(s(c.delete_webhook_cascade("", true))), "id");
    assert_eq!(
        total_hits(&emu),
        0,
        "validation errors must not reach the server"
    );
    assert_eq!(emu.connections(), 0);
}

fn unexpected_bodies_keep_the_status(f: &dyn Flavor) {
    let emu = emulator();
    let c = f.client(test_config(&emu.url(), KEY).retry(RetryConfig::disabled()));
    let html = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>nginx</body>\r\n</html>\r\n";
    emu.inject(
        Op::ListWebhooks,
        Fault::Respond {
            status: 502,
            headers: vec![("content-type".into(), "text/html".into())],
            body: html.into(),
        },
        1,
    );
    let err = c.list_webhooks().unwrap_err();
    assert_eq!(
        err.to_string(),
        "502 Bad Gateway: <html> <head><title>502 Bad Gateway</title></head> <body>nginx</body> </html>"
    );

    emu.inject(
        Op::ListWebhooks,
        Fault::Respond {
            status: 200,
            headers: vec![],
            body: r#"{"status":false,"errors":["Quota exceeded"]}"#.into(),
        },
        1,
    );
    let err = c.list_webhooks().unwrap_err();
    let api = err.api().expect("api error");
    assert_eq!(api.status, 200);
    assert_eq!(api.messages, vec!["Quota exceeded"]);

    emu.inject(
        Op::ListWebhooks,
        Fault::Respond {
            status: 200,
            headers: vec![],
            body: r#"{"status":true,"data":[{"_id":"x","subscriptions":5}]}"#.into(),
        },
        1,
    );
    match c.list_webhooks().unwrap_err() {
        Error::Decode { path, .. } => assert_eq!(path, "data[0].subscriptions"),
        other => panic!("{other:?}"),
    }

    emu.inject(Op::DeleteWebhook, Fault::status(503), 1);
    let err = c.delete_webhook(MISSING).unwrap_err();
    assert_eq!(err.to_string(), "503 Service Unavailable: Injected fault");
}

fn response_size_is_capped(f: &dyn Flavor) {
    let emu = emulator();
    let big = "x".repeat(4096);
    emu.inject(
        Op::ListWebhooks,
        Fault::Respond {
            status: 200,
            headers: vec![],
            body: format!(r#"{{"status":true,"data":[],"pad":"{big}"}}"#),
        },
        1,
    );
    let c = f.client(
        test_config(&emu.url(), KEY)
            .max_response_bytes(1024)
            .retry(RetryConfig::disabled()),
    );
    let err = c.list_webhooks().unwrap_err();
    let source = std::error::Error::source(&err).expect("source");
    assert_eq!(
        source.downcast_ref::<BodyTooLarge>(),
        Some(&BodyTooLarge { limit: 1024 }),
        "{err:?}"
    );
    // A normal answer still fits.
    assert!(c.list_webhooks().unwrap().is_empty());
}

// ----- conveniences -------------------------------------------------------------------------

fn add_events_keeps_current_ones(f: &dyn Flavor) {
    let emu = emulator();
    let c = client(f, &emu);
    let w1 = c
        .create_webhook(CreateWebhookRequest::new("https://example.com/a", "").event(AGENT_A, Pre))
        .unwrap();

    let plan = c
        .add_agent_events(AGENT_A, w1.as_str(), vec![Post, Ana], false)
        .unwrap();
    assert_eq!(sorted(plan.added.clone()), sorted(vec![Post, Ana]));
    let subs = c.agent_subscriptions(AGENT_A).unwrap();
    assert_eq!(
        event_types(&subs, w1.as_str()),
        sorted(vec![Pre, Post, Ana])
    );
    assert_eq!(emu.hits(Op::ReplaceSubscriptions), 1);

    // Nothing new: nothing is written.
    let plan = c
        .add_agent_events(AGENT_A, w1.as_str(), vec![Post], false)
        .unwrap();
    assert!(plan.request.is_none());
    assert_eq!(emu.hits(Op::ReplaceSubscriptions), 1);
}

fn add_events_refuses_to_drop_other_webhooks(f: &dyn Flavor) {
    let emu = emulator();
    let c = client(f, &emu);
    let w1 = c
        .create_webhook(CreateWebhookRequest::new("https://example.com/one", ""))
        .unwrap();
    let w2 = c
        .create_webhook(
            CreateWebhookRequest::new("https://example.com/two", "").event(AGENT_B, Ana),
        )
        .unwrap();

    let err = c
        .add_agent_events(AGENT_B, w1.as_str(), vec![Pre], false)
        .unwrap_err();
    let Error::ForeignSubscriptions(refusal) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(refusal.webhook_id, w1);
    assert_eq!(refusal.agents[0].agent_id.as_str(), AGENT_B);
    assert_eq!(
        refusal.agents[0].subscriptions[0].webhook_id.as_ref(),
        Some(&w2)
    );
    assert!(err.to_string().contains(w2.as_str()), "{err}");
    assert_eq!(emu.hits(Op::ReplaceSubscriptions), 0);
    assert_eq!(
        event_types(&c.agent_subscriptions(AGENT_B).unwrap(), w2.as_str()),
        vec![Ana]
    );

    let plan = c
        .add_agent_events(AGENT_B, w1.as_str(), vec![Pre], true)
        .unwrap();
    assert_eq!(plan.removed.len(), 1);
    let subs = c.agent_subscriptions(AGENT_B).unwrap();
    assert_eq!(event_types(&subs, w1.as_str()), vec![Pre]);
    assert!(event_types(&subs, w2.as_str()).is_empty());
}

fn cascade_delete(f: &dyn Flavor) {
    let emu = emulator();
    let c = client(f, &emu);
    // w1: agents A (only w1) and B (w1 and w2). w3: agent C only.
    let w1 = c
        .create_webhook(
            CreateWebhookRequest::new("https://example.com/c1", "")
                .events_for(AGENT_A, [Pre, Post])
                .event(AGENT_B, Post),
        )
        .unwrap();
    let w2 = c
        .create_webhook(CreateWebhookRequest::new("https://example.com/c2", "").event(AGENT_B, Ana))
        .unwrap();
    let w3 = c
        .create_webhook(CreateWebhookRequest::new("https://example.com/c3", "").event(AGENT_C, Ana))
        .unwrap();

    // B would lose its w2 subscription: refused, nothing touched.
    let err = c.delete_webhook_cascade(w1.as_str(), false).unwrap_err();
    let Error::ForeignSubscriptions(refusal) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(refusal.agents.len(), 1);
    assert_eq!(refusal.agents[0].agent_id.as_str(), AGENT_B);
    assert_eq!(emu.hits(Op::ClearSubscriptions), 0);
    assert_eq!(emu.hits(Op::DeleteWebhook), 0);
    assert_eq!(emu.webhooks().len(), 3);

    // Only its own agents: cleared and deleted.
    let report = c.delete_webhook_cascade(w3.as_str(), false).unwrap();
    assert_eq!(report.webhook_id, w3);
    assert_eq!(report.agents.len(), 1);
    assert_eq!(report.agents[0].agent_id.as_str(), AGENT_C);
    assert_eq!(report.agents[0].removed.len(), 1);
    assert!(report.agents[0].removed_other.is_empty());
    assert!(!report.message.is_empty());
    assert_eq!(api_kind(c.get_webhook(w3.as_str())), ApiErrorKind::NotFound);

    // Forced: B's w2 subscription goes too, and the report says so.
    let report = c.delete_webhook_cascade(w1.as_str(), true).unwrap();
    assert_eq!(report.removed_count(), 4);
    let b = report
        .agents
        .iter()
        .find(|a| a.agent_id.as_str() == AGENT_B)
        .unwrap();
    assert_eq!(b.removed.len(), 1);
    assert_eq!(b.removed_other.len(), 1);
    assert_eq!(b.removed_other[0].webhook_id.as_ref(), Some(&w2));
    let remaining = emu.webhooks();
    assert_eq!(remaining.len(), 1);
    assert_eq!(remaining[0].id, w2);
    assert!(remaining[0].subscription_list().is_empty());

    // A webhook without subscriptions is just deleted.
    let report = c.delete_webhook_cascade(w2.as_str(), false).unwrap();
    assert!(report.agents.is_empty());
    assert!(emu.webhooks().is_empty());
}

fn cascade_failure_reports_what_was_removed(f: &dyn Flavor) {
    let emu = emulator();
    let c = client(f, &emu);
    let w = c
        .create_webhook(
            CreateWebhookRequest::new("https://example.com/cf", "")
                .event(AGENT_A, Pre)
                .event(AGENT_B, Post),
        )
        .unwrap();
    // The first clear succeeds (answered by the fault queue), the second fails with a 400,
    // which is not retried.
    let hits_before = emu.hits(Op::ClearSubscriptions);
    emu.inject(
        Op::ClearSubscriptions,
        Fault::Respond {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body: r#"{"status":true,"data":"Subscriptions deleted successfully"}"#.into(),
        },
        1,
    );
    emu.inject(Op::ClearSubscriptions, Fault::status(400), 1);
    let err = c.delete_webhook_cascade(w.as_str(), false).unwrap_err();
    let Error::CascadeIncomplete { report, source } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(emu.hits(Op::ClearSubscriptions) - hits_before, 2);
    assert_eq!(report.agents.len(), 1, "only the first agent was cleared");
    assert_eq!(report.webhook_id, w);
    assert_eq!(source.status().map(|s| s.as_u16()), Some(400));
    assert_eq!(err.status().map(|s| s.as_u16()), Some(400));
    assert!(
        err.to_string().contains("stopped after clearing 1 agent"),
        "{err}"
    );
    assert_eq!(emu.hits(Op::DeleteWebhook), 0, "the webhook is not deleted");
    assert_eq!(emu.webhooks().len(), 1);
}

// ----- retries ------------------------------------------------------------------------------

fn retries_503_then_succeeds(f: &dyn Flavor) {
    let emu = emulator();
    let c = client(f, &emu);
    emu.inject(Op::ListWebhooks, Fault::status(503), 1);
    assert!(c.list_webhooks().unwrap().is_empty());
    assert_eq!(emu.hits(Op::ListWebhooks), 2);
    assert_eq!(c.slept(), [Duration::from_millis(5)]);

    // Three 503s: the first attempt and both retries fail; the last error is returned.
    emu.inject(Op::ListWebhooks, Fault::status(503), 3);
    let err = c.list_webhooks().unwrap_err();
    assert_eq!(err.status(), Some(http::StatusCode::SERVICE_UNAVAILABLE));
    assert_eq!(emu.hits(Op::ListWebhooks), 5);

    // Idempotent writes are retried too.
    emu.inject(Op::ClearSubscriptions, Fault::status(502), 1);
    c.clear_agent_subscriptions(AGENT_A).unwrap();
    assert_eq!(emu.hits(Op::ClearSubscriptions), 2);

    // Not retried: a 400 and a 501.
    emu.inject(Op::GetSubscriptions, Fault::status(501), 1);
    assert!(c.agent_subscriptions(AGENT_A).is_err());
    assert_eq!(emu.hits(Op::GetSubscriptions), 1);
}

fn retry_after_is_honoured(f: &dyn Flavor) {
    let emu = emulator();
    let c = client(f, &emu);
    // A 429 on a create is retried: the server refused without acting.
    emu.inject(Op::CreateWebhook, Fault::retry_after(429, "1"), 1);
    c.create_webhook(CreateWebhookRequest::new("https://example.com/ra", ""))
        .unwrap();
    // The server's delay exactly, not the 5 ms backoff.
    assert_eq!(c.slept(), [Duration::from_secs(1)]);
    assert_eq!(emu.hits(Op::CreateWebhook), 2);
    assert_eq!(emu.webhooks().len(), 1);

    // Longer than the configured maximum (2 s in tests): returned at once, with the delay.
    emu.inject(Op::ListWebhooks, Fault::retry_after(429, "30"), 1);
    let err = c.list_webhooks().unwrap_err();
    assert_eq!(err.retry_after(), Some(Duration::from_secs(30)));
    assert_eq!(emu.hits(Op::ListWebhooks), 1);
    assert_eq!(c.slept().len(), 1, "no second sleep");
}

fn create_is_not_repeated_after_a_timeout(f: &dyn Flavor) {
    let emu = emulator();
    let c = f.client(test_config(&emu.url(), KEY).timeout(Duration::from_millis(300)));
    emu.inject(
        Op::CreateWebhook,
        Fault::delay(Duration::from_millis(800)),
        1,
    );
    let err = c
        .create_webhook(CreateWebhookRequest::new("https://example.com/slow", ""))
        .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(!err.is_connect(), "{err:?}");
    assert_eq!(emu.hits(Op::CreateWebhook), 1);

    // An idempotent request meeting the same delay is retried (and the retry succeeds).
    emu.inject(
        Op::ListWebhooks,
        Fault::delay(Duration::from_millis(800)),
        1,
    );
    c.list_webhooks().unwrap();
    assert_eq!(emu.hits(Op::ListWebhooks), 2);
}

fn create_is_not_retried_on_5xx_unless_allowed(f: &dyn Flavor) {
    let emu = emulator();
    let c = client(f, &emu);
    emu.inject(Op::CreateWebhook, Fault::status(503), 1);
    let err = c
        .create_webhook(CreateWebhookRequest::new("https://example.com/5xx", ""))
        .unwrap_err();
    assert_eq!(err.status(), Some(http::StatusCode::SERVICE_UNAVAILABLE));
    assert_eq!(emu.hits(Op::CreateWebhook), 1);
    assert!(emu.webhooks().is_empty());

    emu.inject(Op::CreateWebhook, Fault::status(503), 1);
    c.create_webhook_retrying(CreateWebhookRequest::new("https://example.com/5xx", ""))
        .unwrap();
    assert_eq!(emu.hits(Op::CreateWebhook), 3);
    assert_eq!(emu.webhooks().len(), 1);
}

fn connect_failure_is_retried_even_for_create(f: &dyn Flavor) {
    let refused = atoms_webhook_tests::faulty::Refused::new();
    let c = f.client(test_config(&refused.url(), KEY));
    let err = c
        .create_webhook(CreateWebhookRequest::new("https://example.com/x", ""))
        .unwrap_err();
    assert!(err.is_connect(), "{err:?}");
    assert!(!format!("{err:?}").contains("Bearer"));
    // Two retries, after the policy's backoff: 5 ms then 10 ms.
    assert_eq!(
        c.slept(),
        [Duration::from_millis(5), Duration::from_millis(10)]
    );
}

// ----- connections --------------------------------------------------------------------------

fn one_keep_alive_connection(f: &dyn Flavor) {
    let emu = emulator();
    let c = client(f, &emu);
    let w = c
        .create_webhook(CreateWebhookRequest::new("https://example.com/ka", "").event(AGENT_A, Pre))
        .unwrap();
    c.list_webhooks().unwrap();
    c.get_webhook(w.as_str()).unwrap();
    c.agent_subscriptions(AGENT_A).unwrap();
    c.add_agent_events(AGENT_A, w.as_str(), vec![Post], false)
        .unwrap();
    let _ = c.get_webhook(MISSING).unwrap_err();
    c.delete_webhook_cascade(w.as_str(), false).unwrap();
    assert!(total_hits(&emu) >= 10);
    assert_eq!(emu.connections(), 1);
}

fn base_url_with_trailing_slash(f: &dyn Flavor) {
    let emu = emulator();
    let c = f.client(test_config(&format!("{}/", emu.url()), KEY));
    assert!(c.list_webhooks().unwrap().is_empty());
    assert_eq!(emu.hits(Op::ListWebhooks), 1);
}

// ----- tracing ------------------------------------------------------------------------------

/// A writer collecting everything the fmt subscriber prints.
#[derive(Clone, Default)]
struct Capture(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn traces_carry_no_secrets_or_bodies(f: &dyn Flavor) {
    let emu = emulator();
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    // While only one dispatcher is alive, tracing-core computes a new callsite's interest
    // from the default of whichever thread hits it first: another test's thread, without a
    // subscriber, would switch this test's callsites off. A second, idle dispatcher kept
    // alive for the whole run makes it ask every live dispatcher.
    static IDLE: std::sync::OnceLock<tracing::Dispatch> = std::sync::OnceLock::new();
    IDLE.get_or_init(|| tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default()));
    let secret = tracing::subscriber::with_default(subscriber, || {
        let c = client(f, &emu);
        emu.inject(Op::ListWebhooks, Fault::status(503), 1);
        let created = c
            .create_webhook_with_secret(
                CreateWebhookRequest::new("https://example.com/private-path", "Private label")
                    .event(AGENT_A, Pre),
            )
            .unwrap();
        c.list_webhooks().unwrap();
        let _ = c.get_webhook(MISSING);
        c.delete_webhook_cascade(created.id.as_str(), false)
            .unwrap();
        created.secret.expose().to_owned()
    });
    let out = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    // What is there: the span fields and the retry.
    assert!(out.contains("atoms_webhook.request"), "{out}");
    assert!(
        out.contains("path=\"/webhook/{id}\"") || out.contains("path=/webhook/{id}"),
        "{out}"
    );
    assert!(out.contains("attempt=2"), "{out}");
    assert!(out.contains("status=503"), "{out}");
    assert!(out.contains("retrying"), "{out}");
    // What is not: the key, the secret, bodies.
    for needle in [
        KEY,
        secret.as_str(),
        "private-path",
        "Private label",
        "Webhook not found",
    ] {
        assert!(!out.contains(needle), "traces contain {needle:?}:\n{out}");
    }
}

// ----- call logs ----------------------------------------------------------------------------

fn conversations_list_pages_and_filters(f: &dyn Flavor) {
    let emu = emulator();
    let c = client(f, &emu);
    let mut ids: Vec<CallId> = Vec::new();
    for agent in [AGENT_A, AGENT_B, AGENT_A] {
        ids.push(
            emu.simulate_call(CallOptions::new().agent_id(agent))
                .call_id,
        );
    }
    let inbound = emu
        .simulate_call(
            CallOptions::new()
                .agent_id(AGENT_C)
                .direction(CallDirection::TelephonyInbound)
                .call_status(CallStatus::NoAnswer),
        )
        .call_id;

    // Default order: last updated first; small pages.
    let page = c
        .list_conversations(ListConversations::new().limit(3))
        .unwrap();
    let got: Vec<_> = page
        .log_list()
        .iter()
        .filter_map(|l| l.call_id.clone())
        .collect();
    assert_eq!(got, [inbound.clone(), ids[2].clone(), ids[1].clone()]);
    assert!(page.has_more());
    let page2 = c
        .list_conversations(ListConversations::new().page(2).limit(3))
        .unwrap();
    assert_eq!(page2.log_list().len(), 1);
    assert_eq!(page2.log_list()[0].call_id.as_ref(), Some(&ids[0]));
    assert!(!page2.has_more());
    assert!(page.log_list().iter().all(|l| l.is_final()));

    // Filters.
    let a = c
        .list_conversations(ListConversations::new().limit(10).agent_ids([AGENT_A]))
        .unwrap();
    assert_eq!(a.log_list().len(), 2);
    assert!(a.log_list().iter().all(|l| l
        .resolved_agent_id()
        .is_some_and(|id| id.as_str() == AGENT_A)));
    let no_answer = c
        .list_conversations(
            ListConversations::new()
                .status_filter([CallStatus::NoAnswer, CallStatus::Failed])
                .call_types([CallDirection::TelephonyInbound]),
        )
        .unwrap();
    let got: Vec<_> = no_answer
        .log_list()
        .iter()
        .filter_map(|l| l.call_id.clone())
        .collect();
    assert_eq!(got, [inbound]);

    // What was sent: the default sort, never createdAt or a date range.
    let queries = emu.conversation_queries();
    assert_eq!(queries.len(), 4, "{queries:?}");
    for q in &queries {
        assert!(
            !q.contains("sortBy") && !q.contains("dateFrom") && !q.contains("dateTo"),
            "{q}"
        );
    }
    assert!(queries[0].contains("limit=3"), "{queries:?}");
}

fn conversation_by_call_id(f: &dyn Flavor) {
    let emu = emulator();
    let c = client(f, &emu);
    let call = emu
        .simulate_call(
            CallOptions::new()
                .agent_id(AGENT_B)
                .turns(4)
                .variable("crm_id", "42"),
        )
        .call_id;
    let log = c.get_conversation(call.as_str()).unwrap();
    assert_eq!(log.call_id.as_ref(), Some(&call));
    assert_eq!(
        log.resolved_agent_id().map(|a| a.to_string()),
        Some(AGENT_B.to_owned())
    );
    assert_eq!(log.status, Some(CallStatus::Completed));
    assert_eq!(log.transcript_list().len(), 4);
    assert!(log
        .variables
        .as_ref()
        .is_some_and(|v| v.get("crm_id").is_some()));
    assert!(log.post_call_analytics.is_some());
    // The same as the emulator's own record of it.
    let raw = emu.call_log(&call).unwrap();
    assert_eq!(serde_json::to_value(&log).unwrap(), raw);

    // Unknown, well-formed: the documented 404.
    assert_eq!(
        api_kind(c.get_conversation("CALL-1737000000000-abc123")),
        ApiErrorKind::NotFound
    );
    // Not of the documented form (a log's Mongo _id, a path trick): refused before any I/O.
    let before = total_hits(&emu);
    for bad in [
        MISSING,
        "CALL-123-abc123",
        "CALL-1737000000000-abc123/../x",
        "",
    ] {
        match c.get_conversation(bad) {
            Err(Error::Validation(v)) => assert_eq!(v.field(), "call_id"),
            other => panic!("{bad:?}: expected a validation error, got {other:?}"),
        }
    }
    assert!(matches!(
        c.list_conversations(ListConversations::new().limit(501)),
        Err(Error::Validation(_))
    ));
    assert_eq!(total_hits(&emu), before);
}

fn conversations_are_retried_and_non_final_logs_show(f: &dyn Flavor) {
    let emu = emulator();
    let c = client(f, &emu);
    let call = emu
        .simulate_call(Scenario::new(CallOptions::new().agent_id(AGENT_A)).final_after(2))
        .call_id;
    emu.inject(Op::ListConversations, Fault::status(503), 1);
    emu.inject(Op::GetConversation, Fault::status(429), 1);
    // Each fault is retried once (the refused attempts read nothing); the log shows
    // `in_progress` for its first two reads, then its final status.
    let page = c.list_conversations(ListConversations::new()).unwrap();
    assert_eq!(emu.hits(Op::ListConversations), 2);
    assert_eq!(page.log_list().len(), 1);
    assert_eq!(page.log_list()[0].status, Some(CallStatus::InProgress));
    assert!(!page.log_list()[0].is_final());
    let second = c.get_conversation(call.as_str()).unwrap();
    assert_eq!(emu.hits(Op::GetConversation), 2);
    assert_eq!(second.status, Some(CallStatus::InProgress));
    let third = c.get_conversation(call.as_str()).unwrap();
    assert!(third.is_final(), "{:?}", third.status);
    assert_eq!(c.slept().len(), 2, "{:?}", c.slept());
}

macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod blocking {
            $( #[test] fn $name() { super::$name(&super::support::Blocking) } )*
        }
        mod asynchronous {
            $( #[test] fn $name() { super::$name(&super::support::Async) } )*
        }
    };
}

conformance!(
    crud_round_trip,
    subscriptions_replace_and_clear,
    secrets,
    wrong_key_is_unauthorized,
    invalid_and_missing_ids,
    duplicate_url,
    validation_sends_nothing,
    unexpected_bodies_keep_the_status,
    response_size_is_capped,
    add_events_keeps_current_ones,
    add_events_refuses_to_drop_other_webhooks,
    cascade_delete,
    cascade_failure_reports_what_was_removed,
    retries_503_then_succeeds,
    retry_after_is_honoured,
    create_is_not_repeated_after_a_timeout,
    create_is_not_retried_on_5xx_unless_allowed,
    connect_failure_is_retried_even_for_create,
    one_keep_alive_connection,
    base_url_with_trailing_slash,
    traces_carry_no_secrets_or_bodies,
    conversations_list_pages_and_filters,
    conversation_by_call_id,
    conversations_are_retried_and_non_final_logs_show,
);
