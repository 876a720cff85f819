//! Secret and personal-data hygiene: the whole conformance flow with both clients (create,
//! list, get, update with headers, subscriptions, add events, errors, signed deliveries of a
//! simulated call, cascade delete) under a global tracing subscriber that records everything at
//! TRACE (the SDK, reqwest, hyper, ureq through `log`, the emulator), while every config,
//! client, request, response, error and event met is also formatted with `{:?}`/`{:#?}` (and
//! `{}` where it has `Display`). Neither text may contain the API key, a signing secret, a
//! phone number, the customer's name or any transcript text, whole or in part (any 12
//! characters), as written or escaped by `Debug` or JSON.
//!
//! One exception, pinned by its own check: ureq-proto's TRACE hex dump of raw bytes (upstream;
//! asserted to still happen, so that the exception goes when it does). The `Debug` of
//! deliveries and custom headers is checked on its own by the last two tests.
//!
//! One flow test in this binary: the subscriber is global. `HYGIENE_DUMP=DIR` writes the
//! traces and the formatted values to DIR for a look.

// Shared with the conformance suite; this file uses only some of the operations.
#[allow(dead_code)]
mod support;

use std::fmt::{Debug, Display, Write as _};
use std::sync::{Arc, Mutex};

use atoms_webhook_emulator::{CallOptions, Emulator, Fault, Op};
use atoms_webhook_models::{
    CreateWebhookRequest, EventType, UpdateWebhookRequest, Verifier, WebhookEvent,
};
use atoms_webhook_tests::faulty::{Behavior, FaultServer, Reply};
use atoms_webhook_transport::endpoint::{CreateWebhook, ListWebhooks};
use atoms_webhook_transport::{build, Error};
use support::{test_config, Flavor};

use EventType::{AnalyticsCompleted as Ana, PostConversation as Post, PreConversation as Pre};

const KEY: &str = "sk-hygiene-9f8e7d6c5b4a";
const MISSING: &str = "0123456789abcdef01234567";
/// A downstream credential set as a custom header on a webhook.
const HEADER_TOKEN: &str = "hdr-token-31415926";
const CUSTOMER: &str = "Zorawar Tiwana";

/// Everything the fmt subscriber writes.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Capture {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// Everything the test formatted, labelled.
#[derive(Default)]
struct Shown {
    text: String,
    items: usize,
}

impl Shown {
    fn debug(&mut self, label: &str, v: &impl Debug) {
        writeln!(self.text, "{label}: {v:?}").unwrap();
        writeln!(self.text, "{label}: {v:#?}").unwrap();
        self.items += 1;
    }

    fn both(&mut self, label: &str, v: &(impl Debug + Display)) {
        self.debug(label, v);
        writeln!(self.text, "{label}: {v}").unwrap();
    }

    fn result<T: Debug>(&mut self, label: &str, r: &Result<T, Error>) {
        match r {
            Ok(v) => self.debug(label, v),
            Err(e) => self.error(label, e),
        }
    }

    /// An error, its `Display`, `Debug` and every `source` in the chain.
    fn error(&mut self, label: &str, e: &(dyn std::error::Error + 'static)) {
        writeln!(self.text, "{label}: {e}").unwrap();
        writeln!(self.text, "{label}: {e:?}").unwrap();
        let mut source = e.source();
        while let Some(s) = source {
            writeln!(self.text, "{label} caused by: {s} / {s:?}").unwrap();
            source = s.source();
        }
        self.items += 1;
    }
}

/// The secrets and personal data met along the way, to look for afterwards.
#[derive(Default)]
struct Needles(Vec<(String, String)>);

impl Needles {
    fn add(&mut self, what: &str, value: &str) {
        assert!(!value.is_empty(), "empty needle for {what}");
        self.0.push((what.to_owned(), value.to_owned()));
    }
}

fn expect_err<T: Debug>(label: &str, r: Result<T, Error>) -> Error {
    match r {
        Err(e) => e,
        Ok(v) => panic!("{label}: expected an error, got {v:?}"),
    }
}

/// The flow of one client, with its own agents, receiver and phone numbers.
#[allow(clippy::too_many_arguments)]
fn flow(
    name: &str,
    flavor: &dyn Flavor,
    emu: &Emulator,
    agent: &str,
    other_agent: &str,
    phones: (&str, &str),
    shown: &mut Shown,
    needles: &mut Needles,
) {
    let config = test_config(&emu.url(), KEY);
    shown.debug(&format!("{name} config"), &config);
    shown.debug(&format!("{name} retry config"), &config.retry);
    let blocking = atoms_webhook_blocking::Client::new(config.clone()).unwrap();
    shown.debug(&format!("{name} blocking client"), &blocking);
    let asynchronous = atoms_webhook_async::Client::new(config.clone()).unwrap();
    shown.debug(&format!("{name} async client"), &asynchronous);
    let c = flavor.client(config.clone());

    // A receiver for the deliveries: three events, each answered 200.
    let ok = Behavior::Respond(Reply::new(200).body("ok"));
    let receiver = FaultServer::start(vec![ok; 3]);
    let hook = format!("{}/atoms/{name}", receiver.url());

    // Create, with the request as built for the wire.
    let create = CreateWebhookRequest::new(hook.clone(), format!("{name} hygiene"))
        .events_for(agent, [Pre, Post, Ana]);
    shown.debug(&format!("{name} create request"), &create);
    let wire = build(&config, &CreateWebhook::new(create.clone())).unwrap();
    shown.debug(&format!("{name} wire request"), &wire);
    shown.debug(
        &format!("{name} wire list request"),
        &build(&config, &ListWebhooks::new()).unwrap(),
    );
    let created = c.create_webhook_with_secret(create).unwrap();
    shown.debug(&format!("{name} created"), &created);
    needles.add(&format!("{name} signing secret"), created.secret.expose());
    let id = created.id.clone();

    // List (every secret of the organization) and get, after a retried 503.
    emu.inject(Op::ListWebhooks, Fault::status(503), 1);
    let list = c.list_webhooks();
    shown.result(&format!("{name} list"), &list);
    for w in list.unwrap() {
        shown.debug(&format!("{name} listed webhook"), &w);
        if let Some(s) = w.signing_secret() {
            needles.add(&format!("{name} listed secret of {}", w.id), s.expose());
        }
    }
    let got = c.get_webhook(id.as_str());
    shown.result(&format!("{name} get"), &got);
    let secret = got.unwrap().signing_secret().cloned().expect("secret");
    shown.debug(&format!("{name} secret"), &secret);

    // Update with custom headers (a downstream credential among them).
    let update = UpdateWebhookRequest::new()
        .description(format!("{name} hygiene v2"))
        .headers([("X-Tenant", "t1"), ("X-Downstream-Token", HEADER_TOKEN)]);
    shown.debug(&format!("{name} update request"), &update);
    shown.result(
        &format!("{name} update"),
        &c.update_webhook(id.as_str(), update),
    );
    shown.result(
        &format!("{name} get after update"),
        &c.get_webhook(id.as_str()),
    );

    // Subscriptions.
    shown.result(
        &format!("{name} agent subscriptions"),
        &c.agent_subscriptions(agent),
    );
    shown.result(
        &format!("{name} add events"),
        &c.add_agent_events(other_agent, id.as_str(), vec![Ana], false),
    );
    shown.result(
        &format!("{name} replace"),
        &c.replace_agent_subscriptions(other_agent, id.as_str(), vec![Pre, Ana]),
    );

    // Errors.
    let e = expect_err("missing", c.get_webhook(MISSING));
    shown.error(&format!("{name} not found"), &e);
    let e = expect_err("assigned", c.delete_webhook(id.as_str()));
    shown.error(&format!("{name} still assigned"), &e);
    let e = expect_err(
        "reserved header",
        c.update_webhook(
            id.as_str(),
            UpdateWebhookRequest::new().headers([("X-Signature", HEADER_TOKEN)]),
        ),
    );
    shown.error(&format!("{name} validation"), &e);
    let wrong = flavor.client(test_config(&emu.url(), "sk-wrong-key"));
    let e = expect_err("wrong key", wrong.list_webhooks());
    shown.error(&format!("{name} unauthorized"), &e);
    // A body the SDK cannot decode that carries a signing secret: the snippet masks it.
    emu.inject(
        Op::ListWebhooks,
        Fault::Respond {
            status: 200,
            headers: vec![],
            body: format!(
                r#"{{"status":true,"data":[{{"_id":"{id}","decryptedSecretKey":"{}","subscriptions":5}}]}}"#,
                secret.expose()
            ),
        },
        1,
    );
    let e = expect_err("decode", c.list_webhooks());
    assert!(matches!(e, Error::Decode { .. }), "{e:?}");
    shown.error(&format!("{name} decode"), &e);

    // A simulated call: three signed deliveries to the receiver.
    let opts = CallOptions::new()
        .agent_id(agent)
        .from_number(phones.0)
        .to_number(phones.1)
        .turns(8)
        .variable("customer_name", CUSTOMER);
    let report = emu.simulate_call(opts);
    shown.debug(&format!("{name} call report"), &report);
    assert!(report.all_delivered(), "{report:?}");
    let deliveries = receiver.requests();
    assert_eq!(deliveries.len(), 3, "{name}: deliveries");
    let verifier = Verifier::new(secret.clone()).unwrap();
    shown.debug(&format!("{name} verifier"), &verifier);
    for d in &deliveries {
        let signature = d.header("x-signature").expect("signed");
        let event = verifier.verify_and_parse(&d.body, signature).unwrap();
        // What a receiver logs about an event, the whole event's `Debug` included.
        shown.debug(&format!("{name} event"), &event);
        shown.both(&format!("{name} event type"), &event.event_type());
        shown.debug(&format!("{name} agent id"), &event.agent_id());
        if let Some(call) = event.call_id() {
            shown.both(&format!("{name} call id"), &call);
        }
        if let Some(id) = event.delivery_id() {
            shown.both(&format!("{name} delivery id"), &id);
        }
        if let WebhookEvent::PostConversation(post) = &event {
            let turns = post.metadata.transcript.as_deref().unwrap_or(&[]);
            assert_eq!(turns.len(), 8, "{name}: transcript turns");
            for turn in turns {
                needles.add(&format!("{name} transcript turn"), turn.text());
            }
        }
        // A tampered body: the verification error.
        let mut tampered = d.body.clone();
        tampered.push(b' ');
        let e = verifier.verify_and_parse(&tampered, signature).unwrap_err();
        shown.error(&format!("{name} tampered"), &e);
        // A body of the wrong shape around the personal data: the parse error.
        let text = String::from_utf8(d.body.clone()).unwrap();
        for (number, digits) in [phones.0, phones.1].map(|p| (p, p.trim_start_matches('+'))) {
            // Phone numbers sent as JSON numbers instead of strings.
            let bad = text.replace(&format!("\"{number}\""), digits);
            if bad != text {
                let e = WebhookEvent::from_slice(bad.as_bytes()).unwrap_err();
                shown.error(&format!("{name} phone as a number"), &e);
            }
        }
        let bad = text.replace(
            r#""callId":"#,
            r#""callId":{"customer":"Zorawar Tiwana"},"x":"#,
        );
        if let Err(e) = WebhookEvent::from_slice(bad.as_bytes()) {
            shown.error(&format!("{name} wrong shape"), &e);
        }
    }
    for (label, number) in [("from", phones.0), ("to", phones.1)] {
        needles.add(&format!("{name} {label} number"), number);
        needles.add(
            &format!("{name} {label} number digits"),
            number.trim_start_matches('+'),
        );
    }

    // Cascade delete: both agents cleared, then the webhook.
    let report = c.delete_webhook_cascade(id.as_str(), true);
    shown.result(&format!("{name} cascade"), &report);
    assert_eq!(report.unwrap().agents.len(), 2, "{name}: cascade");
    shown.debug(&format!("{name} webhooks left"), &emu.webhooks());
}

#[test]
fn no_secret_or_personal_data_in_traces_or_formatted_values() {
    let capture = Capture::default();
    let writer = capture.clone();
    // Global (the emulator's threads and the HTTP stacks' too), with the `log` bridge (ureq).
    use tracing_subscriber::util::SubscriberInitExt;
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish()
        .try_init()
        .expect("the only global subscriber of this test binary");

    let emu = Emulator::builder()
        .api_key(KEY)
        .agent("aaaaaaaaaaaaaaaaaaaaaaa1", "Agent A", "blocking")
        .start_background()
        .expect("emulator");
    let mut shown = Shown::default();
    let mut needles = Needles::default();
    needles.add("API key", KEY);
    needles.add("customer name", CUSTOMER);
    flow(
        "blocking",
        &support::Blocking,
        &emu,
        "aaaaaaaaaaaaaaaaaaaaaaa1",
        "aaaaaaaaaaaaaaaaaaaaaaa2",
        ("+14155550123", "+919876543210"),
        &mut shown,
        &mut needles,
    );
    flow(
        "async",
        &support::Async,
        &emu,
        "bbbbbbbbbbbbbbbbbbbbbbb1",
        "bbbbbbbbbbbbbbbbbbbbbbb2",
        ("+442071838750", "+918045678901"),
        &mut shown,
        &mut needles,
    );
    emu.shutdown();

    let traces = capture.text();
    if let Ok(dir) = std::env::var("HYGIENE_DUMP") {
        std::fs::write(format!("{dir}/traces.txt"), &traces).unwrap();
        std::fs::write(format!("{dir}/shown.txt"), &shown.text).unwrap();
    }
    // The test looks at something real: traces at every level from the SDK and the HTTP stacks,
    // and formatted values of every kind.
    for expected in [
        "atoms_webhook.request{",
        "atoms_webhook.operation{operation=\"create_webhook_with_secret\"}",
        "atoms_webhook.operation{operation=\"add_agent_events\"}",
        "atoms_webhook.operation{operation=\"delete_webhook_cascade\"}",
        "operation=\"update_webhook\"",
        "path=\"/webhook/{id}\"",
        "path=\"/agent/{agentId}/webhook-subscriptions\"",
        "status=503",
        "attempt failed, retrying",
        "status=404",
        "status=401",
        " TRACE ",
        " DEBUG ",
    ] {
        assert!(
            traces.contains(expected),
            "the traces lack {expected:?} ({} bytes):\n{traces}",
            traces.len()
        );
    }
    assert!(shown.items > 80, "only {} values formatted", shown.items);
    for expected in [
        "ApiKey([redacted])",
        "SigningSecret([redacted])",
        "\"decryptedSecretKey\":\"[redacted]\"",
        "404 Not Found",
        "401 Unauthorized",
        "Cannot delete webhook",
        "invalid headers.X-Signature",
        "PostConversation",
        "metadata.fromPhone",
        "signature mismatch",
    ] {
        assert!(
            shown.text.contains(expected),
            "the formatted values lack {expected:?}:\n{}",
            shown.text
        );
    }
    assert!(needles.0.len() >= 20, "{} needles", needles.0.len());

    // ureq-proto hex-dumps every byte it sends and receives at TRACE (through `log`): the
    // Authorization header and the bodies, signing secrets included, 16 bytes a line. Nothing
    // in this SDK can stop that; the blocking client's docs and RELIABILITY.md say to keep
    // `ureq_proto` below TRACE. Its lines are checked apart: if a future ureq stops dumping
    // raw bytes, this fails, and the exception can go.
    let (dumps, traces): (Vec<&str>, Vec<&str>) = traces
        .lines()
        .partition(|l| l.contains(" ureq_proto::util: "));
    let (dumps, traces) = (dumps.join("\n"), traces.join("\n"));
    assert!(
        leak(KEY, &dumps).is_some(),
        "ureq-proto no longer dumps the API key at TRACE: drop the exception"
    );

    println!(
        "hygiene: {} needles checked against {} formatted values ({} bytes) and {} trace lines \
         ({} bytes; {} ureq-proto dump lines set apart)",
        needles.0.len(),
        shown.items,
        shown.text.len(),
        traces.lines().count(),
        traces.len(),
        dumps.lines().count(),
    );
    let mut leaks = Vec::new();
    for (what, needle) in &needles.0 {
        for (where_, text) in [("traces", &traces), ("formatted values", &shown.text)] {
            if let Some(line) = leak(needle, text) {
                leaks.push(format!("{what} {needle:?} in the {where_}: {line}"));
            }
        }
    }
    assert!(
        leaks.is_empty(),
        "{} leak(s):\n{}",
        leaks.len(),
        leaks.join("\n")
    );
}

/// Where `needle` shows in `text`, as written, as `Debug` escapes it or as JSON escapes it, in
/// whole or in part (any 12 characters of it: a hex dump cuts a value into 16-byte lines): the
/// line it shows in, or `None`.
fn leak(needle: &str, text: &str) -> Option<String> {
    const W: usize = 12;
    let debug = format!("{needle:?}");
    let json = serde_json::to_string(needle).unwrap();
    let forms = [needle, &debug[1..debug.len() - 1], &json[1..json.len() - 1]];
    for form in forms {
        let chars: Vec<(usize, char)> = form.char_indices().collect();
        let fragments: Vec<&str> = if chars.len() <= W {
            vec![form]
        } else {
            let step = if chars.len() <= 2 * W { 1 } else { 3 };
            (0..=chars.len() - W)
                .step_by(step)
                .map(|i| {
                    let end = chars.get(i + W).map_or(form.len(), |(b, _)| *b);
                    &form[chars[i].0..end]
                })
                .collect()
        };
        for fragment in fragments {
            if let Some(at) = text.find(fragment) {
                let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
                let end = text[at..].find('\n').map_or(text.len(), |i| at + i);
                let line: String = text[start..end].chars().take(240).collect();
                return Some(format!("{fragment:?} in: {line}"));
            }
        }
    }
    None
}

// ----- `Debug` of deliveries and custom headers ----------------------------------------------

/// The `Debug` of deliveries (derived) prints phone numbers, names and the transcript, and an
/// event of an unknown type prints its raw body: `tracing::info!(?event)` logs them.
#[test]
fn events_debug_hides_personal_data() {
    use atoms_webhook_emulator::sample::call_events;
    let (from, to) = ("+14155550123", "+919876543210");
    let opts = CallOptions::new()
        .from_number(from)
        .to_number(to)
        .turns(4)
        .variable("customer_name", CUSTOMER);
    let mut shown = Shown::default();
    let mut needles = Needles::default();
    for number in [from, to] {
        needles.add("phone number", number);
        needles.add("phone number digits", number.trim_start_matches('+'));
    }
    needles.add("customer name", CUSTOMER);
    for event in call_events(&opts, "https://example.com/hook", "CRM") {
        shown.debug("event", &event);
        if let WebhookEvent::PostConversation(post) = &event {
            for turn in post.metadata.transcript.as_deref().unwrap_or(&[]) {
                needles.add("transcript turn", turn.text());
                shown.debug("turn", turn);
            }
            shown.debug("variables", &post.metadata.variables);
            shown.debug("call data", &post.metadata.call_data);
        }
    }
    // An event type this version does not know keeps its raw body.
    let unknown = WebhookEvent::from_slice(
        format!(
            r#"{{"url":"u","description":"d","event":"a.call-transferred","id":"d1",
            "metadata":{{"agentId":"a","eventType":"call-transferred","callId":"CALL-1",
            "toPhone":"{to}"}}}}"#
        )
        .as_bytes(),
    )
    .unwrap();
    assert!(unknown.is_unknown());
    shown.debug("unknown event", &unknown);
    let leaks: Vec<String> = needles
        .0
        .iter()
        .filter_map(|(what, n)| leak(n, &shown.text).map(|l| format!("{what}: {l}")))
        .collect();
    assert!(
        leaks.is_empty(),
        "{} leak(s):\n{}",
        leaks.len(),
        leaks.join("\n")
    );
}

/// A webhook's custom headers are sent to the receiver with every delivery: often a credential
/// of the receiver. `Debug` of the update request, and of a webhook that echoes them, prints
/// their values.
#[test]
fn custom_header_values_are_not_printed() {
    let mut shown = Shown::default();
    let update = UpdateWebhookRequest::new().headers([("Authorization", HEADER_TOKEN)]);
    shown.debug("update request", &update);
    let webhook: atoms_webhook_models::Webhook = serde_json::from_str(&format!(
        r#"{{"_id":"{MISSING}","url":"https://example.com/h","headers":{{"Authorization":"{HEADER_TOKEN}"}}}}"#
    ))
    .unwrap();
    shown.debug("webhook", &webhook);
    assert!(shown.text.contains("Authorization"), "{}", shown.text);
    if let Some(l) = leak(HEADER_TOKEN, &shown.text) {
        panic!("custom header value printed: {l}");
    }
}
