//! The bottom layer: every route template the emulator serves and the operation ([`Op`]) a
//! request to one of them is. Nothing here imports another module of the crate.

use axum::http::Method;

/// Route template of the webhook collection.
pub(crate) const WEBHOOKS: &str = "/webhook";
/// Route template of one webhook.
pub(crate) const WEBHOOK: &str = "/webhook/{id}";
/// Route template of an agent's subscriptions.
pub(crate) const SUBSCRIPTIONS: &str = "/agent/{agentId}/webhook-subscriptions";
/// Route template of the call logs.
pub(crate) const CONVERSATIONS: &str = "/conversation";
/// Route template of one call log.
pub(crate) const CONVERSATION: &str = "/conversation/{callId}";

/// Route of call simulation (emulator only).
pub(crate) const CALLS: &str = "/_emulator/calls";
/// Route that makes a simulated call's log final (emulator only).
pub(crate) const CALL_FINALIZE: &str = "/_emulator/calls/{callId}/finalize";
/// Route of the delivery log (emulator only).
pub(crate) const DELIVERIES: &str = "/_emulator/deliveries";
/// Route of a webhook's status (emulator only).
pub(crate) const WEBHOOK_STATUS: &str = "/_emulator/webhooks/{id}/status";

/// One operation of the API, for counting requests ([`Emulator::hits`]) and injecting
/// faults ([`Emulator::inject`]). The names are the SDK's request types (`VerbNoun`).
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
    GetAgentSubscriptions,
    /// `POST /agent/{agentId}/webhook-subscriptions`.
    ReplaceAgentSubscriptions,
    /// `DELETE /agent/{agentId}/webhook-subscriptions`.
    ClearAgentSubscriptions,
    /// `GET /conversation` (the call logs, a page at a time).
    ListConversations,
    /// `GET /conversation/{callId}` (one call log).
    GetConversation,
}

impl Op {
    /// Every operation, in declaration order.
    pub const ALL: [Op; 10] = [
        Op::ListWebhooks,
        Op::GetWebhook,
        Op::CreateWebhook,
        Op::UpdateWebhook,
        Op::DeleteWebhook,
        Op::GetAgentSubscriptions,
        Op::ReplaceAgentSubscriptions,
        Op::ClearAgentSubscriptions,
        Op::ListConversations,
        Op::GetConversation,
    ];

    /// The 0.1 name of [`Op::GetAgentSubscriptions`], kept so that code written against it
    /// still compiles; to be removed.
    #[doc(hidden)]
    #[allow(non_upper_case_globals)]
    pub const GetSubscriptions: Op = Op::GetAgentSubscriptions;
    /// The 0.1 name of [`Op::ReplaceAgentSubscriptions`]; to be removed.
    #[doc(hidden)]
    #[allow(non_upper_case_globals)]
    pub const ReplaceSubscriptions: Op = Op::ReplaceAgentSubscriptions;
    /// The 0.1 name of [`Op::ClearAgentSubscriptions`]; to be removed.
    #[doc(hidden)]
    #[allow(non_upper_case_globals)]
    pub const ClearSubscriptions: Op = Op::ClearAgentSubscriptions;

    /// The SDK's name for the operation (`VerbNoun`, the name of its request type).
    pub fn as_str(self) -> &'static str {
        match self {
            Op::ListWebhooks => "ListWebhooks",
            Op::GetWebhook => "GetWebhook",
            Op::CreateWebhook => "CreateWebhook",
            Op::UpdateWebhook => "UpdateWebhook",
            Op::DeleteWebhook => "DeleteWebhook",
            Op::GetAgentSubscriptions => "GetAgentSubscriptions",
            Op::ReplaceAgentSubscriptions => "ReplaceAgentSubscriptions",
            Op::ClearAgentSubscriptions => "ClearAgentSubscriptions",
            Op::ListConversations => "ListConversations",
            Op::GetConversation => "GetConversation",
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
            Op::GetAgentSubscriptions => 5,
            Op::ReplaceAgentSubscriptions => 6,
            Op::ClearAgentSubscriptions => 7,
            Op::ListConversations => 8,
            Op::GetConversation => 9,
        }
    }

    /// The operation a request to a matched route template is, if any. `has_webhook_id` tells
    /// whether the query carries `webhookId` (which makes a `GET /webhook` a single get).
    pub(crate) fn classify(method: &Method, route: &str, has_webhook_id: bool) -> Option<Op> {
        let op = match (route, method.as_str()) {
            (WEBHOOKS, "GET") if has_webhook_id => Op::GetWebhook,
            (WEBHOOKS, "GET") => Op::ListWebhooks,
            (WEBHOOKS, "POST") => Op::CreateWebhook,
            (WEBHOOK, "PATCH") => Op::UpdateWebhook,
            (WEBHOOK, "DELETE") => Op::DeleteWebhook,
            (SUBSCRIPTIONS, "GET") => Op::GetAgentSubscriptions,
            (SUBSCRIPTIONS, "POST") => Op::ReplaceAgentSubscriptions,
            (SUBSCRIPTIONS, "DELETE") => Op::ClearAgentSubscriptions,
            (CONVERSATIONS, "GET") => Op::ListConversations,
            (CONVERSATION, "GET") => Op::GetConversation,
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

/// The `webhookId` query parameter, when present (even empty).
pub(crate) fn webhook_id_param(query: Option<&str>) -> Option<String> {
    let query = query?;
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "webhookId")
        .map(|(_, v)| v.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_param() {
        assert_eq!(webhook_id_param(None), None);
        assert_eq!(webhook_id_param(Some("a=1")), None);
        assert_eq!(webhook_id_param(Some("webhookId=")), Some(String::new()));
        assert_eq!(
            webhook_id_param(Some("x=1&webhookId=ab%63")),
            Some("abc".to_owned())
        );
    }

    #[test]
    fn old_names_are_the_new_operations() {
        assert_eq!(Op::GetSubscriptions.as_str(), "GetAgentSubscriptions");
        assert_eq!(Op::ReplaceSubscriptions, Op::ReplaceAgentSubscriptions);
        assert_eq!(Op::ClearSubscriptions, Op::ClearAgentSubscriptions);
    }

    #[test]
    fn indexes_follow_all() {
        for (i, op) in Op::ALL.iter().enumerate() {
            assert_eq!(op.index(), i, "{op}");
        }
    }

    #[test]
    fn classification() {
        let get = Method::GET;
        assert_eq!(Op::classify(&get, WEBHOOKS, true), Some(Op::GetWebhook));
        assert_eq!(Op::classify(&get, WEBHOOKS, false), Some(Op::ListWebhooks));
        assert_eq!(
            Op::classify(&Method::DELETE, SUBSCRIPTIONS, false),
            Some(Op::ClearAgentSubscriptions)
        );
        assert_eq!(
            Op::classify(&get, CONVERSATION, false),
            Some(Op::GetConversation)
        );
        assert_eq!(Op::classify(&Method::PUT, WEBHOOK, false), None);
        assert_eq!(Op::classify(&get, CALLS, false), None);
    }
}
