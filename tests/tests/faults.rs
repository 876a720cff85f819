//! Both clients against a server that misbehaves on purpose (`atoms_webhook_tests::faulty`):
//! each fault gives the right typed error, or recovers, after exactly the number of attempts
//! the server counted, without a panic; and a create that may have reached the server (a
//! timeout, a lost connection, a 5xx) is never sent twice.
//!
//! Every case runs both clients at once (one thread each), each against its own server.
//! Timeouts are 1 s (0.5 s where every attempt times out anyway). The clients record the
//! delays their retry policy chose instead of sleeping them (see `support`), so the cases
//! assert those delays, never the time that passed.

// Shared with the conformance suite; this file uses only some of the operations.
#[allow(dead_code)]
mod support;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, SystemTime};

use atoms_webhook_models::CreateWebhookRequest;
use atoms_webhook_tests::faulty::{Behavior, FaultServer, Refused, Reply, Seen};
use atoms_webhook_tests::reset_mid_body;
use atoms_webhook_transport::{
    ApiErrorKind, BodyTooLarge, Config, Error, Jitter, RetryConfig, RetryPolicy,
};
use support::{test_config, Flavor, Ops};

const KEY: &str = "fault-key";
const ID: &str = "64f0c0ffee0000000000abcd";
const TIMEOUT: Duration = Duration::from_secs(1);
/// The timeout of the cases where every attempt times out anyway (the server never answers in
/// time), to keep them short.
const SHORT_TIMEOUT: Duration = Duration::from_millis(500);
/// With the default of two retries, an idempotent request is tried at most this many times.
const MAX_ATTEMPTS: usize = 3;

/// For the large bodies: moving 16-50 MiB through a debug build on a busy machine may take
/// longer than 1 s, and these cases are about the size limit, not about time.
fn roomy(url: &str) -> Config {
    config(url).timeout(Duration::from_secs(20))
}

fn short_timeout(url: &str) -> Config {
    config(url).timeout(SHORT_TIMEOUT)
}

fn config(url: &str) -> Config {
    test_config(url, KEY)
        .timeout(TIMEOUT)
        .connect_timeout(TIMEOUT)
        .retry(
            RetryConfig::default()
                .max_retries(2)
                .base_delay(Duration::from_millis(1))
                .max_delay(Duration::from_millis(4))
                .max_retry_after(Duration::from_secs(5))
                .jitter(Jitter::None),
        )
}

// ----- running one call against one script --------------------------------------------------

/// Which operation a case calls.
#[derive(Clone, Copy, Debug)]
enum Call {
    /// `GET /webhook`: idempotent, retried on anything transient.
    List,
    /// `POST /webhook`: retried only when nothing can have been created.
    Create,
    /// `POST /webhook` with every retry allowed by the caller.
    CreateRetrying,
}

impl Call {
    fn run(self, c: &dyn Ops) -> Result<String, Error> {
        let req = || CreateWebhookRequest::new("https://example.com/fault", "fault");
        match self {
            Call::List => c.list_webhooks().map(|v| format!("{} webhooks", v.len())),
            Call::Create => c.create_webhook(req()).map(|id| id.to_string()),
            Call::CreateRetrying => c.create_webhook_retrying(req()).map(|id| id.to_string()),
        }
    }

    fn request_line(self) -> &'static str {
        match self {
            Call::List => "GET /webhook",
            Call::Create | Call::CreateRetrying => "POST /webhook",
        }
    }
}

/// What one call came to.
struct Run {
    label: String,
    result: Result<String, Error>,
    /// Requests the server received (zero when nothing listened).
    server: usize,
    /// Attempts the client made: one more than the delays it was asked to sleep.
    client: usize,
    /// The delays the retry policy chose, in order.
    slept: Vec<Duration>,
    requests: Vec<Seen>,
}

impl Run {
    fn err(&self) -> &Error {
        match &self.result {
            Err(e) => e,
            Ok(v) => panic!("{}: expected an error, got Ok({v})", self.label),
        }
    }

    fn ok(&self) -> &str {
        match &self.result {
            Ok(v) => v,
            Err(e) => panic!("{}: expected success, got {e:?}", self.label),
        }
    }

    /// The server counted exactly `n` requests, all of them this call's, and so did the client.
    fn attempts(&self, call: Call, n: usize) -> &Self {
        // Shown with `--nocapture`: the table of cases in RELIABILITY.md comes from here.
        println!(
            "{:<36} server {} client {} slept {:?} -> {}",
            self.label,
            self.server,
            self.client,
            self.slept,
            match &self.result {
                Ok(v) => format!("Ok({v})"),
                Err(e) => format!("Err({e})"),
            }
        );
        assert_eq!(
            self.server, n,
            "{}: the server counted {} request(s), expected {n}: {:?} ({:?})",
            self.label, self.server, self.requests, self.result
        );
        assert_eq!(
            self.client, n,
            "{}: the client made {} attempt(s), the server counted {n}",
            self.label, self.client
        );
        for r in &self.requests {
            assert_eq!(r.to_string(), call.request_line(), "{}", self.label);
        }
        self
    }
}

/// The fixed "now" of the clients' retry policy (for `Retry-After` as an HTTP date).
const NOW: fn() -> SystemTime = || SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);

/// Calls `call` with a client of `flavor` on `url`; returns its result and the delays its
/// retry policy chose (recorded by the client's sleeper, not slept).
fn call_at(
    label: &str,
    flavor: &dyn Flavor,
    config: Config,
    call: Call,
) -> (Result<String, Error>, Vec<Duration>) {
    let policy = RetryPolicy::new(config.retry).clock(NOW);
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let client = flavor.client_with(config, policy);
        let result = call.run(client.as_ref());
        (result, client.slept())
    }));
    outcome.unwrap_or_else(|_| panic!("{label}: the client panicked"))
}

/// Runs `call` against a fresh server playing `script`. Every behaviour must be used.
fn scripted(label: &str, flavor: &dyn Flavor, call: Call, script: Vec<Behavior>) -> Run {
    scripted_with(label, flavor, call, script, config)
}

fn scripted_with(
    label: &str,
    flavor: &dyn Flavor,
    call: Call,
    script: Vec<Behavior>,
    make_config: fn(&str) -> Config,
) -> Run {
    let server = FaultServer::start(script);
    let (result, slept) = call_at(label, flavor, make_config(&server.url()), call);
    let run = Run {
        label: label.to_owned(),
        result,
        server: server.attempts(),
        client: slept.len() + 1,
        slept,
        requests: server.requests(),
    };
    assert_eq!(
        server.remaining(),
        0,
        "{label}: the script was not played to the end ({:?})",
        run.result
    );
    // A request counted by the server always came on its own connection (`Connection: close`).
    assert_eq!(server.connections(), run.server, "{label}");
    run
}

/// Runs `case` for the blocking and the async client at the same time, one thread each.
fn both(case: impl Fn(&str, &dyn Flavor) + Sync) {
    let flavors: [(&str, &(dyn Flavor + Sync)); 2] =
        [("blocking", &support::Blocking), ("async", &support::Async)];
    std::thread::scope(|s| {
        let handles: Vec<_> = flavors
            .iter()
            .map(|(name, f)| {
                let case = &case;
                s.spawn(move || case(name, *f))
            })
            .collect();
        let mut failed = Vec::new();
        for (h, (name, _)) in handles.into_iter().zip(flavors) {
            if h.join().is_err() {
                failed.push(name);
            }
        }
        assert!(failed.is_empty(), "failed for the {failed:?} client(s)");
    });
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn times(n: usize, b: Behavior) -> Vec<Behavior> {
    vec![b; n]
}

fn list_ok() -> Behavior {
    Behavior::Respond(Reply::json(200, r#"{"status":true,"data":[]}"#))
}

fn created() -> Behavior {
    Behavior::Respond(Reply::json(
        201,
        &format!(r#"{{"status":true,"data":"{ID}"}}"#),
    ))
}

fn json(status: u16, body: &str) -> Behavior {
    Behavior::Respond(Reply::json(status, body))
}

fn transport_stage(e: &Error) -> Option<bool> {
    match e {
        Error::Transport { .. } => Some(e.is_connect()),
        _ => None,
    }
}

/// A transport failure after the connection was made (the request may have arrived).
fn assert_lost(run: &Run) {
    let e = run.err();
    assert_eq!(transport_stage(e), Some(false), "{}: {e:?}", run.label);
    assert!(e.is_retryable(), "{}", run.label);
    assert!(e.status().is_none(), "{}", run.label);
}

/// A timeout after the connection was made.
fn assert_timed_out(run: &Run) {
    let e = run.err();
    assert!(
        e.is_timeout() && !e.is_connect(),
        "{}: expected a timeout after connecting, got {e:?}",
        run.label
    );
    assert!(
        e.to_string()
            .starts_with("request timed out (the request may have reached the server)"),
        "{}: {e}",
        run.label
    );
}

fn assert_decode(run: &Run, status: u16) -> String {
    match run.err() {
        Error::Decode {
            status: s, path, ..
        } => {
            assert_eq!(s.as_u16(), status, "{}", run.label);
            assert!(!run.err().is_retryable(), "{}", run.label);
            path.clone()
        }
        other => panic!("{}: expected a decode error, got {other:?}", run.label),
    }
}

fn assert_api(run: &Run, status: u16, kind: ApiErrorKind) {
    let e = run.err();
    let api = e
        .api()
        .unwrap_or_else(|| panic!("{}: expected an API error, got {e:?}", run.label));
    assert_eq!(api.status.as_u16(), status, "{}: {e}", run.label);
    assert_eq!(api.kind(), kind, "{}: {e}", run.label);
}

// ----- connection-level faults --------------------------------------------------------------

#[test]
fn connection_refused_is_a_connect_error_retried_even_for_a_create() {
    both(|name, f| {
        let refused = Refused::new();
        for call in [Call::List, Call::Create] {
            let label = format!("{name} {call:?} refused");
            let (result, slept) = call_at(&label, f, config(&refused.url()), call);
            let client = slept.len() + 1;
            let e = result.expect_err("nothing listens");
            assert_eq!(transport_stage(&e), Some(true), "{label}: {e:?}");
            assert!(e
                .to_string()
                .starts_with("HTTP transport failed while connecting (nothing was sent)"));
            // Nothing was sent, so even the create is retried: 1 + 2 retries, after the
            // policy's backoff of 1 ms then 2 ms.
            assert_eq!(client, MAX_ATTEMPTS, "{label}");
            assert_eq!(slept, [ms(1), ms(2)], "{label}");
            println!("{label:<36} server - client {client} -> Err({e})");
        }
    });
}

#[test]
fn hang_up_without_an_answer() {
    both(|name, f| {
        let run = scripted(
            &format!("{name} list hang-up"),
            f,
            Call::List,
            times(MAX_ATTEMPTS, Behavior::HangUp),
        );
        run.attempts(Call::List, MAX_ATTEMPTS);
        assert_lost(&run);

        let run = scripted(
            &format!("{name} create hang-up"),
            f,
            Call::Create,
            vec![Behavior::HangUp],
        );
        run.attempts(Call::Create, 1);
        assert_lost(&run);
    });
}

#[test]
fn connection_reset_mid_body() {
    both(|name, f| {
        let run = scripted(
            &format!("{name} list reset"),
            f,
            Call::List,
            times(MAX_ATTEMPTS, reset_mid_body()),
        );
        run.attempts(Call::List, MAX_ATTEMPTS);
        assert_lost(&run);

        // Recovers when the next attempt is answered.
        let run = scripted(
            &format!("{name} list reset then ok"),
            f,
            Call::List,
            vec![reset_mid_body(), list_ok()],
        );
        run.attempts(Call::List, 2);
        assert_eq!(run.ok(), "0 webhooks");

        let run = scripted(
            &format!("{name} create reset"),
            f,
            Call::Create,
            vec![reset_mid_body()],
        );
        run.attempts(Call::Create, 1);
        assert_lost(&run);
    });
}

#[test]
fn body_shorter_than_its_content_length() {
    both(|name, f| {
        let body = r#"{"status":true,"data":[{"_id":"64f0c0ffee0000000000abcd"}]}"#;
        let cut = Behavior::Truncated {
            reply: Reply::json(200, body),
            sent: 20,
        };
        let run = scripted(
            &format!("{name} list cut"),
            f,
            Call::List,
            times(MAX_ATTEMPTS, cut.clone()),
        );
        run.attempts(Call::List, MAX_ATTEMPTS);
        assert_lost(&run);

        let run = scripted(&format!("{name} create cut"), f, Call::Create, vec![cut]);
        run.attempts(Call::Create, 1);
        assert_lost(&run);
    });
}

// ----- bodies that are not the documented JSON ----------------------------------------------

#[test]
fn truncated_json_is_a_decode_error_with_a_snippet() {
    both(|name, f| {
        let run = scripted(
            &format!("{name} truncated json"),
            f,
            Call::List,
            vec![json(200, r#"{"status":true,"data":[{"_id":"64f0c0ff"#)],
        );
        run.attempts(Call::List, 1);
        assert_decode(&run, 200);
        let Error::Decode { snippet, .. } = run.err() else {
            unreachable!()
        };
        assert_eq!(snippet, r#"{"status":true,"data":[{"_id":"64f0c0ff"#);
    });
}

#[test]
fn html_502_keeps_the_status_and_is_retried_but_never_for_a_create() {
    let page = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body><center>nginx</center></body>\r\n</html>\r\n";
    let bad_gateway = || {
        Behavior::Respond(
            Reply::new(502)
                .header("content-type", "text/html")
                .body(page),
        )
    };
    both(|name, f| {
        let run = scripted(
            &format!("{name} list 502"),
            f,
            Call::List,
            times(MAX_ATTEMPTS, bad_gateway()),
        );
        run.attempts(Call::List, MAX_ATTEMPTS);
        assert_api(&run, 502, ApiErrorKind::Server);
        assert_eq!(
            run.err().to_string(),
            "502 Bad Gateway: <html> <head><title>502 Bad Gateway</title></head> <body><center>nginx</center></body> </html>"
        );

        let run = scripted(
            &format!("{name} list 502 then ok"),
            f,
            Call::List,
            vec![bad_gateway(), list_ok()],
        );
        run.attempts(Call::List, 2);
        run.ok();

        let run = scripted(
            &format!("{name} create 502"),
            f,
            Call::Create,
            vec![bad_gateway()],
        );
        run.attempts(Call::Create, 1);
        assert_api(&run, 502, ApiErrorKind::Server);
    });
}

#[test]
fn empty_200_is_a_decode_error() {
    both(|name, f| {
        let run = scripted(
            &format!("{name} empty 200"),
            f,
            Call::List,
            vec![Behavior::Respond(Reply::new(200))],
        );
        run.attempts(Call::List, 1);
        assert_decode(&run, 200);
        assert!(
            run.err().to_string().contains("(empty body)"),
            "{}",
            run.err()
        );

        let run = scripted(
            &format!("{name} create empty 201"),
            f,
            Call::Create,
            vec![Behavior::Respond(Reply::new(201))],
        );
        run.attempts(Call::Create, 1);
        assert_decode(&run, 201);
    });
}

#[test]
fn status_false_with_200_is_an_api_error() {
    both(|name, f| {
        let run = scripted(
            &format!("{name} status false"),
            f,
            Call::List,
            vec![json(
                200,
                r#"{"status":false,"errors":["Organization suspended"]}"#,
            )],
        );
        run.attempts(Call::List, 1);
        let e = run.err();
        let api = e.api().expect("api error");
        assert_eq!(api.status.as_u16(), 200);
        assert_eq!(api.messages, vec!["Organization suspended"]);
        assert!(!e.is_retryable());
        assert_eq!(
            e.to_string(),
            "200 OK with \"status\": false: Organization suspended"
        );
    });
}

#[test]
fn invalid_utf8() {
    both(|name, f| {
        // Inside a JSON string of a success body: a decode error, not a panic.
        let mut body = br#"{"status":true,"data":[{"_id":""#.to_vec();
        body.extend_from_slice(b"\xff\xfe\xc3");
        body.extend_from_slice(br#""}]}"#);
        let run = scripted(
            &format!("{name} invalid utf-8 200"),
            f,
            Call::List,
            vec![Behavior::Respond(
                Reply::new(200)
                    .header("content-type", "application/json")
                    .body(body),
            )],
        );
        run.attempts(Call::List, 1);
        assert_decode(&run, 200);
        assert!(run.err().to_string().contains('\u{fffd}'), "{}", run.err());

        // As an error page: the status is kept, the snippet is printable.
        let run = scripted(
            &format!("{name} invalid utf-8 500"),
            f,
            Call::List,
            times(
                MAX_ATTEMPTS,
                Behavior::Respond(Reply::new(500).body(b"oops \xff\xfe bytes".to_vec())),
            ),
        );
        run.attempts(Call::List, MAX_ATTEMPTS);
        assert_api(&run, 500, ApiErrorKind::Server);
        assert_eq!(
            run.err().to_string(),
            "500 Internal Server Error: oops \u{fffd}\u{fffd} bytes"
        );
    });
}

// ----- timeouts -----------------------------------------------------------------------------

#[test]
fn headers_that_never_come_time_out() {
    let silent = || Behavior::Silent {
        max: Duration::from_secs(10),
    };
    both(|name, f| {
        let run = scripted_with(
            &format!("{name} list silent"),
            f,
            Call::List,
            times(MAX_ATTEMPTS, silent()),
            short_timeout,
        );
        run.attempts(Call::List, MAX_ATTEMPTS);
        assert_timed_out(&run);
        assert_eq!(run.slept, [ms(1), ms(2)]);

        let run = scripted_with(
            &format!("{name} create silent"),
            f,
            Call::Create,
            vec![silent()],
            short_timeout,
        );
        run.attempts(Call::Create, 1);
        assert_timed_out(&run);
    });
}

#[test]
fn a_body_that_trickles_past_the_total_timeout() {
    // The head comes at once, then one byte every 25 ms of a 4 KB body: about 100 s in all.
    let trickle = || Behavior::Trickle {
        reply: Reply::json(
            200,
            &format!(
                r#"{{"status":true,"data":[],"pad":"{}"}}"#,
                "x".repeat(4000)
            ),
        ),
        every: Duration::from_millis(25),
    };
    both(|name, f| {
        let run = scripted_with(
            &format!("{name} list trickle"),
            f,
            Call::List,
            times(MAX_ATTEMPTS, trickle()),
            short_timeout,
        );
        run.attempts(Call::List, MAX_ATTEMPTS);
        assert_timed_out(&run);

        let run = scripted_with(
            &format!("{name} create trickle"),
            f,
            Call::Create,
            vec![trickle()],
            short_timeout,
        );
        run.attempts(Call::Create, 1);
        assert_timed_out(&run);
    });
}

// ----- statuses that ask for another try ----------------------------------------------------

#[test]
fn too_many_requests_with_retry_after_in_seconds() {
    let busy = |after: &str| {
        Behavior::Respond(
            Reply::json(429, r#"{"status":false,"errors":["Too many requests"]}"#)
                .header("retry-after", after),
        )
    };
    both(|name, f| {
        let run = scripted(
            &format!("{name} list 429 1s"),
            f,
            Call::List,
            vec![busy("1"), list_ok()],
        );
        run.attempts(Call::List, 2);
        run.ok();
        // Exactly the server's delay, not the backoff.
        assert_eq!(run.slept, [Duration::from_secs(1)]);

        // A 429 means the server did not act: even a create is sent again.
        let run = scripted(
            &format!("{name} create 429 1s"),
            f,
            Call::Create,
            vec![busy("1"), created()],
        );
        run.attempts(Call::Create, 2);
        assert_eq!(run.ok(), ID);
        assert_eq!(run.slept, [Duration::from_secs(1)]);

        // Longer than max_retry_after (5 s here): returned at once, with the delay.
        let run = scripted(
            &format!("{name} list 429 1h"),
            f,
            Call::List,
            vec![busy("3600")],
        );
        run.attempts(Call::List, 1);
        assert_api(&run, 429, ApiErrorKind::RateLimited);
        assert_eq!(run.err().retry_after(), Some(Duration::from_secs(3600)));
        assert!(run.err().is_retryable());
    });
}

#[test]
fn too_many_requests_with_retry_after_as_an_http_date() {
    let busy_until = |at: SystemTime| {
        Behavior::Respond(
            Reply::json(429, r#"{"status":false,"errors":["Too many requests"]}"#)
                .header("retry-after", httpdate::fmt_http_date(at)),
        )
    };
    both(|name, f| {
        // The clients' clock is fixed at NOW: the date is exactly 2 s away.
        let run = scripted(
            &format!("{name} list 429 date"),
            f,
            Call::List,
            vec![busy_until(NOW() + Duration::from_secs(2)), list_ok()],
        );
        run.attempts(Call::List, 2);
        run.ok();
        assert_eq!(run.slept, [Duration::from_secs(2)]);

        let at = NOW() + Duration::from_secs(3600);
        let run = scripted(
            &format!("{name} list 429 date 1h"),
            f,
            Call::List,
            vec![busy_until(at)],
        );
        run.attempts(Call::List, 1);
        assert_api(&run, 429, ApiErrorKind::RateLimited);
        assert_eq!(run.err().retry_after(), Some(Duration::from_secs(3600)));
    });
}

#[test]
fn service_unavailable_then_ok() {
    let unavailable = || json(503, r#"{"status":false,"errors":["Service Unavailable"]}"#);
    both(|name, f| {
        let run = scripted(
            &format!("{name} list 503 then 200"),
            f,
            Call::List,
            vec![unavailable(), list_ok()],
        );
        run.attempts(Call::List, 2);
        assert_eq!(run.ok(), "0 webhooks");

        let run = scripted(
            &format!("{name} list 503 x3"),
            f,
            Call::List,
            times(MAX_ATTEMPTS, unavailable()),
        );
        run.attempts(Call::List, MAX_ATTEMPTS);
        assert_api(&run, 503, ApiErrorKind::Server);

        // A create may have been carried out before the 503: returned, not repeated.
        let run = scripted(
            &format!("{name} create 503"),
            f,
            Call::Create,
            vec![unavailable()],
        );
        run.attempts(Call::Create, 1);
        assert_api(&run, 503, ApiErrorKind::Server);

        // Unless the caller allows it.
        let run = scripted(
            &format!("{name} create 503 retrying"),
            f,
            Call::CreateRetrying,
            vec![unavailable(), created()],
        );
        run.attempts(Call::CreateRetrying, 2);
        assert_eq!(run.ok(), ID);
    });
}

#[test]
fn redirects_are_not_followed() {
    both(|name, f| {
        // Where a followed redirect would go: a server that would answer, and must not be asked.
        let elsewhere = FaultServer::start([list_ok(), created()]);
        let to = |status: u16| {
            Behavior::Respond(
                Reply::new(status)
                    .header("location", format!("{}/webhook", elsewhere.url()))
                    .body("moved"),
            )
        };
        let run = scripted(&format!("{name} list 302"), f, Call::List, vec![to(302)]);
        run.attempts(Call::List, 1);
        assert_api(&run, 302, ApiErrorKind::Other);
        assert_eq!(run.err().to_string(), "302 Found: moved");

        // A 307 keeps the method: following it would send the create a second time.
        let run = scripted(
            &format!("{name} create 307"),
            f,
            Call::Create,
            vec![to(307)],
        );
        run.attempts(Call::Create, 1);
        assert_api(&run, 307, ApiErrorKind::Other);
        assert_eq!(elsewhere.attempts(), 0, "{name}: a redirect was followed");
    });
}

// ----- size ---------------------------------------------------------------------------------

#[test]
fn a_50_mib_body_hits_the_response_size_cap() {
    const LEN: u64 = 50 * 1024 * 1024;
    both(|name, f| {
        for chunked in [false, true] {
            let label = format!("{name} 50 MiB chunked={chunked}");
            let run = scripted_with(
                &label,
                f,
                Call::List,
                vec![Behavior::Large { len: LEN, chunked }],
                roomy,
            );
            // The same answer would come again: not retried.
            run.attempts(Call::List, 1);
            let e = run.err();
            let cap = std::error::Error::source(e).and_then(|s| s.downcast_ref::<BodyTooLarge>());
            assert_eq!(
                cap,
                Some(&BodyTooLarge {
                    limit: atoms_webhook_transport::DEFAULT_MAX_RESPONSE_BYTES
                }),
                "{label}: {e:?}"
            );
            assert!(!e.is_retryable(), "{label}");
        }

        // Under a raised cap the same body is a valid, empty list: the cap was the only problem.
        let run = scripted_with(
            &format!("{name} 50 MiB under a 64 MiB cap"),
            f,
            Call::List,
            vec![Behavior::Large {
                len: LEN,
                chunked: false,
            }],
            |url| roomy(url).max_response_bytes(64 * 1024 * 1024),
        );
        run.attempts(Call::List, 1);
        assert_eq!(run.ok(), "0 webhooks");
    });
}
