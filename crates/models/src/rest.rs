//! Types of the REST API: webhooks, subscriptions, request bodies and the response envelopes.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{
    AgentId, EventType, Fields, Json, OrganizationId, SigningSecret, SubscriptionId, Timestamp,
    UserId, WebhookId, WebhookStatus,
};

wire_struct!(
    /// An agent as populated inside a webhook's subscriptions.
    pub struct WebhookAgent {
        /// The agent's id (`_id`).
        req "_id" id: AgentId,
        /// The agent's name.
        opt "name" name: String,
        /// The agent's description.
        opt "description" description: String,
    }
);

/// The `agentId` of a subscription listed inside a webhook: normally the populated agent
/// object, but a bare id string is accepted too. A JSON `null` (agent gone) is a `None` field.
#[derive(Clone, PartialEq, Debug)]
#[non_exhaustive]
pub enum AgentRef {
    /// The populated agent (`{_id, name, description}`).
    Populated(WebhookAgent),
    /// Only the agent's id.
    Id(AgentId),
}

impl AgentRef {
    /// The agent's id, whichever form it came in.
    pub fn id(&self) -> &AgentId {
        match self {
            AgentRef::Populated(a) => &a.id,
            AgentRef::Id(id) => id,
        }
    }

    /// The agent's name when the agent is populated.
    pub fn name(&self) -> Option<&str> {
        match self {
            AgentRef::Populated(a) => a.name.as_deref(),
            AgentRef::Id(_) => None,
        }
    }
}

impl Serialize for AgentRef {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            AgentRef::Populated(a) => a.serialize(s),
            AgentRef::Id(id) => id.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for AgentRef {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = AgentRef;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an agent object or an agent id string")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<AgentRef, E> {
                Ok(AgentRef::Id(AgentId::new(v)))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<AgentRef, A::Error> {
                WebhookAgent::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(AgentRef::Populated)
            }
        }
        d.deserialize_any(V)
    }
}

wire_struct!(
    /// A subscription as listed inside a [`Webhook`], with its agent populated.
    pub struct PopulatedSubscription {
        /// The subscription's id (`_id`).
        req "_id" id: SubscriptionId,
        /// The webhook it belongs to.
        opt "webhookId" webhook_id: WebhookId,
        /// The agent, populated; `None` when absent or `null`.
        opt "agentId" agent: AgentRef,
        /// The subscribed event type.
        opt "eventType" event_type: EventType,
        /// When the subscription was created.
        opt "createdAt" created_at: Timestamp,
        /// When the subscription was last updated.
        opt "updatedAt" updated_at: Timestamp,
    }
);

impl PopulatedSubscription {
    /// The subscribed agent's id, when there is an agent.
    pub fn agent_id(&self) -> Option<&AgentId> {
        self.agent.as_ref().map(AgentRef::id)
    }
}

wire_struct!(
    /// A webhook: an endpoint URL, its signing secret, and the agents subscribed to it.
    ///
    /// `Debug` never shows the signing secret:
    /// ```
    /// use atoms_webhook_models::{Webhook, SigningSecret};
    /// let mut w = Webhook::default();
    /// w.decrypted_secret_key = Some(SigningSecret::new("top-secret"));
    /// assert!(!format!("{w:?}").contains("top-secret"));
    /// ```
    pub struct Webhook {
        /// The webhook's id (`_id`).
        req "_id" id: WebhookId,
        /// The endpoint deliveries are sent to.
        opt "url" url: String,
        /// A label.
        opt "description" description: String,
        /// Whether deliveries are sent.
        opt "status" status: WebhookStatus,
        /// The owning organization.
        opt "organizationId" organization_id: OrganizationId,
        /// The user who created it.
        opt "createdBy" created_by: UserId,
        /// Its subscriptions, with agents populated.
        opt "subscriptions" subscriptions: Vec<PopulatedSubscription>,
        /// The signing secret (`decryptedSecretKey`), returned by list and by single get.
        opt "decryptedSecretKey" decrypted_secret_key: SigningSecret,
        /// When it was created.
        opt "createdAt" created_at: Timestamp,
        /// When it was last updated.
        opt "updatedAt" updated_at: Timestamp,
    }
);

impl Webhook {
    /// The subscriptions (empty when the field was absent).
    pub fn subscription_list(&self) -> &[PopulatedSubscription] {
        self.subscriptions.as_deref().unwrap_or(&[])
    }

    /// The ids of the agents subscribed to this webhook, each once, in order of appearance.
    pub fn agent_ids(&self) -> Vec<AgentId> {
        let mut out: Vec<AgentId> = Vec::new();
        for id in self.subscription_list().iter().filter_map(|s| s.agent_id()) {
            if !out.contains(id) {
                out.push(id.clone());
            }
        }
        out
    }

    /// The signing secret, when the response carried one.
    pub fn signing_secret(&self) -> Option<&SigningSecret> {
        self.decrypted_secret_key.as_ref()
    }

    /// True unless the status says `disabled`.
    pub fn is_enabled(&self) -> bool {
        !matches!(self.status, Some(WebhookStatus::Disabled))
    }

    /// Custom headers, if the server reported them (a `headers` object; not part of the
    /// documented schema, so read from the unknown fields).
    pub fn custom_headers(&self) -> Vec<(String, String)> {
        match self.extra.get("headers").map(Json::parse::<Fields>) {
            Some(Ok(m)) => m
                .into_iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k, v.to_owned())))
                .collect(),
            _ => Vec::new(),
        }
    }
}

wire_struct!(
    /// One of an agent's subscriptions, as returned by `GET /agent/{agentId}/webhook-subscriptions`.
    pub struct WebhookSubscription {
        /// The subscription's id (`_id`).
        req "_id" id: SubscriptionId,
        /// The webhook it delivers to.
        opt "webhookId" webhook_id: WebhookId,
        /// The agent.
        opt "agentId" agent_id: AgentId,
        /// The event type.
        opt "eventType" event_type: EventType,
        /// When it was created.
        opt "createdAt" created_at: Timestamp,
        /// When it was last updated.
        opt "updatedAt" updated_at: Timestamp,
    }
);

/// One `{agentId, eventType}` pair of a create request.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct EventSubscription {
    /// The agent whose calls trigger the event.
    #[serde(rename = "agentId")]
    pub agent_id: AgentId,
    /// The event type.
    #[serde(rename = "eventType")]
    pub event_type: EventType,
}

impl EventSubscription {
    /// A pair of agent and event type.
    pub fn new(agent_id: impl Into<AgentId>, event_type: EventType) -> Self {
        Self {
            agent_id: agent_id.into(),
            event_type,
        }
    }
}

/// The body of `POST /webhook`.
///
/// ```
/// use atoms_webhook_models::{CreateWebhookRequest, EventType};
/// let body = CreateWebhookRequest::new("https://example.com/hook", "CRM sync")
///     .event("60d0fe4f5311236168a109ca", EventType::PostConversation);
/// assert_eq!(serde_json::to_value(&body).unwrap()["events"][0]["eventType"], "post-conversation");
/// ```
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct CreateWebhookRequest {
    /// The URL deliveries go to.
    pub endpoint: String,
    /// A label.
    pub description: String,
    /// The agent/event pairs to subscribe at once.
    pub events: Vec<EventSubscription>,
}

impl CreateWebhookRequest {
    /// A request with no events yet.
    pub fn new(endpoint: impl Into<String>, description: impl Into<String>) -> Self {
        Self {
            endpoint: endpoint.into(),
            description: description.into(),
            events: Vec::new(),
        }
    }

    /// Adds one agent/event pair.
    pub fn event(mut self, agent_id: impl Into<AgentId>, event_type: EventType) -> Self {
        self.events
            .push(EventSubscription::new(agent_id, event_type));
        self
    }

    /// Adds every given event type for one agent.
    pub fn events_for(
        mut self,
        agent_id: impl Into<AgentId>,
        event_types: impl IntoIterator<Item = EventType>,
    ) -> Self {
        let agent = agent_id.into();
        for e in event_types {
            self.events.push(EventSubscription::new(agent.clone(), e));
        }
        self
    }
}

/// What an update does to a webhook's custom headers: the field has three states on the wire.
///
/// `Debug` shows header names only: the values are often the receiver's credentials.
#[derive(Clone, PartialEq, Eq, Default)]
pub enum HeadersUpdate {
    /// The field is absent: headers stay as they are.
    #[default]
    Keep,
    /// `{}`: all custom headers are removed.
    Clear,
    /// A non-empty object: all custom headers are replaced by these (in this order).
    Replace(Vec<(String, String)>),
}

impl std::fmt::Debug for HeadersUpdate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HeadersUpdate::Keep => f.write_str("Keep"),
            HeadersUpdate::Clear => f.write_str("Clear"),
            HeadersUpdate::Replace(pairs) => f
                .debug_tuple("Replace")
                .field(
                    &pairs
                        .iter()
                        .map(|(k, _)| (k, "[redacted]"))
                        .collect::<Vec<_>>(),
                )
                .finish(),
        }
    }
}

impl HeadersUpdate {
    /// True for [`HeadersUpdate::Keep`].
    pub fn is_keep(&self) -> bool {
        matches!(self, HeadersUpdate::Keep)
    }
}

impl Serialize for HeadersUpdate {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let pairs: &[(String, String)] = match self {
            HeadersUpdate::Replace(p) => p,
            _ => &[],
        };
        let mut m = s.serialize_map(Some(pairs.len()))?;
        for (k, v) in pairs {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for HeadersUpdate {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = HeadersUpdate;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object of header names to string values")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<HeadersUpdate, A::Error> {
                let mut pairs = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, String>()? {
                    pairs.push((k, v));
                }
                Ok(if pairs.is_empty() {
                    HeadersUpdate::Clear
                } else {
                    HeadersUpdate::Replace(pairs)
                })
            }
        }
        d.deserialize_map(V)
    }
}

/// The body of `PATCH /webhook/{id}`. At least one field must be set.
///
/// ```
/// use atoms_webhook_models::UpdateWebhookRequest;
/// let clear = UpdateWebhookRequest::new().clear_headers();
/// assert_eq!(serde_json::to_string(&clear).unwrap(), r#"{"headers":{}}"#);
/// let keep = UpdateWebhookRequest::new().description("new label");
/// assert_eq!(serde_json::to_string(&keep).unwrap(), r#"{"description":"new label"}"#);
/// ```
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct UpdateWebhookRequest {
    /// A new endpoint URL.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub endpoint: Option<String>,
    /// A new label.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub description: Option<String>,
    /// What to do with the custom headers.
    #[serde(skip_serializing_if = "HeadersUpdate::is_keep", default)]
    pub headers: HeadersUpdate,
}

impl UpdateWebhookRequest {
    /// An update that changes nothing yet (sending it as is is refused client-side).
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets a new endpoint URL.
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// Sets a new description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Replaces all custom headers with these. An empty list clears them.
    pub fn headers<K: Into<String>, V: Into<String>>(
        mut self,
        headers: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        let pairs: Vec<(String, String)> = headers
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        self.headers = if pairs.is_empty() {
            HeadersUpdate::Clear
        } else {
            HeadersUpdate::Replace(pairs)
        };
        self
    }

    /// Removes all custom headers (`"headers": {}`).
    pub fn clear_headers(mut self) -> Self {
        self.headers = HeadersUpdate::Clear;
        self
    }

    /// True when no field is set (the API rejects such a request).
    pub fn is_empty(&self) -> bool {
        self.endpoint.is_none() && self.description.is_none() && self.headers.is_keep()
    }
}

/// The body of `POST /agent/{agentId}/webhook-subscriptions`: the agent's complete new set of
/// subscriptions, all to one webhook.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct ReplaceSubscriptionsRequest {
    /// The event types to subscribe.
    #[serde(rename = "eventTypes")]
    pub event_types: Vec<EventType>,
    /// The webhook to deliver them to.
    #[serde(rename = "webhookId")]
    pub webhook_id: WebhookId,
}

impl ReplaceSubscriptionsRequest {
    /// Subscribes to `event_types` on `webhook_id`.
    pub fn new(
        webhook_id: impl Into<WebhookId>,
        event_types: impl IntoIterator<Item = EventType>,
    ) -> Self {
        Self {
            event_types: event_types.into_iter().collect(),
            webhook_id: webhook_id.into(),
        }
    }
}

/// The success envelope every endpoint answers with: `{"status": true, "data": ...}`.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct ApiResponse<T> {
    /// `true` on success. A `false` here, even with a 2xx status, is an error.
    pub status: bool,
    /// The payload.
    pub data: T,
}

impl<T> ApiResponse<T> {
    /// A successful envelope around `data`.
    pub fn ok(data: T) -> Self {
        Self { status: true, data }
    }
}

/// `GET /webhook` answers with one webhook when asked by id and with an array otherwise.
///
/// Unlike an untagged enum, it looks at the first token and parses one shape, so an error
/// inside an element keeps its JSON path (`data[3].subscriptions`).
#[derive(Clone, PartialEq, Debug, Serialize)]
#[serde(untagged)]
pub enum OneOrMany<T> {
    /// Several items.
    Many(Vec<T>),
    /// A single item.
    One(T),
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for OneOrMany<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for V<T> {
            type Value = OneOrMany<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object or an array of objects")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Self::Value, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
                while let Some(item) = seq.next_element()? {
                    out.push(item);
                }
                Ok(OneOrMany::Many(out))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<Self::Value, A::Error> {
                T::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(OneOrMany::One)
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

impl<T> OneOrMany<T> {
    /// All items as a vector.
    pub fn into_vec(self) -> Vec<T> {
        match self {
            OneOrMany::One(t) => vec![t],
            OneOrMany::Many(v) => v,
        }
    }
}

wire_struct!(
    /// The error body: `{"status": false, "errors": ["message", ...]}`.
    pub struct ApiErrorBody {
        /// `false` for errors.
        opt "status" status: bool,
        /// The error messages (strings per the spec; anything else is kept as sent).
        opt "errors" errors: Vec<Json>,
        /// Some servers send a single `message` instead.
        opt "message" message: String,
    }
);

impl ApiErrorBody {
    /// A standard error body with these messages.
    pub fn new<S: Into<String>>(messages: impl IntoIterator<Item = S>) -> Self {
        Self {
            status: Some(false),
            errors: Some(messages.into_iter().map(|m| Json::from(m.into())).collect()),
            message: None,
            extra: Fields::new(),
        }
    }

    /// The messages as text: strings as they are, an object's `message` field, anything else as
    /// compact JSON; then `message` if present.
    pub fn messages(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .errors
            .iter()
            .flatten()
            .map(|v| match v.as_str() {
                Some(s) => s.to_owned(),
                None => match v.to_value() {
                    Value::Object(o) => match o.get("message").and_then(Value::as_str) {
                        Some(m) => m.to_owned(),
                        None => v.as_raw_str().into_owned(),
                    },
                    _ => v.as_raw_str().into_owned(),
                },
            })
            .collect();
        if let Some(m) = &self.message {
            out.push(m.clone());
        }
        out
    }
}
