//! The retry policy, as pure code: given what happened, retry after how long, or stop.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::time::{Duration, SystemTime};

use http::{HeaderMap, Response, StatusCode};

use crate::codec;
use crate::config::{Jitter, RetryConfig};
use crate::error::{Error, Stage};

/// Picks a random duration between zero and the given maximum, both included.
pub type JitterSource = fn(Duration) -> Duration;

/// Tells the current time (for `Retry-After` given as an HTTP date).
pub type Clock = fn() -> SystemTime;

/// The default jitter source: uniform over `[0, max]`, from the standard library's per-process
/// random hash keys (no dependency, not cryptographic, which jitter does not need).
pub fn random_jitter(max: Duration) -> Duration {
    let nanos = u64::try_from(max.as_nanos()).unwrap_or(u64::MAX);
    if nanos == 0 {
        return Duration::ZERO;
    }
    let r = RandomState::new().hash_one(std::time::Instant::now());
    Duration::from_nanos(r % nanos.saturating_add(1).max(1))
}

/// What one attempt came to, as far as retrying is concerned.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum Outcome<'a> {
    /// The server answered.
    Response {
        /// The status.
        status: StatusCode,
        /// The headers (for `Retry-After`).
        headers: &'a HeaderMap,
    },
    /// The connection could not be made: nothing was sent.
    ConnectFailed,
    /// The request timed out after the connection was made: it may have reached the server.
    TimedOut,
    /// The connection failed after it was made (reset, closed): the request may have reached
    /// the server.
    TransportFailed,
    /// Anything else (validation, decoding, a response body over the size limit): never
    /// retried.
    Other,
}

impl<'a> Outcome<'a> {
    /// The outcome of an attempt's result.
    pub fn of<B>(result: &'a Result<Response<B>, Error>) -> Self {
        match result {
            Ok(r) => Outcome::Response {
                status: r.status(),
                headers: r.headers(),
            },
            Err(e) => Outcome::of_error(e),
        }
    }

    /// The outcome of an error.
    pub fn of_error(error: &Error) -> Self {
        match error {
            Error::Timeout {
                stage: Stage::Connect,
                ..
            }
            | Error::Transport {
                stage: Stage::Connect,
                ..
            } => Outcome::ConnectFailed,
            Error::Timeout { .. } => Outcome::TimedOut,
            // The same answer would come again.
            Error::Transport { .. } if error.is_body_too_large() => Outcome::Other,
            Error::Transport { .. } => Outcome::TransportFailed,
            _ => Outcome::Other,
        }
    }
}

/// The policy's answer.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Decision {
    /// Wait this long, then send the request again.
    Retry(Duration),
    /// Give the result to the caller.
    Stop,
}

/// When to retry, and after how long.
///
/// - At most [`RetryConfig::max_retries`] retries after the first attempt.
/// - Retried: connect failures; timeouts and connections lost mid-request; statuses 408, 429,
///   500-599 except 501 (Not Implemented) and 505 (HTTP Version Not Supported), which will not
///   change on a second try. Nothing else (400, 401, 404, ..., undecodable bodies and
///   bodies over the size limit).
/// - A request that is not idempotent (a create, unless the caller allowed retries) is retried
///   only when the server cannot have acted on it: after a connect failure (nothing was sent)
///   and after a 429 (refused). A timeout, a lost connection, a 408 or a 5xx is returned to
///   the caller, since the webhook may have been created.
/// - The delay is `min(max_delay, base_delay * 2^(attempt-1))`, randomised by the configured
///   [`Jitter`]; or, when the response has `retry-after-ms` or `Retry-After` (seconds or an
///   HTTP date), exactly that delay. A `Retry-After` longer than
///   [`RetryConfig::max_retry_after`] stops the retries, so that the caller gets the error
///   (with [`Error::retry_after`]) instead of a long block.
///
/// ```
/// use std::time::Duration;
/// use atoms_webhook_transport::{Decision, Jitter, Outcome, RetryConfig, RetryPolicy};
/// let policy = RetryPolicy::new(RetryConfig::default().jitter(Jitter::None));
/// let headers = http::HeaderMap::new();
/// let unavailable = Outcome::Response { status: http::StatusCode::SERVICE_UNAVAILABLE, headers: &headers };
/// assert_eq!(policy.decide(1, true, &unavailable), Decision::Retry(Duration::from_millis(250)));
/// assert_eq!(policy.decide(2, true, &unavailable), Decision::Retry(Duration::from_millis(500)));
/// assert_eq!(policy.decide(3, true, &unavailable), Decision::Stop);
/// // A create that met a 503 may have created the webhook: not retried.
/// assert_eq!(policy.decide(1, false, &unavailable), Decision::Stop);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    config: RetryConfig,
    jitter_source: JitterSource,
    clock: Clock,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self::new(RetryConfig::default())
    }
}

impl RetryPolicy {
    /// The policy of this configuration, with a random jitter source and the system clock.
    pub fn new(config: RetryConfig) -> Self {
        Self {
            config,
            jitter_source: random_jitter,
            clock: SystemTime::now,
        }
    }

    /// Replaces the jitter source (tests use a fixed one).
    pub fn jitter_source(mut self, jitter_source: JitterSource) -> Self {
        self.jitter_source = jitter_source;
        self
    }

    /// Replaces the clock (tests use a fixed one).
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The configuration.
    #[inline]
    pub fn config(&self) -> &RetryConfig {
        &self.config
    }

    /// The current time by the policy's clock.
    pub fn now(&self) -> SystemTime {
        (self.clock)()
    }

    /// Decides after attempt number `attempt` (1 for the first) whether to try again.
    /// `retry_allowed` is true when the request is idempotent or the caller allowed retries.
    #[inline]
    pub fn decide(&self, attempt: u32, retry_allowed: bool, outcome: &Outcome<'_>) -> Decision {
        if attempt > self.config.max_retries {
            return Decision::Stop;
        }
        match *outcome {
            Outcome::ConnectFailed => Decision::Retry(self.backoff(attempt)),
            Outcome::TimedOut | Outcome::TransportFailed if retry_allowed => {
                Decision::Retry(self.backoff(attempt))
            }
            Outcome::Response { status, headers } => {
                let refused = status == StatusCode::TOO_MANY_REQUESTS;
                if !crate::error::is_retryable_status(status) || !(retry_allowed || refused) {
                    return Decision::Stop;
                }
                match codec::retry_after(headers, self.now()) {
                    Some(d) if d > self.config.max_retry_after => Decision::Stop,
                    Some(d) => Decision::Retry(d),
                    None => Decision::Retry(self.backoff(attempt)),
                }
            }
            _ => Decision::Stop,
        }
    }

    /// The backoff before retry number `attempt`, jitter applied.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = attempt.saturating_sub(1).min(31);
        let cap = self
            .config
            .base_delay
            .saturating_mul(1u32 << exp)
            .min(self.config.max_delay);
        let pick = |max: Duration| (self.jitter_source)(max).min(max);
        match self.config.jitter {
            Jitter::None => cap,
            Jitter::Full => pick(cap),
            Jitter::Equal => {
                let half = cap / 2;
                half + pick(cap - half)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn status(s: u16) -> (StatusCode, HeaderMap) {
        (StatusCode::from_u16(s).unwrap(), HeaderMap::new())
    }

    fn fixed_now() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000)
    }

    fn policy(jitter: Jitter) -> RetryPolicy {
        RetryPolicy::new(RetryConfig::default().jitter(jitter))
            .jitter_source(|max| max / 4)
            .clock(fixed_now)
    }

    /// Runs the policy against a sequence of identical outcomes and returns the delays until
    /// it stops: the number of attempts is `delays.len() + 1`.
    fn run(p: &RetryPolicy, allowed: bool, outcome: Outcome<'_>) -> Vec<Duration> {
        let mut delays = Vec::new();
        let mut attempt = 1;
        while let Decision::Retry(d) = p.decide(attempt, allowed, &outcome) {
            delays.push(d);
            attempt += 1;
            assert!(attempt < 100);
        }
        delays
    }

    #[test]
    fn exact_backoff_without_jitter() {
        let p = policy(Jitter::None);
        let (s, h) = status(503);
        let o = Outcome::Response {
            status: s,
            headers: &h,
        };
        assert_eq!(run(&p, true, o), vec![ms(250), ms(500)]);

        let p5 = RetryPolicy::new(RetryConfig::default().jitter(Jitter::None).max_retries(7));
        assert_eq!(
            run(&p5, true, o),
            vec![
                ms(250),
                ms(500),
                ms(1000),
                ms(2000),
                ms(4000),
                ms(8000),
                ms(8000)
            ]
        );
    }

    #[test]
    fn jitter_modes_use_the_source() {
        let (s, h) = status(500);
        let o = Outcome::Response {
            status: s,
            headers: &h,
        };
        // Full: a quarter of the cap (the fixed source returns max / 4).
        assert_eq!(
            run(&policy(Jitter::Full), true, o),
            vec![ms(62) + Duration::from_micros(500), ms(125)]
        );
        // Equal: half the cap plus a quarter of the other half.
        assert_eq!(
            run(&policy(Jitter::Equal), true, o),
            vec![
                ms(125) + Duration::from_micros(31_250),
                ms(312) + Duration::from_micros(500)
            ]
        );
        // A misbehaving source is clamped to the cap.
        let wild = policy(Jitter::Full).jitter_source(|_| Duration::from_secs(3600));
        assert_eq!(wild.backoff(1), ms(250));
        // The real source stays within bounds.
        for _ in 0..100 {
            let d = random_jitter(ms(10));
            assert!(d <= ms(10));
        }
        assert_eq!(random_jitter(Duration::ZERO), Duration::ZERO);
    }

    #[test]
    fn zero_retries_means_one_attempt() {
        let p = RetryPolicy::new(RetryConfig::disabled());
        assert_eq!(run(&p, true, Outcome::ConnectFailed), vec![]);
    }

    #[test]
    fn which_statuses_retry() {
        let p = policy(Jitter::None);
        for s in [408u16, 429, 500, 502, 503, 504, 599] {
            let (s2, h) = status(s);
            assert_eq!(
                run(
                    &p,
                    true,
                    Outcome::Response {
                        status: s2,
                        headers: &h
                    }
                )
                .len(),
                2,
                "{s}"
            );
        }
        for s in [200u16, 201, 400, 401, 403, 404, 409, 422, 501, 505] {
            let (s2, h) = status(s);
            assert_eq!(
                run(
                    &p,
                    true,
                    Outcome::Response {
                        status: s2,
                        headers: &h
                    }
                )
                .len(),
                0,
                "{s}"
            );
        }
        assert_eq!(run(&p, true, Outcome::Other).len(), 0);
    }

    #[test]
    fn create_is_only_retried_when_the_server_cannot_have_acted() {
        let p = policy(Jitter::None);
        // Nothing sent: retried.
        assert_eq!(
            run(&p, false, Outcome::ConnectFailed),
            vec![ms(250), ms(500)]
        );
        // Refused with 429: retried.
        let (s, h) = status(429);
        assert_eq!(
            run(
                &p,
                false,
                Outcome::Response {
                    status: s,
                    headers: &h
                }
            )
            .len(),
            2
        );
        // May have been created: returned to the caller at once.
        assert_eq!(run(&p, false, Outcome::TimedOut), vec![]);
        assert_eq!(run(&p, false, Outcome::TransportFailed), vec![]);
        for s in [408u16, 500, 502, 503, 504] {
            let (s2, h) = status(s);
            assert_eq!(
                run(
                    &p,
                    false,
                    Outcome::Response {
                        status: s2,
                        headers: &h
                    }
                ),
                vec![],
                "{s}"
            );
        }
        // With retries allowed, all of them are retried.
        assert_eq!(run(&p, true, Outcome::TimedOut), vec![ms(250), ms(500)]);
        assert_eq!(
            run(&p, true, Outcome::TransportFailed),
            vec![ms(250), ms(500)]
        );
    }

    #[test]
    fn retry_after_is_honoured_exactly_and_capped() {
        let p = policy(Jitter::Equal);
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("3"));
        let o = Outcome::Response {
            status: StatusCode::TOO_MANY_REQUESTS,
            headers: &h,
        };
        assert_eq!(run(&p, false, o), vec![ms(3000), ms(3000)]);

        h.insert("retry-after-ms", HeaderValue::from_static("120"));
        let o = Outcome::Response {
            status: StatusCode::SERVICE_UNAVAILABLE,
            headers: &h,
        };
        assert_eq!(run(&p, true, o), vec![ms(120), ms(120)]);

        let mut h = HeaderMap::new();
        let date = httpdate::fmt_http_date(fixed_now() + Duration::from_secs(5));
        h.insert("retry-after", date.parse().unwrap());
        let o = Outcome::Response {
            status: StatusCode::TOO_MANY_REQUESTS,
            headers: &h,
        };
        assert_eq!(run(&p, true, o), vec![ms(5000), ms(5000)]);

        // Longer than max_retry_after (60 s): the caller gets the error at once.
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("61"));
        let o = Outcome::Response {
            status: StatusCode::TOO_MANY_REQUESTS,
            headers: &h,
        };
        assert_eq!(run(&p, true, o), vec![]);
        h.insert("retry-after", HeaderValue::from_static("60"));
        let o = Outcome::Response {
            status: StatusCode::TOO_MANY_REQUESTS,
            headers: &h,
        };
        assert_eq!(run(&p, true, o), vec![ms(60_000), ms(60_000)]);

        // Unparseable: plain backoff (with the equal jitter of the fixed source).
        h.insert("retry-after", HeaderValue::from_static("later"));
        let o = Outcome::Response {
            status: StatusCode::TOO_MANY_REQUESTS,
            headers: &h,
        };
        assert_eq!(run(&p, true, o)[0], ms(125) + Duration::from_micros(31_250));

        // Retry-After on a status that is not retried changes nothing.
        h.insert("retry-after", HeaderValue::from_static("1"));
        let o = Outcome::Response {
            status: StatusCode::BAD_REQUEST,
            headers: &h,
        };
        assert_eq!(run(&p, true, o), vec![]);
    }

    #[test]
    fn outcome_of_errors() {
        let io = || std::io::Error::other("x");
        assert!(matches!(
            Outcome::of_error(&Error::connect(io())),
            Outcome::ConnectFailed
        ));
        assert!(matches!(
            Outcome::of_error(&Error::timeout(Stage::Connect, io())),
            Outcome::ConnectFailed
        ));
        assert!(matches!(
            Outcome::of_error(&Error::timeout(Stage::Exchange, io())),
            Outcome::TimedOut
        ));
        assert!(matches!(
            Outcome::of_error(&Error::transport(io())),
            Outcome::TransportFailed
        ));
        assert!(matches!(
            Outcome::of_error(&Error::transport(crate::BodyTooLarge { limit: 1 })),
            Outcome::Other
        ));
    }
}
