//! Test controls: which operation a request is ([`Op`]) and what to do to it instead of
//! handling it normally ([`Fault`]).

use std::time::Duration;

use axum::http::Method;

/// One operation of the webhook API, for counting requests ([`Emulator::hits`]) and injecting
/// faults ([`Emulator::inject`]).
///
/// [`Emulator::hits`]: crate::Emulator::hits
/// [`Emulator::inject`]: crate::Emulator::inject
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum Op {
    /// `GET /webhook` without a `webhookId` query parameter.
    ListWebhooks,
    /// `GET /webhook?webhookId=ID`.
    GetWebhook,
    /// `POST /webhook`.
    CreateWebhook,
    /// `PATCH /webhook/{id}`.
    UpdateWebhook,
    /// `DELETE /webhook/{id}`.
    DeleteWebhook,
    /// `GET /agent/{agentId}/webhook-subscriptions`.
    GetSubscriptions,
    /// `POST /agent/{agentId}/webhook-subscriptions`.
    ReplaceSubscriptions,
    /// `DELETE /agent/{agentId}/webhook-subscriptions`.
    ClearSubscriptions,
}

impl Op {
    /// Every operation, in declaration order.
    pub const ALL: [Op; 8] = [
        Op::ListWebhooks,
        Op::GetWebhook,
        Op::CreateWebhook,
        Op::UpdateWebhook,
        Op::DeleteWebhook,
        Op::GetSubscriptions,
        Op::ReplaceSubscriptions,
        Op::ClearSubscriptions,
    ];

    /// The SDK's name for the operation (`VerbNoun`).
    pub fn as_str(self) -> &'static str {
        match self {
            Op::ListWebhooks => "ListWebhooks",
            Op::GetWebhook => "GetWebhook",
            Op::CreateWebhook => "CreateWebhook",
            Op::UpdateWebhook => "UpdateWebhook",
            Op::DeleteWebhook => "DeleteWebhook",
            Op::GetSubscriptions => "GetSubscriptions",
            Op::ReplaceSubscriptions => "ReplaceSubscriptions",
            Op::ClearSubscriptions => "ClearSubscriptions",
        }
    }

    /// Position in [`Op::ALL`] (index of the per-operation counters).
    pub(crate) fn index(self) -> usize {
        match self {
            Op::ListWebhooks => 0,
            Op::GetWebhook => 1,
            Op::CreateWebhook => 2,
            Op::UpdateWebhook => 3,
            Op::DeleteWebhook => 4,
            Op::GetSubscriptions => 5,
            Op::ReplaceSubscriptions => 6,
            Op::ClearSubscriptions => 7,
        }
    }

    /// The operation a request to a matched route template is, if any. `has_webhook_id` tells
    /// whether the query carries `webhookId` (which makes a `GET /webhook` a single get).
    pub(crate) fn classify(method: &Method, route: &str, has_webhook_id: bool) -> Option<Op> {
        let op = match (route, method.as_str()) {
            (crate::api::WEBHOOKS, "GET") if has_webhook_id => Op::GetWebhook,
            (crate::api::WEBHOOKS, "GET") => Op::ListWebhooks,
            (crate::api::WEBHOOKS, "POST") => Op::CreateWebhook,
            (crate::api::WEBHOOK, "PATCH") => Op::UpdateWebhook,
            (crate::api::WEBHOOK, "DELETE") => Op::DeleteWebhook,
            (crate::api::SUBSCRIPTIONS, "GET") => Op::GetSubscriptions,
            (crate::api::SUBSCRIPTIONS, "POST") => Op::ReplaceSubscriptions,
            (crate::api::SUBSCRIPTIONS, "DELETE") => Op::ClearSubscriptions,
            _ => return None,
        };
        Some(op)
    }
}

impl std::fmt::Display for Op {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

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
