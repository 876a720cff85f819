//! The emulator's in-memory data: webhooks (with secret, custom headers and status),
//! subscriptions and agents, and every operation on them.
//!
//! Everything here is synchronous and free of HTTP: the API handlers validate the request,
//! take the lock, call one method, and render the answer. Event delivery and the
//! emulator-only routes use the same methods, e.g. [`State::subscribers`] to find where an
//! event goes.

use std::collections::HashMap;

use atoms_webhook_models::{
    AgentId, AgentRef, EventType, Fields, HeadersUpdate, Json, OrganizationId,
    PopulatedSubscription, SigningSecret, SubscriptionId, Timestamp, UserId, Webhook, WebhookAgent,
    WebhookId, WebhookStatus, WebhookSubscription,
};
use rand::Rng;

/// The organization every emulated webhook belongs to.
pub(crate) const ORGANIZATION_ID: &str = "64b7f0c2a1e3d4f5a6b7c8d9";
/// The user every emulated webhook was created by.
pub(crate) const CREATED_BY: &str = "64b7f0c2a1e3d4f5a6b7c8da";

/// A webhook as stored: everything needed both to render it and to deliver to it.
#[derive(Clone, Debug)]
pub(crate) struct WebhookRecord {
    pub(crate) id: WebhookId,
    pub(crate) url: String,
    pub(crate) description: String,
    pub(crate) status: WebhookStatus,
    pub(crate) secret: SigningSecret,
    /// Custom headers sent with every delivery, in the order they were set.
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) created_at: Timestamp,
    pub(crate) updated_at: Timestamp,
}

/// One (agent, event type) → webhook link.
#[derive(Clone, Debug)]
pub(crate) struct SubscriptionRecord {
    pub(crate) id: SubscriptionId,
    pub(crate) webhook_id: WebhookId,
    pub(crate) agent_id: AgentId,
    pub(crate) event_type: EventType,
    pub(crate) created_at: Timestamp,
    pub(crate) updated_at: Timestamp,
}

/// An agent, seeded at start or remembered on first use.
#[derive(Clone, Debug)]
pub(crate) struct AgentRecord {
    pub(crate) id: AgentId,
    pub(crate) name: String,
    pub(crate) description: String,
}

/// Where one event for one agent must be delivered: a subscribed webhook, with what a delivery
/// needs (URL, secret to sign with, custom headers) and whether it is enabled.
#[derive(Clone, Debug)]
pub(crate) struct DeliveryTarget {
    pub(crate) webhook_id: WebhookId,
    pub(crate) subscription_id: SubscriptionId,
    pub(crate) url: String,
    pub(crate) description: String,
    pub(crate) secret: SigningSecret,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) enabled: bool,
}

/// What a create does, after validation.
#[derive(Clone, Debug)]
pub(crate) struct NewWebhook {
    pub(crate) url: String,
    pub(crate) description: String,
    /// Agent/event pairs; duplicates are ignored.
    pub(crate) events: Vec<(AgentId, EventType)>,
}

/// What an update does, after validation.
#[derive(Clone, Debug, Default)]
pub(crate) struct WebhookChanges {
    pub(crate) url: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) headers: HeadersUpdate,
}

/// Why a state operation was refused. Each maps to one documented API error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum StateError {
    /// No webhook has this id.
    WebhookNotFound,
    /// Another webhook already uses this URL.
    DuplicateUrl,
    /// The webhook still has subscriptions.
    StillAssigned,
}

/// The whole emulated account.
#[derive(Debug)]
pub(crate) struct State {
    /// In creation order (the order `GET /webhook` lists them in).
    webhooks: Vec<WebhookRecord>,
    /// In creation order.
    subscriptions: Vec<SubscriptionRecord>,
    agents: HashMap<AgentId, AgentRecord>,
    ids: IdGen,
}

impl State {
    /// An empty account with these agents already known.
    pub(crate) fn new(agents: impl IntoIterator<Item = AgentRecord>) -> Self {
        Self {
            webhooks: Vec::new(),
            subscriptions: Vec::new(),
            agents: agents.into_iter().map(|a| (a.id.clone(), a)).collect(),
            ids: IdGen::new(),
        }
    }

    /// A fresh ObjectId-shaped id (for records other than webhooks and subscriptions, such as
    /// call logs).
    pub(crate) fn new_object_id(&mut self) -> String {
        self.ids.object_id()
    }

    // ----- agents -----------------------------------------------------------------------------

    /// The agent, remembering it with a generated name if it was never seen. The caller has
    /// checked that `id` is a well-formed ObjectId.
    pub(crate) fn ensure_agent(&mut self, id: &AgentId) -> &AgentRecord {
        self.agents.entry(id.clone()).or_insert_with(|| {
            let s = id.as_str();
            let tail = s.get(s.len().saturating_sub(6)..).unwrap_or(s);
            AgentRecord {
                id: id.clone(),
                name: format!("Agent {}", tail.to_ascii_lowercase()),
                description: "Created by the Atoms emulator on first use".to_owned(),
            }
        })
    }

    /// The agent, if known.
    pub(crate) fn agent(&self, id: &AgentId) -> Option<&AgentRecord> {
        self.agents.get(id)
    }

    // ----- webhooks ---------------------------------------------------------------------------

    /// The stored webhook.
    pub(crate) fn webhook_record(&self, id: &WebhookId) -> Option<&WebhookRecord> {
        self.webhooks.iter().find(|w| &w.id == id)
    }

    /// Every webhook as `GET /webhook` shows it.
    pub(crate) fn list_webhooks(&self) -> Vec<Webhook> {
        self.webhooks.iter().map(|w| self.render(w)).collect()
    }

    /// One webhook as `GET /webhook?webhookId=` shows it.
    pub(crate) fn get_webhook(&self, id: &WebhookId) -> Result<Webhook, StateError> {
        self.webhook_record(id)
            .map(|w| self.render(w))
            .ok_or(StateError::WebhookNotFound)
    }

    /// Creates an enabled webhook with a fresh id and secret, and its subscriptions.
    pub(crate) fn create_webhook(&mut self, new: NewWebhook) -> Result<WebhookId, StateError> {
        if self.url_taken(&new.url, None) {
            return Err(StateError::DuplicateUrl);
        }
        let now = now();
        let id = WebhookId::new(self.ids.object_id());
        self.webhooks.push(WebhookRecord {
            id: id.clone(),
            url: new.url,
            description: new.description,
            status: WebhookStatus::Enabled,
            secret: SigningSecret::new(self.ids.secret()),
            headers: Vec::new(),
            created_at: now.clone(),
            updated_at: now.clone(),
        });
        for (agent, event_type) in new.events {
            self.subscribe(&agent, &id, event_type, &now);
        }
        Ok(id)
    }

    /// Applies an update; `updatedAt` moves to now.
    pub(crate) fn update_webhook(
        &mut self,
        id: &WebhookId,
        changes: WebhookChanges,
    ) -> Result<(), StateError> {
        let index = self
            .webhooks
            .iter()
            .position(|w| &w.id == id)
            .ok_or(StateError::WebhookNotFound)?;
        if let Some(url) = &changes.url {
            if self.url_taken(url, Some(id)) {
                return Err(StateError::DuplicateUrl);
            }
        }
        let w = &mut self.webhooks[index];
        if let Some(url) = changes.url {
            w.url = url;
        }
        if let Some(description) = changes.description {
            w.description = description;
        }
        match changes.headers {
            HeadersUpdate::Keep => {}
            HeadersUpdate::Clear => w.headers.clear(),
            HeadersUpdate::Replace(pairs) => w.headers = pairs,
        }
        w.updated_at = now();
        Ok(())
    }

    /// Deletes a webhook that no agent is subscribed to.
    pub(crate) fn delete_webhook(&mut self, id: &WebhookId) -> Result<(), StateError> {
        let index = self
            .webhooks
            .iter()
            .position(|w| &w.id == id)
            .ok_or(StateError::WebhookNotFound)?;
        if self.subscriptions.iter().any(|s| &s.webhook_id == id) {
            return Err(StateError::StillAssigned);
        }
        self.webhooks.remove(index);
        Ok(())
    }

    /// Enables or disables a webhook (no public endpoint does this; for emulator-only routes).
    pub(crate) fn set_webhook_status(
        &mut self,
        id: &WebhookId,
        status: WebhookStatus,
    ) -> Result<(), StateError> {
        let w = self
            .webhooks
            .iter_mut()
            .find(|w| &w.id == id)
            .ok_or(StateError::WebhookNotFound)?;
        w.status = status;
        w.updated_at = now();
        Ok(())
    }

    // ----- subscriptions ----------------------------------------------------------------------

    /// The agent's subscriptions, across webhooks, in creation order (remembers the agent).
    pub(crate) fn agent_subscriptions(&mut self, agent: &AgentId) -> Vec<WebhookSubscription> {
        self.ensure_agent(agent);
        self.subscriptions
            .iter()
            .filter(|s| &s.agent_id == agent)
            .map(render_subscription)
            .collect()
    }

    /// Replaces ALL the agent's subscriptions (on every webhook) by `event_types` on `webhook`.
    pub(crate) fn replace_subscriptions(
        &mut self,
        agent: &AgentId,
        webhook: &WebhookId,
        event_types: Vec<EventType>,
    ) -> Result<(), StateError> {
        if self.webhook_record(webhook).is_none() {
            return Err(StateError::WebhookNotFound);
        }
        self.ensure_agent(agent);
        self.subscriptions.retain(|s| &s.agent_id != agent);
        let now = now();
        for event_type in event_types {
            self.subscribe(agent, webhook, event_type, &now);
        }
        Ok(())
    }

    /// Removes ALL the agent's subscriptions; returns how many there were.
    pub(crate) fn clear_subscriptions(&mut self, agent: &AgentId) -> usize {
        self.ensure_agent(agent);
        let before = self.subscriptions.len();
        self.subscriptions.retain(|s| &s.agent_id != agent);
        before - self.subscriptions.len()
    }

    /// Every webhook subscribed to `event_type` for `agent`, with what a delivery needs, in
    /// subscription order. Disabled webhooks are included with `enabled: false` so that the
    /// caller can log them as skipped.
    pub(crate) fn subscribers(
        &self,
        agent: &AgentId,
        event_type: &EventType,
    ) -> Vec<DeliveryTarget> {
        self.subscriptions
            .iter()
            .filter(|s| &s.agent_id == agent && &s.event_type == event_type)
            .filter_map(|s| {
                let w = self.webhook_record(&s.webhook_id)?;
                Some(DeliveryTarget {
                    webhook_id: w.id.clone(),
                    subscription_id: s.id.clone(),
                    url: w.url.clone(),
                    description: w.description.clone(),
                    secret: w.secret.clone(),
                    headers: w.headers.clone(),
                    enabled: w.status == WebhookStatus::Enabled,
                })
            })
            .collect()
    }

    // ----- helpers ----------------------------------------------------------------------------

    /// Adds one subscription unless the identical (agent, webhook, event type) exists.
    fn subscribe(
        &mut self,
        agent: &AgentId,
        webhook: &WebhookId,
        event_type: EventType,
        now: &Timestamp,
    ) {
        let exists = self.subscriptions.iter().any(|s| {
            &s.agent_id == agent && &s.webhook_id == webhook && s.event_type == event_type
        });
        if exists {
            return;
        }
        self.ensure_agent(agent);
        let id = SubscriptionId::new(self.ids.object_id());
        self.subscriptions.push(SubscriptionRecord {
            id,
            webhook_id: webhook.clone(),
            agent_id: agent.clone(),
            event_type,
            created_at: now.clone(),
            updated_at: now.clone(),
        });
    }

    fn url_taken(&self, url: &str, except: Option<&WebhookId>) -> bool {
        self.webhooks
            .iter()
            .any(|w| w.url == url && Some(&w.id) != except)
    }

    /// The webhook's JSON as the API returns it (secret included, agents populated, custom
    /// headers as an extra `headers` object when there are any).
    fn render(&self, w: &WebhookRecord) -> Webhook {
        let subscriptions = self
            .subscriptions
            .iter()
            .filter(|s| s.webhook_id == w.id)
            .map(|s| {
                let mut p = PopulatedSubscription::default();
                p.id = s.id.clone();
                p.webhook_id = Some(s.webhook_id.clone());
                match self.agent(&s.agent_id) {
                    Some(a) => {
                        let mut agent = WebhookAgent::default();
                        agent.id = a.id.clone();
                        agent.name = Some(a.name.clone());
                        agent.description = Some(a.description.clone());
                        p.agent = Some(AgentRef::Populated(agent));
                    }
                    // The real API populates a deleted agent as null.
                    None => {
                        p.extra.insert("agentId", Json::null());
                    }
                }
                p.event_type = Some(s.event_type.clone());
                p.created_at = Some(s.created_at.clone());
                p.updated_at = Some(s.updated_at.clone());
                p
            })
            .collect();
        let mut out = Webhook::default();
        out.id = w.id.clone();
        out.url = Some(w.url.clone());
        out.description = Some(w.description.clone());
        out.status = Some(w.status.clone());
        out.organization_id = Some(OrganizationId::new(ORGANIZATION_ID));
        out.created_by = Some(UserId::new(CREATED_BY));
        out.subscriptions = Some(subscriptions);
        out.decrypted_secret_key = Some(w.secret.clone());
        out.created_at = Some(w.created_at.clone());
        out.updated_at = Some(w.updated_at.clone());
        if !w.headers.is_empty() {
            // In the order they were set (a serde_json `Map` would sort them).
            let headers: Fields = w
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            out.extra.insert("headers", headers);
        }
        out
    }
}

/// The current time as the API writes it. Truncated to milliseconds first, so that a value
/// here equals the same value parsed back from JSON (`Timestamp` compares the instant too).
fn now() -> Timestamp {
    use chrono::SubsecRound;
    Timestamp::from_datetime(chrono::Utc::now().trunc_subsecs(3))
}

fn render_subscription(s: &SubscriptionRecord) -> WebhookSubscription {
    let mut out = WebhookSubscription::default();
    out.id = s.id.clone();
    out.webhook_id = Some(s.webhook_id.clone());
    out.agent_id = Some(s.agent_id.clone());
    out.event_type = Some(s.event_type.clone());
    out.created_at = Some(s.created_at.clone());
    out.updated_at = Some(s.updated_at.clone());
    out
}

/// Makes ObjectId-shaped ids (4 bytes of seconds, 5 random bytes fixed per emulator, a 3-byte
/// counter: unique within one emulator, like MongoDB's) and random signing secrets.
#[derive(Debug)]
struct IdGen {
    process: [u8; 5],
    counter: u32,
}

impl IdGen {
    fn new() -> Self {
        let mut rng = rand::rng();
        let mut process = [0u8; 5];
        rng.fill_bytes(&mut process);
        Self {
            process,
            counter: rng.next_u32() & 0x00ff_ffff,
        }
    }

    fn object_id(&mut self) -> String {
        let secs = u32::try_from(chrono::Utc::now().timestamp().max(0)).unwrap_or(u32::MAX);
        self.counter = (self.counter + 1) & 0x00ff_ffff;
        let mut bytes = [0u8; 12];
        bytes[..4].copy_from_slice(&secs.to_be_bytes());
        bytes[4..9].copy_from_slice(&self.process);
        bytes[9..].copy_from_slice(&self.counter.to_be_bytes()[1..]);
        to_hex(&bytes)
    }

    /// 32 random bytes as 64 lowercase hex characters.
    fn secret(&mut self) -> String {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        to_hex(&bytes)
    }
}

fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(n: u8) -> AgentId {
        AgentId::new(format!("60d0fe4f5311236168a109c{n}"))
    }

    fn hook(state: &mut State, url: &str, events: &[(AgentId, EventType)]) -> WebhookId {
        state
            .create_webhook(NewWebhook {
                url: url.to_owned(),
                description: "d".to_owned(),
                events: events.to_vec(),
            })
            .unwrap()
    }

    #[test]
    fn ids_are_object_ids_and_unique() {
        let mut g = IdGen::new();
        let a = g.object_id();
        let b = g.object_id();
        assert!(atoms_webhook_models::ids::is_object_id(&a), "{a}");
        assert_ne!(a, b);
        let s = g.secret();
        assert_eq!(s.len(), 64);
        assert!(s.bytes().all(|c| c.is_ascii_hexdigit()));
    }

    #[test]
    fn subscribers_follow_replace_and_status() {
        let mut s = State::new([]);
        let a = agent(1);
        let w1 = hook(
            &mut s,
            "https://a",
            &[(a.clone(), EventType::PreConversation)],
        );
        let w2 = hook(
            &mut s,
            "https://b",
            &[(a.clone(), EventType::PreConversation)],
        );
        let targets = s.subscribers(&a, &EventType::PreConversation);
        assert_eq!(
            targets.iter().map(|t| &t.webhook_id).collect::<Vec<_>>(),
            vec![&w1, &w2]
        );
        s.replace_subscriptions(&a, &w2, vec![EventType::PostConversation])
            .unwrap();
        assert!(s.subscribers(&a, &EventType::PreConversation).is_empty());
        s.set_webhook_status(&w2, WebhookStatus::Disabled).unwrap();
        let t = s.subscribers(&a, &EventType::PostConversation);
        assert_eq!(t.len(), 1);
        assert!(!t[0].enabled);
        assert_eq!(t[0].secret, s.webhook_record(&w2).unwrap().secret);
    }

    #[test]
    fn create_dedupes_pairs_and_names_agents() {
        let mut s = State::new([]);
        let a = agent(2);
        let pairs = [
            (a.clone(), EventType::PreConversation),
            (a.clone(), EventType::PreConversation),
        ];
        let w = hook(&mut s, "https://a", &pairs);
        let got = s.get_webhook(&w).unwrap();
        assert_eq!(got.subscription_list().len(), 1);
        assert_eq!(
            got.subscription_list()[0]
                .agent
                .as_ref()
                .and_then(AgentRef::name),
            Some("Agent a109c2")
        );
    }
}
