//! Id newtypes. They are plain strings on the wire; the types keep one kind of id from being
//! passed where another is expected.

/// True when `s` is 24 hexadecimal characters (a MongoDB ObjectId), the form of webhook,
/// agent and subscription ids.
pub fn is_object_id(s: &str) -> bool {
    s.len() == 24 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

id_type!(
    /// A webhook's id (`_id` of a [`Webhook`](crate::Webhook)).
    WebhookId
);
id_type!(
    /// An agent's id.
    AgentId
);
id_type!(
    /// A subscription's id (`_id` of a [`WebhookSubscription`](crate::WebhookSubscription)).
    SubscriptionId
);
id_type!(
    /// The id of one delivery (the envelope's `id`). Unique per delivery: use it to
    /// de-duplicate, since the signature carries no timestamp or nonce.
    DeliveryId
);
id_type!(
    /// A call's id (`metadata.callId`), shared by the three events of one call.
    CallId
);
id_type!(
    /// An organization's id (`organizationId` of a webhook).
    OrganizationId
);
id_type!(
    /// A user's id (`createdBy` of a webhook).
    UserId
);
