//! Open enums for every enumerated value the API sends. Each keeps values it does not know in
//! `Unknown(String)`, so a new value never fails a parse and is written back unchanged.

open_enum!(
    /// The kind of a webhook event (subscriptions and deliveries).
    EventType {
        /// Sent when a call connects, before the agent speaks.
        PreConversation = "pre-conversation",
        /// Sent after the call ends, with transcript and variables.
        PostConversation = "post-conversation",
        /// Sent once post-call analytics have run.
        AnalyticsCompleted = "analytics-completed",
    }
);

impl EventType {
    /// The three event types the platform documents, in delivery order.
    pub const ALL: [EventType; 3] = [
        EventType::PreConversation,
        EventType::PostConversation,
        EventType::AnalyticsCompleted,
    ];
}

open_enum!(
    /// Whether a webhook receives deliveries.
    WebhookStatus {
        /// Deliveries are sent.
        Enabled = "enabled",
        /// Deliveries are not sent.
        Disabled = "disabled",
    }
);

open_enum!(
    /// How a call ended. The OpenAPI spec and the Webhooks guide spell two values differently
    /// (`no_answer`/`no-answer`, `cancelled`/`canceled`): each meaning is one variant, so
    /// `matches!(s, CallStatus::NoAnswer)` holds for both spellings. [`CallStatus::as_str`] gives
    /// the spec's spelling; a [`crate::CallData`] writes back the spelling it received.
    ///
    /// ```
    /// use atoms_webhook_models::CallStatus;
    /// assert_eq!(CallStatus::parse("no-answer"), CallStatus::NoAnswer);
    /// assert_eq!(CallStatus::parse("canceled"), CallStatus::Cancelled);
    /// assert_eq!(CallStatus::NoAnswer.as_str(), "no_answer");
    /// ```
    CallStatus {
        /// The call completed.
        Completed = "completed",
        /// Nobody answered (`no_answer` in the spec, `no-answer` in the guide).
        NoAnswer = "no_answer" | "no-answer",
        /// The line was busy (guide only).
        Busy = "busy",
        /// The call failed.
        Failed = "failed",
        /// The call was cancelled (`cancelled` in the spec, `canceled` in the guide).
        Cancelled = "cancelled" | "canceled",
    }
);

open_enum!(
    /// The direction of a call, in `callData.callDirection`.
    CallDirection {
        /// The agent called out.
        TelephonyOutbound = "telephony_outbound",
        /// The agent was called.
        TelephonyInbound = "telephony_inbound",
    }
);

open_enum!(
    /// The channel of a conversation, in `metadata.conversationType`.
    ConversationType {
        /// An outbound phone call.
        TelephonyOutbound = "telephonyOutbound",
        /// An inbound phone call.
        TelephonyInbound = "telephonyInbound",
    }
);

open_enum!(
    /// Who spoke a transcript turn.
    Role {
        /// The voice agent.
        Agent = "agent",
        /// The person on the call.
        User = "user",
    }
);

open_enum!(
    /// The data type of an analytics metric's `value` (`dispositionMetricType`). The guide lists
    /// three of these, the spec five.
    MetricType {
        /// Free text.
        String = "STRING",
        /// True or false.
        Boolean = "BOOLEAN",
        /// A whole number.
        Integer = "INTEGER",
        /// One of a configured set of strings.
        Enum = "ENUM",
        /// A date and time, as a string.
        Datetime = "DATETIME",
    }
);
