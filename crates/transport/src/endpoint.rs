//! One owned request type per API operation, and the [`Endpoint`] trait that describes them.
//!
//! A request owns its data and borrows no client; [`crate::build`] turns it into an
//! `http::Request` and [`crate::decode`] turns the response into its [`Endpoint::Output`].

use atoms_webhook_models::{
    AgentId, CreateWebhookRequest, EventType, OneOrMany, ParseError, ReplaceSubscriptionsRequest,
    UpdateWebhookRequest, Webhook, WebhookId, WebhookSubscription,
};
use std::borrow::Cow;

use http::Method;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::error::{Error, ValidationError};
use crate::validate;

/// Everything but the RFC 3986 unreserved characters is percent-encoded in a path segment or a
/// query value.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes one path segment or query value (borrowed when there is nothing to encode,
/// as with every id the API hands out).
pub fn encode_component(s: &str) -> Cow<'_, str> {
    utf8_percent_encode(s, COMPONENT).into()
}

/// The description of one API operation: how to send it and how to read its answer.
///
/// The eight operations of the webhook API implement it; so can a caller's own request type
/// for an endpoint this crate does not know yet.
pub trait Endpoint {
    /// What a successful call returns.
    type Output;
    /// The shape of the envelope's `data` on success.
    type Data: DeserializeOwned;

    /// A short name for logs and traces (`"create_webhook"`).
    fn name(&self) -> &'static str;
    /// The HTTP method.
    fn method(&self) -> Method;
    /// The path template for logs and traces (`"/webhook/{id}"`).
    fn path_template(&self) -> &'static str;
    /// The path below the base URL, starting with `/`, segments already percent-encoded.
    fn path(&self) -> String;
    /// Query parameters, unencoded.
    fn query(&self) -> Vec<(&'static str, String)> {
        Vec::new()
    }
    /// The JSON body, if the operation has one.
    fn body(&self) -> Result<Option<Vec<u8>>, serde_json::Error> {
        Ok(None)
    }
    /// Whether sending the request twice has the effect of sending it once, so that it may be
    /// retried even when it may already have reached the server.
    fn idempotent(&self) -> bool {
        true
    }
    /// Client-side checks of the documented rules, run before any I/O.
    fn validate(&self) -> Result<(), ValidationError> {
        Ok(())
    }
    /// Turns the envelope's `data` into the output.
    fn output(data: Self::Data) -> Result<Self::Output, ParseError>;
    /// Checks a decoded answer against this request: an answer about another resource than
    /// the one the request names is an error ([`Error::UnexpectedResponse`]), and so is one
    /// carrying an id that could not be used ([`Error::InvalidResponse`]). Called by
    /// [`crate::decode_for`] and [`crate::Call`]; [`crate::decode`] alone does not.
    fn check(&self, output: &Self::Output) -> Result<(), Error> {
        let _ = output;
        Ok(())
    }
}

/// The answer must name the webhook that was asked for.
fn same_webhook(
    operation: &'static str,
    requested: &WebhookId,
    received: &WebhookId,
) -> Result<(), Error> {
    if received == requested {
        Ok(())
    } else {
        Err(Error::UnexpectedResponse {
            operation,
            requested: requested.clone(),
            received: received.clone(),
        })
    }
}

/// `data` of the operations that answer with a message: normally a string; anything else is
/// kept as compact JSON rather than failing an operation that succeeded.
fn message(data: serde_json::Value) -> String {
    match data {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    }
}

/// `data` of create and update: the webhook's id, as a string (documented) or as an object
/// with `_id`.
#[derive(Clone, PartialEq, Eq, Debug, Deserialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum IdData {
    /// The id as a string.
    Id(WebhookId),
    /// An object holding the id.
    Object {
        /// The id (`_id`).
        #[serde(rename = "_id")]
        id: WebhookId,
    },
}

impl IdData {
    fn into_id(self) -> WebhookId {
        match self {
            IdData::Id(id) | IdData::Object { id } => id,
        }
    }
}

/// `GET /webhook`: every webhook of the organization.
///
/// The server may answer with one object instead of an array; that is read as a list of one.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
#[non_exhaustive]
pub struct ListWebhooks;

impl ListWebhooks {
    /// The request.
    pub fn new() -> Self {
        Self
    }
}

impl Endpoint for ListWebhooks {
    type Output = Vec<Webhook>;
    type Data = OneOrMany<Webhook>;
    fn name(&self) -> &'static str {
        "list_webhooks"
    }
    fn method(&self) -> Method {
        Method::GET
    }
    fn path_template(&self) -> &'static str {
        "/webhook"
    }
    fn path(&self) -> String {
        "/webhook".to_owned()
    }
    fn output(data: Self::Data) -> Result<Self::Output, ParseError> {
        Ok(data.into_vec())
    }
}

/// `GET /webhook?webhookId=...`: one webhook, with its signing secret.
///
/// A one-element array is accepted as well; an empty or longer one is a decode error. An
/// answer whose `_id` is not the id asked for is [`Error::UnexpectedResponse`] (see
/// [`Endpoint::check`]).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct GetWebhook {
    /// The webhook.
    pub id: WebhookId,
}

impl GetWebhook {
    /// The request for this webhook.
    pub fn new(id: impl Into<WebhookId>) -> Self {
        Self { id: id.into() }
    }
}

impl Endpoint for GetWebhook {
    type Output = Webhook;
    type Data = OneOrMany<Webhook>;
    fn name(&self) -> &'static str {
        "get_webhook"
    }
    fn method(&self) -> Method {
        Method::GET
    }
    fn path_template(&self) -> &'static str {
        "/webhook?webhookId={id}"
    }
    fn path(&self) -> String {
        "/webhook".to_owned()
    }
    fn query(&self) -> Vec<(&'static str, String)> {
        vec![("webhookId", self.id.as_str().to_owned())]
    }
    fn validate(&self) -> Result<(), ValidationError> {
        validate::id("id", self.id.as_str())
    }
    fn check(&self, output: &Self::Output) -> Result<(), Error> {
        same_webhook(self.name(), &self.id, &output.id)
    }
    fn output(data: Self::Data) -> Result<Self::Output, ParseError> {
        match data {
            OneOrMany::One(w) => Ok(w),
            OneOrMany::Many(mut v) if v.len() == 1 => Ok(v.remove(0)),
            OneOrMany::Many(v) => Err(ParseError::new(
                "data",
                format!("expected one webhook, got an array of {}", v.len()),
            )),
        }
    }
}

/// `POST /webhook`: creates a webhook; answers with its id.
///
/// Not idempotent: once its bytes may have reached the server (a timeout, a reset, a 5xx), it is
/// not retried, because the webhook may have been created. It is still retried after a connect
/// failure (nothing was sent) and after a 429 (the server refused without acting).
/// [`CreateWebhook::allow_retry`] lifts the restriction for callers who check for duplicates
/// themselves (a retried create that had succeeded fails with "already been registered").
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct CreateWebhook {
    /// The body.
    pub body: CreateWebhookRequest,
    /// Whether every retry is allowed. Default: false.
    pub allow_retry: bool,
}

impl CreateWebhook {
    /// The request for this body.
    pub fn new(body: CreateWebhookRequest) -> Self {
        Self {
            body,
            allow_retry: false,
        }
    }

    /// Allows (or not) retries after the request may have reached the server.
    pub fn allow_retry(mut self, allow_retry: bool) -> Self {
        self.allow_retry = allow_retry;
        self
    }
}

impl From<CreateWebhookRequest> for CreateWebhook {
    fn from(body: CreateWebhookRequest) -> Self {
        Self::new(body)
    }
}

impl Endpoint for CreateWebhook {
    type Output = WebhookId;
    type Data = IdData;
    fn name(&self) -> &'static str {
        "create_webhook"
    }
    fn method(&self) -> Method {
        Method::POST
    }
    fn path_template(&self) -> &'static str {
        "/webhook"
    }
    fn path(&self) -> String {
        "/webhook".to_owned()
    }
    fn body(&self) -> Result<Option<Vec<u8>>, serde_json::Error> {
        serde_json::to_vec(&self.body).map(Some)
    }
    fn idempotent(&self) -> bool {
        self.allow_retry
    }
    fn check(&self, output: &Self::Output) -> Result<(), Error> {
        // The id is used next (to fetch the secret, by the caller): it must fit in a path.
        validate::id("data", output.as_str()).map_err(|e| Error::invalid_response(self.name(), e))
    }
    fn validate(&self) -> Result<(), ValidationError> {
        validate::http_url("endpoint", &self.body.endpoint)?;
        for (i, e) in self.body.events.iter().enumerate() {
            validate::id(&format!("events[{i}].agentId"), e.agent_id.as_str())?;
            validate::event_type(&format!("events[{i}].eventType"), &e.event_type)?;
        }
        Ok(())
    }
    fn output(data: Self::Data) -> Result<Self::Output, ParseError> {
        Ok(data.into_id())
    }
}

/// `PATCH /webhook/{id}`: changes the endpoint, the description and/or the custom headers;
/// answers with the webhook's id, which must be the id sent ([`Error::UnexpectedResponse`]
/// otherwise).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct UpdateWebhook {
    /// The webhook.
    pub id: WebhookId,
    /// The changes; at least one field must be set.
    pub body: UpdateWebhookRequest,
}

impl UpdateWebhook {
    /// The request.
    pub fn new(id: impl Into<WebhookId>, body: UpdateWebhookRequest) -> Self {
        Self {
            id: id.into(),
            body,
        }
    }
}

impl Endpoint for UpdateWebhook {
    type Output = WebhookId;
    type Data = IdData;
    fn name(&self) -> &'static str {
        "update_webhook"
    }
    fn method(&self) -> Method {
        Method::PATCH
    }
    fn path_template(&self) -> &'static str {
        "/webhook/{id}"
    }
    fn path(&self) -> String {
        format!("/webhook/{}", encode_component(self.id.as_str()))
    }
    fn body(&self) -> Result<Option<Vec<u8>>, serde_json::Error> {
        serde_json::to_vec(&self.body).map(Some)
    }
    fn validate(&self) -> Result<(), ValidationError> {
        validate::id("id", self.id.as_str())?;
        if self.body.is_empty() {
            return Err(ValidationError::new(
                "body",
                "an update must set at least one of endpoint, description or headers",
            ));
        }
        if let Some(endpoint) = &self.body.endpoint {
            validate::http_url("endpoint", endpoint)?;
        }
        validate::headers(&self.body.headers)
    }
    fn check(&self, output: &Self::Output) -> Result<(), Error> {
        same_webhook(self.name(), &self.id, output)
    }
    fn output(data: Self::Data) -> Result<Self::Output, ParseError> {
        Ok(data.into_id())
    }
}

/// `DELETE /webhook/{id}`: deletes a webhook no agent is subscribed to; answers with a message.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct DeleteWebhook {
    /// The webhook.
    pub id: WebhookId,
}

impl DeleteWebhook {
    /// The request.
    pub fn new(id: impl Into<WebhookId>) -> Self {
        Self { id: id.into() }
    }
}

impl Endpoint for DeleteWebhook {
    type Output = String;
    type Data = serde_json::Value;
    fn name(&self) -> &'static str {
        "delete_webhook"
    }
    fn method(&self) -> Method {
        Method::DELETE
    }
    fn path_template(&self) -> &'static str {
        "/webhook/{id}"
    }
    fn path(&self) -> String {
        format!("/webhook/{}", encode_component(self.id.as_str()))
    }
    fn validate(&self) -> Result<(), ValidationError> {
        validate::id("id", self.id.as_str())
    }
    fn output(data: Self::Data) -> Result<Self::Output, ParseError> {
        Ok(message(data))
    }
}

fn subscriptions_path(agent_id: &AgentId) -> String {
    format!(
        "/agent/{}/webhook-subscriptions",
        encode_component(agent_id.as_str())
    )
}

const SUBSCRIPTIONS_TEMPLATE: &str = "/agent/{agentId}/webhook-subscriptions";

/// `GET /agent/{agentId}/webhook-subscriptions`: all of an agent's subscriptions, to any webhook.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct GetAgentSubscriptions {
    /// The agent.
    pub agent_id: AgentId,
}

impl GetAgentSubscriptions {
    /// The request.
    pub fn new(agent_id: impl Into<AgentId>) -> Self {
        Self {
            agent_id: agent_id.into(),
        }
    }
}

impl Endpoint for GetAgentSubscriptions {
    type Output = Vec<WebhookSubscription>;
    type Data = OneOrMany<WebhookSubscription>;
    fn name(&self) -> &'static str {
        "get_agent_subscriptions"
    }
    fn method(&self) -> Method {
        Method::GET
    }
    fn path_template(&self) -> &'static str {
        SUBSCRIPTIONS_TEMPLATE
    }
    fn path(&self) -> String {
        subscriptions_path(&self.agent_id)
    }
    fn validate(&self) -> Result<(), ValidationError> {
        validate::id("agent_id", self.agent_id.as_str())
    }
    fn output(data: Self::Data) -> Result<Self::Output, ParseError> {
        Ok(data.into_vec())
    }
}

/// `POST /agent/{agentId}/webhook-subscriptions`: REPLACES all of the agent's subscriptions
/// (to every webhook) with these event types on one webhook; answers with a message.
///
/// Idempotent in effect (the same body gives the same final state), so it may be retried.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ReplaceAgentSubscriptions {
    /// The agent.
    pub agent_id: AgentId,
    /// The new, complete set of subscriptions.
    pub body: ReplaceSubscriptionsRequest,
}

impl ReplaceAgentSubscriptions {
    /// Subscribes `agent_id` to `event_types` on `webhook_id`, and to nothing else.
    pub fn new(
        agent_id: impl Into<AgentId>,
        webhook_id: impl Into<WebhookId>,
        event_types: impl IntoIterator<Item = EventType>,
    ) -> Self {
        Self {
            agent_id: agent_id.into(),
            body: ReplaceSubscriptionsRequest::new(webhook_id, event_types),
        }
    }
}

impl Endpoint for ReplaceAgentSubscriptions {
    type Output = String;
    type Data = serde_json::Value;
    fn name(&self) -> &'static str {
        "replace_agent_subscriptions"
    }
    fn method(&self) -> Method {
        Method::POST
    }
    fn path_template(&self) -> &'static str {
        SUBSCRIPTIONS_TEMPLATE
    }
    fn path(&self) -> String {
        subscriptions_path(&self.agent_id)
    }
    fn body(&self) -> Result<Option<Vec<u8>>, serde_json::Error> {
        serde_json::to_vec(&self.body).map(Some)
    }
    fn validate(&self) -> Result<(), ValidationError> {
        validate::id("agent_id", self.agent_id.as_str())?;
        validate::id("webhookId", self.body.webhook_id.as_str())?;
        if self.body.event_types.is_empty() {
            return Err(ValidationError::new(
                "eventTypes",
                "must name at least one event type (to remove all subscriptions, clear them)",
            ));
        }
        for (i, e) in self.body.event_types.iter().enumerate() {
            validate::event_type(&format!("eventTypes[{i}]"), e)?;
        }
        Ok(())
    }
    fn output(data: Self::Data) -> Result<Self::Output, ParseError> {
        Ok(message(data))
    }
}

/// `DELETE /agent/{agentId}/webhook-subscriptions`: removes ALL of the agent's subscriptions,
/// across webhooks; answers with a message.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ClearAgentSubscriptions {
    /// The agent.
    pub agent_id: AgentId,
}

impl ClearAgentSubscriptions {
    /// The request.
    pub fn new(agent_id: impl Into<AgentId>) -> Self {
        Self {
            agent_id: agent_id.into(),
        }
    }
}

impl Endpoint for ClearAgentSubscriptions {
    type Output = String;
    type Data = serde_json::Value;
    fn name(&self) -> &'static str {
        "clear_agent_subscriptions"
    }
    fn method(&self) -> Method {
        Method::DELETE
    }
    fn path_template(&self) -> &'static str {
        SUBSCRIPTIONS_TEMPLATE
    }
    fn path(&self) -> String {
        subscriptions_path(&self.agent_id)
    }
    fn validate(&self) -> Result<(), ValidationError> {
        validate::id("agent_id", self.agent_id.as_str())
    }
    fn output(data: Self::Data) -> Result<Self::Output, ParseError> {
        Ok(message(data))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_are_encoded() {
        assert_eq!(encode_component("abc-_.~09AZ"), "abc-_.~09AZ");
        assert_eq!(encode_component("a?b#c%d&e=f"), "a%3Fb%23c%25d%26e%3Df");
        assert_eq!(encode_component("é"), "%C3%A9");
    }

    #[test]
    fn create_is_not_idempotent_unless_allowed() {
        let req = CreateWebhookRequest::new("https://x.test/h", "d");
        assert!(!CreateWebhook::new(req.clone()).idempotent());
        assert!(CreateWebhook::new(req).allow_retry(true).idempotent());
        assert!(DeleteWebhook::new("a").idempotent());
        assert!(
            ReplaceAgentSubscriptions::new("a", "w", [EventType::PreConversation]).idempotent()
        );
    }
}
