//! Test controls: what to do to a request instead of handling it normally ([`Fault`]).

use std::time::Duration;

/// What an injected fault does to one request.
///
/// ```
/// use atoms_webhook_emulator::Fault;
/// let busy = Fault::retry_after(429, "2");
/// assert!(matches!(busy, Fault::Respond { status: 429, .. }));
/// ```
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum Fault {
    /// Answer with this status, extra headers and raw body instead of handling the request.
    /// Nothing else is added (no `Content-Type` unless given here); an invalid status code is
    /// sent as 500 and invalid headers are left out.
    Respond {
        /// The HTTP status code.
        status: u16,
        /// Headers to send, in order.
        headers: Vec<(String, String)>,
        /// The body, sent as is.
        body: String,
    },
    /// Sleep this long, then handle the request normally (the state change still happens:
    /// models a client timeout after the server acted). The request is handled even if the
    /// client hangs up during the sleep.
    Delay(Duration),
}

impl Fault {
    /// Answers `status` with the JSON error body `{"status":false,"errors":["Injected fault"]}`.
    pub fn status(status: u16) -> Fault {
        Fault::Respond {
            status,
            headers: vec![("content-type".to_owned(), "application/json".to_owned())],
            body: r#"{"status":false,"errors":["Injected fault"]}"#.to_owned(),
        }
    }

    /// Like [`Fault::status`], with a `Retry-After` header (seconds or an HTTP date, as given).
    pub fn retry_after(status: u16, retry_after: &str) -> Fault {
        match Fault::status(status) {
            Fault::Respond {
                status,
                mut headers,
                body,
            } => {
                headers.push(("retry-after".to_owned(), retry_after.to_owned()));
                Fault::Respond {
                    status,
                    headers,
                    body,
                }
            }
            other => other,
        }
    }

    /// Delays the request by `d`, then handles it normally.
    pub fn delay(d: Duration) -> Fault {
        Fault::Delay(d)
    }
}
