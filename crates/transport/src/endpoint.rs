//! One owned request type per API operation, and the [`Endpoint`] trait that describes them.
//!
//! A request owns its data and borrows no client; [`crate::build`] turns it into an
//! `http::Request` and [`crate::decode`] turns the response into its [`Endpoint::Output`].

use atoms_webhook_models::{
    AgentId, CallDirection, CallId, CallLog, CallLogPage, CallStatus, CreateWebhookRequest,
    EventType, OneOrMany, ParseError, ReplaceSubscriptionsRequest, UpdateWebhookRequest, Webhook,
    WebhookId, WebhookSubscription,
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

/// Appends `s` percent-encoded as [`encode_component`] does, without its encoder when there is
/// nothing to encode (ids and the API's own names: only unreserved characters).
fn push_component(out: &mut String, s: &str) {
    if s.bytes().all(|b| UNRESERVED[usize::from(b)]) {
        out.push_str(s);
    } else {
        out.push_str(&encode_component(s));
    }
}

/// The bytes a path segment or query part carries as they are (RFC 3986's unreserved
/// characters), looked up rather than compared: ids are checked byte by byte on every request.
const UNRESERVED: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~');
        b += 1;
    }
    table
};

/// Appends `?k=v&...` for `query`, each part percent-encoded.
fn push_query<'a>(out: &mut String, query: impl IntoIterator<Item = (&'a str, &'a str)>) {
    for (i, (k, v)) in query.into_iter().enumerate() {
        out.push(if i == 0 { '?' } else { '&' });
        push_component(out, k);
        out.push('=');
        push_component(out, v);
    }
}

/// The description of one API operation: how to send it and how to read its answer.
///
/// The eight operations of the webhook API and the two of the call logs implement it; so can a
/// caller's own request type for an endpoint this crate does not know yet.
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
    /// Appends [`Endpoint::path`] and the percent-encoded [`Endpoint::query`] (`?k=v&...`) to
    /// `out`: what follows the base URL. The default calls both; an endpoint may write them
    /// directly instead, to spare their allocations, as long as the result is the same.
    fn write_path_and_query(&self, out: &mut String) {
        out.push_str(&self.path());
        let query = self.query();
        push_query(out, query.iter().map(|(k, v)| (*k, v.as_str())));
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

/// The answer must name the webhook that was asked for. Inlined where it is called (on every
/// by-id answer); the error is built out of line.
#[inline]
fn same_webhook(
    operation: &'static str,
    requested: &WebhookId,
    received: &WebhookId,
) -> Result<(), Error> {
    if received == requested {
        Ok(())
    } else {
        other_webhook(operation, requested, received)
    }
}

#[cold]
#[inline(never)]
fn other_webhook(
    operation: &'static str,
    requested: &WebhookId,
    received: &WebhookId,
) -> Result<(), Error> {
    Err(Error::UnexpectedResponse {
        operation,
        requested: requested.clone(),
        received: received.clone(),
    })
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
    #[inline]
    fn name(&self) -> &'static str {
        "list_webhooks"
    }
    #[inline]
    fn method(&self) -> Method {
        Method::GET
    }
    #[inline]
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
    #[inline]
    fn name(&self) -> &'static str {
        "get_webhook"
    }
    #[inline]
    fn method(&self) -> Method {
        Method::GET
    }
    #[inline]
    fn path_template(&self) -> &'static str {
        "/webhook?webhookId={id}"
    }
    fn path(&self) -> String {
        "/webhook".to_owned()
    }
    fn query(&self) -> Vec<(&'static str, String)> {
        vec![("webhookId", self.id.as_str().to_owned())]
    }
    #[inline]
    fn write_path_and_query(&self, out: &mut String) {
        out.push_str("/webhook");
        push_query(out, [("webhookId", self.id.as_str())]);
    }
    #[inline]
    fn validate(&self) -> Result<(), ValidationError> {
        validate::id("id", self.id.as_str())
    }
    #[inline]
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
///
/// An answer whose id could not be used in a path (empty, with whitespace or a `/`) is
/// [`Error::InvalidResponse`]: the webhook was probably created all the same, so look for it
/// (by URL, in the list) before creating it again.
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
    #[inline]
    fn name(&self) -> &'static str {
        "create_webhook"
    }
    #[inline]
    fn method(&self) -> Method {
        Method::POST
    }
    #[inline]
    fn path_template(&self) -> &'static str {
        "/webhook"
    }
    fn path(&self) -> String {
        "/webhook".to_owned()
    }
    fn body(&self) -> Result<Option<Vec<u8>>, serde_json::Error> {
        serde_json::to_vec(&self.body).map(Some)
    }
    #[inline]
    fn idempotent(&self) -> bool {
        self.allow_retry
    }
    #[inline]
    fn check(&self, output: &Self::Output) -> Result<(), Error> {
        // The id is used next (to fetch the secret, by the caller): it must fit in a path.
        validate::id("data", output.as_str()).map_err(|e| Error::invalid_response(self.name(), e))
    }
    #[inline]
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
    #[inline]
    fn name(&self) -> &'static str {
        "update_webhook"
    }
    #[inline]
    fn method(&self) -> Method {
        Method::PATCH
    }
    #[inline]
    fn path_template(&self) -> &'static str {
        "/webhook/{id}"
    }
    fn path(&self) -> String {
        format!("/webhook/{}", encode_component(self.id.as_str()))
    }
    fn body(&self) -> Result<Option<Vec<u8>>, serde_json::Error> {
        serde_json::to_vec(&self.body).map(Some)
    }
    #[inline]
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
    #[inline]
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
    #[inline]
    fn name(&self) -> &'static str {
        "delete_webhook"
    }
    #[inline]
    fn method(&self) -> Method {
        Method::DELETE
    }
    #[inline]
    fn path_template(&self) -> &'static str {
        "/webhook/{id}"
    }
    fn path(&self) -> String {
        format!("/webhook/{}", encode_component(self.id.as_str()))
    }
    #[inline]
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
    #[inline]
    fn name(&self) -> &'static str {
        "get_agent_subscriptions"
    }
    #[inline]
    fn method(&self) -> Method {
        Method::GET
    }
    #[inline]
    fn path_template(&self) -> &'static str {
        SUBSCRIPTIONS_TEMPLATE
    }
    fn path(&self) -> String {
        subscriptions_path(&self.agent_id)
    }
    #[inline]
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
    #[inline]
    fn name(&self) -> &'static str {
        "replace_agent_subscriptions"
    }
    #[inline]
    fn method(&self) -> Method {
        Method::POST
    }
    #[inline]
    fn path_template(&self) -> &'static str {
        SUBSCRIPTIONS_TEMPLATE
    }
    fn path(&self) -> String {
        subscriptions_path(&self.agent_id)
    }
    fn body(&self) -> Result<Option<Vec<u8>>, serde_json::Error> {
        serde_json::to_vec(&self.body).map(Some)
    }
    #[inline]
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
    #[inline]
    fn name(&self) -> &'static str {
        "clear_agent_subscriptions"
    }
    #[inline]
    fn method(&self) -> Method {
        Method::DELETE
    }
    #[inline]
    fn path_template(&self) -> &'static str {
        SUBSCRIPTIONS_TEMPLATE
    }
    fn path(&self) -> String {
        subscriptions_path(&self.agent_id)
    }
    #[inline]
    fn validate(&self) -> Result<(), ValidationError> {
        validate::id("agent_id", self.agent_id.as_str())
    }
    fn output(data: Self::Data) -> Result<Self::Output, ParseError> {
        Ok(message(data))
    }
}

/// Largest page of call logs the server returns (larger `limit`s are clamped by it).
pub const MAX_CONVERSATION_PAGE: u32 = 500;

/// `GET /conversation`: one page of the organization's call logs, in the server's default
/// order (last updated first, index-backed).
///
/// Only the documented, cheap parameters are offered: `page`, `limit` and the filters
/// `agentIds`, `campaignIds`, `callTypes`, `statusFilter` and `search`. `sortBy=createdAt`,
/// `dateFrom` and `dateTo` are deliberately absent: the API documents that they scan the whole
/// history and can end in a 504 on large accounts. To find new calls between polls, remember
/// the call ids already seen (an older call updated recently moves to the top).
///
/// ```
/// use atoms_webhook_transport::{build, Config, ListConversations};
/// use atoms_webhook_transport::models::CallStatus;
/// let request = ListConversations::new()
///     .limit(20)
///     .agent_ids(["60d0fe4f5311236168a109ca"])
///     .status_filter([CallStatus::Completed, CallStatus::Failed]);
/// let http = build(&Config::new("sk").base_url("http://127.0.0.1:1"), &request)?;
/// assert_eq!(
///     http.uri(),
///     "http://127.0.0.1:1/conversation?page=1&limit=20&agentIds=60d0fe4f5311236168a109ca&statusFilter=completed%2Cfailed"
/// );
/// # Ok::<(), atoms_webhook_transport::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct ListConversations {
    /// The page, from 1. Default: 1.
    pub page: u32,
    /// The page size, 1 to [`MAX_CONVERSATION_PAGE`]; `None` leaves the server's default (5).
    pub limit: Option<u32>,
    /// Only calls of these agents (`agentIds`, comma-separated); empty: every agent.
    pub agent_ids: Vec<AgentId>,
    /// Only calls of these campaigns (`campaignIds`); empty: every campaign.
    pub campaign_ids: Vec<String>,
    /// Only calls of these types (`callTypes`); empty: every type.
    pub call_types: Vec<CallDirection>,
    /// Only calls in these statuses (`statusFilter`); empty: every status.
    pub status_filter: Vec<CallStatus>,
    /// Only calls whose call id or numbers match this text (`search`).
    pub search: Option<String>,
}

impl Default for ListConversations {
    fn default() -> Self {
        Self::new()
    }
}

impl ListConversations {
    /// The first page, with the server's default size and no filter.
    pub fn new() -> Self {
        Self {
            page: 1,
            limit: None,
            agent_ids: Vec::new(),
            campaign_ids: Vec::new(),
            call_types: Vec::new(),
            status_filter: Vec::new(),
            search: None,
        }
    }

    /// The page, from 1.
    pub fn page(mut self, page: u32) -> Self {
        self.page = page;
        self
    }

    /// The page size (1 to [`MAX_CONVERSATION_PAGE`]).
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Only calls of these agents.
    pub fn agent_ids<I: Into<AgentId>>(mut self, ids: impl IntoIterator<Item = I>) -> Self {
        self.agent_ids = ids.into_iter().map(Into::into).collect();
        self
    }

    /// Only calls of these campaigns.
    pub fn campaign_ids<I: Into<String>>(mut self, ids: impl IntoIterator<Item = I>) -> Self {
        self.campaign_ids = ids.into_iter().map(Into::into).collect();
        self
    }

    /// Only calls of these types.
    pub fn call_types(mut self, types: impl IntoIterator<Item = CallDirection>) -> Self {
        self.call_types = types.into_iter().collect();
        self
    }

    /// Only calls in these statuses.
    pub fn status_filter(mut self, statuses: impl IntoIterator<Item = CallStatus>) -> Self {
        self.status_filter = statuses.into_iter().collect();
        self
    }

    /// Only calls whose call id or numbers match `text`.
    pub fn search(mut self, text: impl Into<String>) -> Self {
        self.search = Some(text.into());
        self
    }
}

/// Joins list values with commas, as the API's list parameters take them.
fn comma_list<'a>(values: impl Iterator<Item = &'a str>) -> String {
    values.collect::<Vec<_>>().join(",")
}

/// One element of a comma-separated list parameter: an id without commas.
fn list_element(field: &str, value: &str) -> Result<(), ValidationError> {
    validate::id(field, value)?;
    if value.contains(',') {
        return Err(ValidationError::new(field, "must not contain ','"));
    }
    Ok(())
}

impl Endpoint for ListConversations {
    type Output = CallLogPage;
    type Data = CallLogPage;
    #[inline]
    fn name(&self) -> &'static str {
        "list_conversations"
    }
    #[inline]
    fn method(&self) -> Method {
        Method::GET
    }
    #[inline]
    fn path_template(&self) -> &'static str {
        "/conversation"
    }
    fn path(&self) -> String {
        "/conversation".to_owned()
    }
    fn query(&self) -> Vec<(&'static str, String)> {
        let mut q = vec![("page", self.page.to_string())];
        if let Some(limit) = self.limit {
            q.push(("limit", limit.to_string()));
        }
        if !self.agent_ids.is_empty() {
            q.push((
                "agentIds",
                comma_list(self.agent_ids.iter().map(AgentId::as_str)),
            ));
        }
        if !self.campaign_ids.is_empty() {
            q.push((
                "campaignIds",
                comma_list(self.campaign_ids.iter().map(String::as_str)),
            ));
        }
        if !self.call_types.is_empty() {
            q.push((
                "callTypes",
                comma_list(self.call_types.iter().map(CallDirection::as_str)),
            ));
        }
        if !self.status_filter.is_empty() {
            q.push((
                "statusFilter",
                comma_list(self.status_filter.iter().map(CallStatus::as_str)),
            ));
        }
        if let Some(search) = &self.search {
            q.push(("search", search.clone()));
        }
        q
    }
    #[inline]
    fn validate(&self) -> Result<(), ValidationError> {
        if self.page == 0 {
            return Err(ValidationError::new("page", "pages are numbered from 1"));
        }
        if let Some(limit) = self.limit {
            if limit == 0 || limit > MAX_CONVERSATION_PAGE {
                return Err(ValidationError::new(
                    "limit",
                    format!("must be between 1 and {MAX_CONVERSATION_PAGE}"),
                ));
            }
        }
        for (i, id) in self.agent_ids.iter().enumerate() {
            list_element(&format!("agentIds[{i}]"), id.as_str())?;
        }
        for (i, id) in self.campaign_ids.iter().enumerate() {
            list_element(&format!("campaignIds[{i}]"), id)?;
        }
        for (i, t) in self.call_types.iter().enumerate() {
            list_element(&format!("callTypes[{i}]"), t.as_str())?;
        }
        for (i, s) in self.status_filter.iter().enumerate() {
            list_element(&format!("statusFilter[{i}]"), s.as_str())?;
        }
        if let Some(search) = &self.search {
            if search.chars().any(char::is_control) {
                return Err(ValidationError::new(
                    "search",
                    "must not contain control characters",
                ));
            }
        }
        Ok(())
    }
    fn output(data: Self::Data) -> Result<Self::Output, ParseError> {
        Ok(data)
    }
}

/// `GET /conversation/{callId}`: one call log, with transcript, variables and analytics.
///
/// The call id must have the documented form `CALL-{13-digit epoch ms}-{6 hex}` (checked
/// before any I/O, see [`validate::call_id`]); a call unknown to the organization is a 404,
/// [`ApiErrorKind::NotFound`](crate::ApiErrorKind::NotFound). An answer about another call
/// is [`Error::InvalidResponse`].
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct GetConversation {
    /// The call.
    pub call_id: CallId,
}

impl GetConversation {
    /// The request for this call.
    pub fn new(call_id: impl Into<CallId>) -> Self {
        Self {
            call_id: call_id.into(),
        }
    }
}

impl Endpoint for GetConversation {
    type Output = CallLog;
    type Data = CallLog;
    #[inline]
    fn name(&self) -> &'static str {
        "get_conversation"
    }
    #[inline]
    fn method(&self) -> Method {
        Method::GET
    }
    #[inline]
    fn path_template(&self) -> &'static str {
        "/conversation/{callId}"
    }
    fn path(&self) -> String {
        format!("/conversation/{}", encode_component(self.call_id.as_str()))
    }
    #[inline]
    fn validate(&self) -> Result<(), ValidationError> {
        validate::call_id("call_id", self.call_id.as_str())
    }
    #[inline]
    fn check(&self, output: &Self::Output) -> Result<(), Error> {
        match &output.call_id {
            Some(received) if received != &self.call_id => Err(Error::invalid_response(
                self.name(),
                ValidationError::new("data.callId", "names another call than the one asked for"),
            )),
            _ => Ok(()),
        }
    }
    fn output(data: Self::Data) -> Result<Self::Output, ParseError> {
        Ok(data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_paths_are_the_path_and_the_encoded_query() {
        fn default_way<R: Endpoint>(e: &R) -> String {
            let mut out = e.path();
            push_query(&mut out, e.query().iter().map(|(k, v)| (*k, v.as_str())));
            out
        }
        for id in ["64f0c0ffee0000000000abcd", "a b/c?d", ""] {
            let e = GetWebhook::new(id);
            let mut written = String::new();
            e.write_path_and_query(&mut written);
            assert_eq!(written, default_way(&e), "{id:?}");
        }
    }

    #[test]
    fn components_are_appended_as_encode_component_encodes_them() {
        for s in [
            "",
            "64f0c0ffee0000000000abcd",
            "A-z.0_9~",
            "a b",
            "a/b?c&d=e#f",
            "%41",
            "é+ü",
            "\u{0}\n",
        ] {
            let mut url = String::from("x");
            push_component(&mut url, s);
            assert_eq!(url, format!("x{}", encode_component(s)), "{s:?}");
        }
    }

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
        assert!(ListConversations::new().idempotent());
        assert!(GetConversation::new("CALL-1737000000000-abc123").idempotent());
        assert!(
            ReplaceAgentSubscriptions::new("a", "w", [EventType::PreConversation]).idempotent()
        );
    }
}

#[cfg(test)]
mod conversation_tests {
    use super::*;

    #[test]
    fn list_query_has_only_what_was_asked() {
        let q = ListConversations::new().query();
        assert_eq!(q, vec![("page", "1".to_owned())]);
        let q = ListConversations::new()
            .page(2)
            .limit(3)
            .agent_ids(["a1", "a2"])
            .call_types([CallDirection::TelephonyInbound])
            .search("+1555")
            .query();
        let keys: Vec<_> = q.iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, ["page", "limit", "agentIds", "callTypes", "search"]);
        assert_eq!(q[2].1, "a1,a2");
        assert!(!keys.contains(&"sortBy") && !keys.contains(&"dateFrom"));
    }

    #[test]
    fn list_validation() {
        assert!(ListConversations::new().validate().is_ok());
        assert_eq!(
            ListConversations::new()
                .page(0)
                .validate()
                .unwrap_err()
                .field(),
            "page"
        );
        for bad in [0, 501] {
            let e = ListConversations::new().limit(bad).validate().unwrap_err();
            assert_eq!(e.field(), "limit");
        }
        assert!(ListConversations::new().limit(500).validate().is_ok());
        let e = ListConversations::new()
            .agent_ids(["a,b"])
            .validate()
            .unwrap_err();
        assert_eq!(e.field(), "agentIds[0]");
    }

    #[test]
    fn get_validates_the_call_id() {
        assert!(GetConversation::new("CALL-1737000000000-abc123")
            .validate()
            .is_ok());
        for bad in [
            "",
            "CALL-173700000000-abc123",
            "CALL-1737000000000-abc12",
            "CALL-1737000000000-abc12g",
            "call-1737000000000-abc123",
            "CALL-1737000000000-abc123/..",
            "64f0c0ffee0000000000abcd",
        ] {
            assert!(GetConversation::new(bad).validate().is_err(), "{bad}");
        }
        assert_eq!(
            GetConversation::new("CALL-1737000000000-abc123").path(),
            "/conversation/CALL-1737000000000-abc123"
        );
    }
}
