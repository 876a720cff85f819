//! The attempt loop of one call, without the I/O: what to send, then what to do with what
//! came back. Both clients drive it, supplying only "send" and "sleep".

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response, Uri};
use tracing::Span;

use crate::codec::{self, Prepared};
use crate::config::Config;
use crate::endpoint::Endpoint;
use crate::error::Error;
use crate::operation::{Next, Operation};
use crate::retry::{Decision, Outcome, RetryPolicy};
use crate::trace;

/// What the client does next.
#[derive(Debug)]
pub enum Step<T> {
    /// Sleep this long, then send [`Call::request`] again.
    Retry(Duration),
    /// The call is over.
    Done(Result<T, Error>),
}

/// One call of an endpoint, across its attempts.
///
/// ```
/// use atoms_webhook_transport::{Bytes, Call, Config, RetryPolicy, Step, endpoint::DeleteWebhook};
/// let config = Config::new("key").base_url("http://127.0.0.1:9");
/// let policy = RetryPolicy::new(config.retry);
/// let mut call = Call::new(&config, &policy, DeleteWebhook::new("64f0c0ffee0000000000abcd"))?;
/// let request = call.request();
/// assert_eq!(request.uri(), "http://127.0.0.1:9/webhook/64f0c0ffee0000000000abcd");
/// // ... a client sends `request`; here the server answers at once:
/// let response = http::Response::builder()
///     .status(200)
///     .body(Bytes::from_static(br#"{"status":true,"data":"Webhook deleted"}"#))
///     .unwrap();
/// match call.finish(Ok(response)) {
///     Step::Done(result) => assert_eq!(result?, "Webhook deleted"),
///     Step::Retry(_) => unreachable!(),
/// }
/// # Ok::<(), atoms_webhook_transport::Error>(())
/// ```
///
/// A `Call` is also an [`Operation`], which is how the clients drive it.
#[derive(Debug)]
pub struct Call<'p, R: Endpoint> {
    policy: &'p RetryPolicy,
    endpoint: R,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Vec<u8>,
    retry_allowed: bool,
    attempt: u32,
    /// When the call and its last attempt started, read only when something can record them
    /// (the span, or the debug events): a clock read costs about as much as a header.
    started: Option<Instant>,
    attempt_started: Option<Instant>,
    span: Span,
}

impl<'p, R: Endpoint> Call<'p, R> {
    /// Validates and builds the request (see [`crate::build`]) and opens its tracing span.
    pub fn new(config: &Config, policy: &'p RetryPolicy, endpoint: R) -> Result<Self, Error> {
        Self::prepared(&Prepared::new(config)?, policy, endpoint)
    }

    /// [`Call::new`] with a configuration checked and prepared once (what the clients do).
    pub fn prepared(
        prepared: &Prepared,
        policy: &'p RetryPolicy,
        endpoint: R,
    ) -> Result<Self, Error> {
        let span = trace::request_span(
            endpoint.name(),
            &endpoint.method(),
            endpoint.path_template(),
        );
        let (parts, body) = match prepared.build(&endpoint) {
            Ok(r) => r.into_parts(),
            Err(e) => {
                span.in_scope(|| tracing::debug!(error = %e, "request refused before sending"));
                return Err(e);
            }
        };
        let timed = !span.is_disabled() || tracing::enabled!(tracing::Level::DEBUG);
        let now = timed.then(Instant::now);
        Ok(Self {
            policy,
            retry_allowed: endpoint.idempotent(),
            endpoint,
            method: parts.method,
            uri: parts.uri,
            headers: parts.headers,
            body,
            attempt: 0,
            started: now,
            attempt_started: now,
            span,
        })
    }

    /// The request description.
    pub fn endpoint(&self) -> &R {
        &self.endpoint
    }

    /// The span of the call (fields: `operation`, `method`, `path` template, and, once the
    /// call ends, the number of attempts `attempt`, the last `status` and the total
    /// `elapsed_ms`; never bodies or secrets). Enter it, or instrument the future
    /// with it, around the whole call.
    pub fn span(&self) -> &Span {
        &self.span
    }

    /// The number of attempts started so far.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// The request for the next attempt. Each attempt that may be followed by another gets
    /// a copy; the last one the retry policy allows gets the request itself, since nothing
    /// can be sent after it (with retries off, the only attempt is never copied). After that
    /// attempt there is nothing left to send: a further call gives an empty request.
    pub fn request(&mut self) -> Request<Vec<u8>> {
        self.attempt += 1;
        if self.started.is_some() {
            self.attempt_started = Some(Instant::now());
        }
        let last = self.attempt > self.policy.config().max_retries;
        let mut req = if last {
            Request::new(std::mem::take(&mut self.body))
        } else {
            Request::new(self.body.clone())
        };
        *req.method_mut() = self.method.clone();
        if last {
            *req.uri_mut() = std::mem::take(&mut self.uri);
            *req.headers_mut() = std::mem::take(&mut self.headers);
        } else {
            *req.uri_mut() = self.uri.clone();
            *req.headers_mut() = self.headers.clone();
        }
        req
    }

    /// Takes the result of the attempt: either the decoded output or error, or a delay after
    /// which to send [`Call::request`] again.
    pub fn finish(&mut self, result: Result<Response<Bytes>, Error>) -> Step<R::Output> {
        let attempt_ms = self.attempt_started.map(|t| duration_ms(t.elapsed()));
        let decision = self
            .policy
            .decide(self.attempt, self.retry_allowed, &Outcome::of(&result));
        if decision == Decision::Stop && !self.span.is_disabled() {
            // Recorded once, when the call ends (the attempts' own events carry their values).
            self.span.record("attempt", self.attempt);
            if let Some(started) = self.started {
                self.span
                    .record("elapsed_ms", duration_ms(started.elapsed()));
            }
            if let Ok(r) = &result {
                self.span.record("status", r.status().as_u16());
            }
        }
        let _entered = self.span.enter();
        match (decision, result) {
            (Decision::Retry(delay), result) => {
                let status = result.as_ref().ok().map(|r| r.status().as_u16());
                let error = result.as_ref().err().map(error_label);
                tracing::debug!(
                    attempt = self.attempt,
                    status,
                    error,
                    attempt_ms,
                    delay_ms = duration_ms(delay),
                    "attempt failed, retrying"
                );
                Step::Retry(delay)
            }
            (Decision::Stop, Ok(response)) => {
                let policy = self.policy;
                let out = codec::decode_for_with(&self.endpoint, response, || policy.now());
                match &out {
                    Ok(_) => tracing::debug!(attempt = self.attempt, attempt_ms, "call succeeded"),
                    Err(e) => tracing::debug!(
                        attempt = self.attempt,
                        attempt_ms,
                        error = error_label(e),
                        "call failed"
                    ),
                }
                Step::Done(out)
            }
            (Decision::Stop, Err(e)) => {
                tracing::debug!(
                    attempt = self.attempt,
                    attempt_ms,
                    error = error_label(&e),
                    "call failed"
                );
                Step::Done(Err(e))
            }
        }
    }
}

impl<R: Endpoint> Operation for Call<'_, R> {
    type Output = R::Output;

    fn span(&self) -> &Span {
        &self.span
    }

    fn resume(&mut self) -> Next<R::Output> {
        Next::Send(self.request())
    }

    fn receive(&mut self, response: Result<Response<Bytes>, Error>) -> Next<R::Output> {
        match self.finish(response) {
            Step::Retry(delay) => Next::Sleep(delay),
            Step::Done(result) => Next::Done(result),
        }
    }
}

fn duration_ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// A short label for logs: the kind of error, never its body snippet.
fn error_label(e: &Error) -> &'static str {
    match e {
        Error::Api(_) => "api",
        Error::Validation(_) => "validation",
        Error::Timeout { .. } if e.is_connect() => "connect_timeout",
        Error::Timeout { .. } => "timeout",
        Error::Transport { .. } if e.is_connect() => "connect",
        Error::Transport { .. } => "transport",
        Error::Decode { .. } => "decode",
        Error::UnexpectedResponse { .. } | Error::InvalidResponse { .. } => "unexpected_response",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Jitter, RetryConfig};
    use crate::endpoint::{CreateWebhook, ListWebhooks};
    use crate::error::Stage;
    use atoms_webhook_models::CreateWebhookRequest;

    fn respond(status: u16, body: &str) -> Result<Response<Bytes>, Error> {
        Ok(Response::builder()
            .status(status)
            .body(Bytes::copy_from_slice(body.as_bytes()))
            .unwrap())
    }

    fn policy() -> RetryPolicy {
        RetryPolicy::new(RetryConfig::default().jitter(Jitter::None))
    }

    #[test]
    fn retries_then_decodes() {
        let config = Config::new("k").base_url("http://127.0.0.1:1");
        let p = policy();
        let mut call = Call::new(&config, &p, ListWebhooks).unwrap();
        let _ = call.request();
        assert!(
            matches!(call.finish(respond(503, "")), Step::Retry(d) if d == Duration::from_millis(250))
        );
        let req = call.request();
        assert_eq!(req.method(), Method::GET);
        assert!(req.headers()["authorization"].is_sensitive());
        match call.finish(respond(200, r#"{"status":true,"data":[]}"#)) {
            Step::Done(Ok(v)) => assert!(v.is_empty()),
            other => panic!("{other:?}"),
        }
        assert_eq!(call.attempt(), 2);
    }

    #[test]
    fn every_attempt_sends_the_whole_request() {
        use crate::endpoint::GetWebhook;
        let config = Config::new("k").base_url("http://127.0.0.1:1/v1");
        for retries in [0, 2] {
            let p = RetryPolicy::new(
                RetryConfig::default()
                    .max_retries(retries)
                    .jitter(Jitter::None),
            );
            let mut call =
                Call::new(&config, &p, GetWebhook::new("64f0c0ffee0000000000abcd")).unwrap();
            for _ in 0..=retries {
                let req = call.request();
                assert_eq!(req.method(), Method::GET);
                assert_eq!(
                    req.uri(),
                    "http://127.0.0.1:1/v1/webhook?webhookId=64f0c0ffee0000000000abcd"
                );
                assert_eq!(req.headers().len(), 3, "{retries}");
                assert!(req.headers()["authorization"].is_sensitive());
                if call.attempt() <= retries {
                    assert!(matches!(call.finish(respond(503, "")), Step::Retry(_)));
                }
            }
            // The last attempt the policy allows took the request: nothing is left to send.
            assert!(call.request().headers().is_empty());
        }
    }

    #[test]
    fn gives_up_with_the_last_error() {
        let config = Config::new("k").base_url("http://127.0.0.1:1");
        let p = policy();
        let mut call = Call::new(&config, &p, ListWebhooks).unwrap();
        let mut attempts = 0;
        let err = loop {
            let _ = call.request();
            attempts += 1;
            match call.finish(respond(500, r#"{"status":false,"errors":["boom"]}"#)) {
                Step::Retry(_) => continue,
                Step::Done(r) => break r.unwrap_err(),
            }
        };
        assert_eq!(attempts, 3);
        assert_eq!(err.to_string(), "500 Internal Server Error: boom");
    }

    #[test]
    fn create_timeout_is_not_retried_but_connect_failure_is() {
        let config = Config::new("k").base_url("http://127.0.0.1:1");
        let p = policy();
        let create = CreateWebhook::new(CreateWebhookRequest::new("https://x.test/h", "d"));
        let mut call = Call::new(&config, &p, create).unwrap();
        let _ = call.request();
        let io = || std::io::Error::other("x");
        assert!(matches!(
            call.finish(Err(Error::connect(io()))),
            Step::Retry(_)
        ));
        let _ = call.request();
        match call.finish(Err(Error::timeout(Stage::Exchange, io()))) {
            Step::Done(Err(e)) => assert!(e.is_timeout()),
            other => panic!("{other:?}"),
        }
    }
}
