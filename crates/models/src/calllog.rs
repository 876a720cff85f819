//! Call logs (`GET /conversation`, `GET /conversation/{callId}`): the record of every call,
//! which a receiver reads to backfill or reconcile deliveries it missed (Atoms never retries).

use crate::{AgentId, Analytics, CallDirection, CallId, CallStatus, Json, Number, Timestamp};
use crate::{Fields, TranscriptTurn, Variables};

wire_struct!(
    /// One call log: an item of `GET /conversation` or the `data` of `GET /conversation/{callId}`
    /// (which adds `agent`, `transcript`, `variables` and more). Every field is optional, and
    /// fields this version does not know are kept in `extra`.
    ///
    /// ```
    /// use atoms_webhook_models::{CallLog, CallStatus};
    /// let log: CallLog = serde_json::from_str(r#"{"callId":"CALL-1737000000000-abc123",
    ///   "status":"in_progress","duration":12.5,"agentId":"60d0fe4f5311236168a109ca"}"#).unwrap();
    /// assert_eq!(log.call_id.as_ref().unwrap().as_str(), "CALL-1737000000000-abc123");
    /// assert!(!log.is_final());
    /// assert_eq!(log.status, Some(CallStatus::InProgress));
    /// assert_eq!(log.resolved_agent_id().unwrap().as_str(), "60d0fe4f5311236168a109ca");
    /// ```
    pub struct CallLog {
        /// The log's own id (`_id`, a MongoDB ObjectId; not the call id).
        opt "_id" log_id: String,
        /// The call's id (`CALL-{epoch ms}-{6 hex}`), the one the deliveries carry.
        opt "callId" call_id: CallId,
        /// Where the call is: only `completed`, `failed`, `no_answer` and `cancelled` are final
        /// (see [`CallLog::is_final`]).
        alias "status" status: CallStatus,
        /// Length in seconds, as sent.
        opt "duration" duration: Number,
        /// The calling number.
        opt pii "from" from: String,
        /// The called number.
        opt pii "to" to: String,
        /// `telephony_inbound`, `telephony_outbound` or `webcall`.
        opt "type" call_type: CallDirection,
        /// The agent's id (list items).
        opt "agentId" agent_id: AgentId,
        /// The agent, populated (single call). Kept as sent; see [`CallLog::resolved_agent_id`].
        opt pii "agent" agent: Json,
        /// The recording.
        opt pii "recordingUrl" recording_url: String,
        /// The two-channel recording.
        opt pii "recordingDualUrl" recording_dual_url: String,
        /// Why the call ended (`user_hangup`, ...).
        opt "disconnectionReason" disconnection_reason: String,
        /// Why the call failed, for a failed call.
        opt "callFailureReason" call_failure_reason: String,
        /// How often the call was retried.
        opt "retryCount" retry_count: Number,
        /// The call id of the automatic retry this call led to.
        opt "retryCallId" retry_call_id: CallId,
        /// Which attempt this call is.
        opt "retryAttemptNumber" retry_attempt_number: Number,
        /// When the call was created.
        opt "createdAt" created_at: Timestamp,
        /// When the log was last updated (the default sort of `GET /conversation`).
        opt "updatedAt" updated_at: Timestamp,
        /// Disposition values by identifier, as strings (list items).
        opt pii "dispositionMetrics" disposition_metrics: Fields,
        /// The agent's disposition configuration.
        opt "agentDispositionConfig" agent_disposition_config: Vec<Json>,
        /// Post-call analytics: summary and disposition metrics with confidences.
        opt "postCallAnalytics" post_call_analytics: Analytics,
        /// The transcript (single call).
        opt "transcript" transcript: Vec<TranscriptTurn>,
        /// The variables in scope (single call).
        opt "variables" variables: Variables,
        /// The call's event timeline (single call), kept as sent.
        opt pii "events" events: Vec<Json>,
        /// What the call cost.
        opt "callCost" call_cost: Number,
        /// The agent version that took the call.
        opt "versionId" version_id: String,
        /// The agent version's number.
        opt "versionNumber" version_number: Number,
        /// True for a test call.
        opt "isTest" is_test: bool,
        /// Per-turn latency figures, kept as sent.
        opt "turnLatencyMetrics" turn_latency_metrics: Json,
        /// The voice configuration used, kept as sent.
        opt "voiceConfigUsed" voice_config_used: Json,
        /// The language model used.
        opt "slmModelUsed" slm_model_used: String,
    }
);

impl CallLog {
    /// True when the call has ended for good (`completed`, `failed`, `no_answer`,
    /// `cancelled`): only then may a reconciler conclude that a delivery is missing.
    pub fn is_final(&self) -> bool {
        self.status.as_ref().is_some_and(CallStatus::is_final)
    }

    /// The agent's id: `agentId`, or the populated `agent`'s `_id`.
    pub fn resolved_agent_id(&self) -> Option<AgentId> {
        if let Some(id) = &self.agent_id {
            return Some(id.clone());
        }
        let agent = self.agent.as_ref()?.parse::<Fields>().ok()?;
        agent.get("_id")?.as_str().map(AgentId::from)
    }

    /// The transcript (empty when absent).
    pub fn transcript_list(&self) -> &[TranscriptTurn] {
        self.transcript.as_deref().unwrap_or(&[])
    }
}

wire_struct!(
    /// The pagination of a page of call logs.
    pub struct Pagination {
        /// How many logs match in all.
        opt "total" total: u64,
        /// This page's number, from 1.
        opt "page" page: u64,
        /// The page size.
        opt "limit" limit: u64,
        /// True when a later page exists.
        opt "hasMore" has_more: bool,
        /// How many pages there are.
        opt "totalPages" total_pages: u64,
    }
);

wire_struct!(
    /// The `data` of `GET /conversation`: a page of call logs (default sort: last updated
    /// first) and its pagination.
    ///
    /// ```
    /// use atoms_webhook_models::CallLogPage;
    /// let page: CallLogPage = serde_json::from_str(r#"{"logs":[{"callId":"CALL-1"}],
    ///   "pagination":{"page":1,"limit":5,"hasMore":true,"totalPages":3,"total":11}}"#).unwrap();
    /// assert_eq!(page.log_list().len(), 1);
    /// assert!(page.has_more());
    /// ```
    pub struct CallLogPage {
        /// The logs of this page.
        opt "logs" logs: Vec<CallLog>,
        /// Where this page is.
        opt "pagination" pagination: Pagination,
    }
);

impl CallLogPage {
    /// The logs (empty when absent).
    pub fn log_list(&self) -> &[CallLog] {
        self.logs.as_deref().unwrap_or(&[])
    }

    /// True when the server says a later page exists.
    pub fn has_more(&self) -> bool {
        self.pagination
            .as_ref()
            .and_then(|p| p.has_more)
            .unwrap_or(false)
    }
}
