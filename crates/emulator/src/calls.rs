//! The call logs: one per simulated call, with the same call id, agent, numbers, status,
//! duration, transcript, variables and analytics as its deliveries, served by
//! `GET /conversation` and `GET /conversation/{callId}` as JSON values (the shapes of the
//! OpenAPI description). Synchronous and free of HTTP, like the state.
//!
//! A log can stay non-final for a while: it shows `in_progress` (no analytics, no recording)
//! for its first `final_after` reads, or until [`CallLogs::finalize`]; becoming final updates
//! its `updatedAt`, which moves it to the top of the default order.

use std::collections::HashMap;

use atoms_webhook_models::testkit::SampleCall;
use atoms_webhook_models::{CallId, CallStatus};
use chrono::{DateTime, SubsecRound, Utc};
use serde_json::{json, Map, Value};

use crate::state::{AgentRecord, ORGANIZATION_ID};

/// The status a log shows before it is final.
pub(crate) const INTERIM_STATUS: &str = "in_progress";

/// The most logs kept (the oldest go first), like the delivery log.
pub(crate) const MAX_CALL_LOGS: usize = 10_000;

/// The statuses the logs document; the last four are final.
pub(crate) const STATUSES: [&str; 9] = [
    "pending",
    "in_progress",
    "in_queue",
    "processing",
    "active",
    "completed",
    "failed",
    "no_answer",
    "cancelled",
];

/// The call types the logs document.
pub(crate) const CALL_TYPES: [&str; 3] = ["telephony_inbound", "telephony_outbound", "webcall"];

#[derive(Clone, Debug)]
struct CallLog {
    id: String,
    call: SampleCall,
    agent: AgentRecord,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    /// Reads left that show the interim status; 0 once final.
    reads_before_final: u32,
    /// Insertion order, to break ties of `updatedAt` (later first).
    seq: u64,
}

impl CallLog {
    fn is_final(&self) -> bool {
        self.reads_before_final == 0
    }

    fn status(&self) -> String {
        if self.is_final() {
            log_status(&self.call.call_status)
        } else {
            INTERIM_STATUS.to_owned()
        }
    }

    /// Counts one read; the read that uses the last interim view makes the log final after it.
    fn read(&mut self, now: DateTime<Utc>) {
        if self.reads_before_final > 0 {
            self.reads_before_final -= 1;
            if self.reads_before_final == 0 {
                self.updated_at = now.max(self.updated_at);
            }
        }
    }
}

/// A delivery's call status as the logs spell it (the guide's `no-answer`, `canceled` and
/// `busy` have no log spelling: `no_answer`, `cancelled`, `failed`).
fn log_status(s: &CallStatus) -> String {
    match s.as_str() {
        "no-answer" => "no_answer".to_owned(),
        "canceled" => "cancelled".to_owned(),
        "busy" => "failed".to_owned(),
        other => other.to_owned(),
    }
}

fn api_time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// A query of `GET /conversation`, after validation.
#[derive(Clone, Debug, Default)]
pub(crate) struct LogQuery {
    /// From 1.
    pub(crate) page: usize,
    /// 1 to 500.
    pub(crate) limit: usize,
    pub(crate) agent_ids: Option<Vec<String>>,
    pub(crate) call_types: Option<Vec<String>>,
    pub(crate) statuses: Option<Vec<String>>,
    /// Text the call id, the calling or the called number contains.
    pub(crate) search: Option<String>,
    /// `updatedAt` (default), `createdAt` or `callDuration`.
    pub(crate) sort_by: SortBy,
    /// Descending unless `sortOrder=asc`.
    pub(crate) ascending: bool,
}

/// What `GET /conversation` sorts by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum SortBy {
    #[default]
    UpdatedAt,
    CreatedAt,
    CallDuration,
}

/// Every call log, in insertion order.
#[derive(Debug, Default)]
pub(crate) struct CallLogs {
    logs: Vec<CallLog>,
    by_call: HashMap<CallId, usize>,
    next_seq: u64,
}

impl CallLogs {
    /// Records the log of `call`, handled by `agent`, with this database id; it shows the
    /// interim status for its first `final_after` reads. A call id seen before replaces its
    /// log.
    pub(crate) fn record(
        &mut self,
        id: String,
        call: &SampleCall,
        agent: AgentRecord,
        final_after: u32,
    ) {
        let created_at = call.answered_at.unwrap_or(call.ended_at).trunc_subsecs(3);
        let log = CallLog {
            id,
            call: call.clone(),
            agent,
            created_at,
            updated_at: call.ended_at,
            reads_before_final: final_after,
            seq: self.next_seq,
        };
        self.next_seq += 1;
        if let Some(&i) = self.by_call.get(&call.call_id) {
            self.logs[i] = log;
            return;
        }
        if self.logs.len() >= MAX_CALL_LOGS {
            self.logs.remove(0);
            self.reindex();
        }
        self.by_call.insert(call.call_id.clone(), self.logs.len());
        self.logs.push(log);
    }

    fn reindex(&mut self) {
        self.by_call = self
            .logs
            .iter()
            .enumerate()
            .map(|(i, l)| (l.call.call_id.clone(), i))
            .collect();
    }

    /// Makes the log final now. False when no log has this call id.
    pub(crate) fn finalize(&mut self, call_id: &CallId, now: DateTime<Utc>) -> bool {
        match self.by_call.get(call_id) {
            Some(&i) => {
                let log = &mut self.logs[i];
                if !log.is_final() {
                    log.reads_before_final = 0;
                    log.updated_at = now.trunc_subsecs(3).max(log.updated_at);
                }
                true
            }
            None => false,
        }
    }

    /// The detail of one call (`GET /conversation/{callId}`), counted as a read.
    pub(crate) fn get(&mut self, call_id: &CallId, now: DateTime<Utc>) -> Option<Value> {
        let i = *self.by_call.get(call_id)?;
        let shown = detail(&self.logs[i]);
        self.logs[i].read(now.trunc_subsecs(3));
        Some(shown)
    }

    /// The detail of one call, not counted as a read.
    pub(crate) fn peek(&self, call_id: &CallId) -> Option<Value> {
        self.by_call.get(call_id).map(|&i| detail(&self.logs[i]))
    }

    /// One page (`GET /conversation`): `{"logs": [...], "pagination": {...}}`. Every log on
    /// the page is counted as read.
    pub(crate) fn page(&mut self, q: &LogQuery, now: DateTime<Utc>) -> Value {
        let matches = |l: &CallLog| {
            q.agent_ids
                .as_ref()
                .is_none_or(|ids| ids.iter().any(|a| a == l.call.agent_id.as_str()))
                && q.call_types
                    .as_ref()
                    .is_none_or(|t| t.iter().any(|t| t == l.call.direction.as_str()))
                && q.statuses
                    .as_ref()
                    .is_none_or(|s| s.iter().any(|s| *s == l.status()))
                && q.search.as_deref().is_none_or(|text| {
                    l.call.call_id.as_str().contains(text)
                        || l.call.from_number.contains(text)
                        || l.call.to_number.contains(text)
                })
        };
        let mut hits: Vec<usize> = (0..self.logs.len())
            .filter(|&i| matches(&self.logs[i]))
            .collect();
        hits.sort_by(|&a, &b| {
            let (a, b) = (&self.logs[a], &self.logs[b]);
            let key = match q.sort_by {
                SortBy::UpdatedAt => a.updated_at.cmp(&b.updated_at),
                SortBy::CreatedAt => a.created_at.cmp(&b.created_at),
                SortBy::CallDuration => a.call.duration_secs.total_cmp(&b.call.duration_secs),
            }
            .then(a.seq.cmp(&b.seq));
            if q.ascending {
                key
            } else {
                key.reverse()
            }
        });
        let total = hits.len();
        let limit = q.limit.max(1);
        let total_pages = total.div_ceil(limit);
        let start = q.page.saturating_sub(1).saturating_mul(limit);
        let on_page: Vec<usize> = hits.into_iter().skip(start).take(limit).collect();
        let logs: Vec<Value> = on_page.iter().map(|&i| summary(&self.logs[i])).collect();
        let now = now.trunc_subsecs(3);
        for &i in &on_page {
            self.logs[i].read(now);
        }
        json!({
            "logs": logs,
            "pagination": {
                "total": total,
                "page": q.page,
                "limit": limit,
                "hasMore": start.saturating_add(limit) < total,
                "totalPages": total_pages,
            }
        })
    }
}

/// `postCallAnalytics` as the logs show it: metric values as strings.
fn analytics(call: &SampleCall) -> Value {
    let metrics: Vec<Value> = call
        .disposition_metrics
        .iter()
        .map(|m| {
            let value = match &m.value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            json!({"identifier": m.identifier, "value": value, "confidence": m.confidence})
        })
        .collect();
    json!({"summary": call.summary, "dispositionMetrics": metrics})
}

/// The fields the list and the detail share.
fn common(l: &CallLog) -> Map<String, Value> {
    let c = &l.call;
    let is_final = l.is_final();
    let mut m = Map::new();
    m.insert("_id".into(), Value::from(l.id.as_str()));
    m.insert("callId".into(), Value::from(c.call_id.as_str()));
    m.insert("status".into(), Value::from(l.status()));
    m.insert(
        "duration".into(),
        if is_final {
            json!(c.duration_secs)
        } else {
            json!(0)
        },
    );
    m.insert("from".into(), Value::from(c.from_number.as_str()));
    m.insert("to".into(), Value::from(c.to_number.as_str()));
    m.insert("type".into(), Value::from(c.direction.as_str()));
    if let (true, Some(url)) = (is_final, &c.recording_url) {
        m.insert("recordingUrl".into(), Value::from(url.as_str()));
    }
    if is_final && c.call_status != CallStatus::Completed {
        m.insert(
            "callFailureReason".into(),
            Value::from(log_status(&c.call_status)),
        );
    }
    m.insert("retryCallId".into(), Value::Null);
    m.insert("createdAt".into(), Value::from(api_time(l.created_at)));
    m.insert("updatedAt".into(), Value::from(api_time(l.updated_at)));
    m.insert(
        "postCallAnalytics".into(),
        if is_final { analytics(c) } else { Value::Null },
    );
    m
}

/// One entry of `data.logs[]`.
fn summary(l: &CallLog) -> Value {
    let mut m = common(l);
    m.insert("agentId".into(), Value::from(l.call.agent_id.as_str()));
    m.insert("retryCount".into(), json!(0));
    m.insert("isTest".into(), json!(false));
    Value::Object(m)
}

/// The `data` of `GET /conversation/{callId}`.
fn detail(l: &CallLog) -> Value {
    let mut m = common(l);
    m.insert(
        "agent".into(),
        json!({
            "_id": l.agent.id.as_str(),
            "name": l.agent.name,
            "description": l.agent.description,
            "organization": ORGANIZATION_ID,
        }),
    );
    let transcript: Vec<Value> = l
        .call
        .transcript
        .iter()
        .map(|t| json!({"role": t.role, "content": t.content, "timestamp": t.timestamp}))
        .collect();
    m.insert("transcript".into(), Value::Array(transcript));
    let variables: Map<String, Value> = l.call.variables.iter().cloned().collect();
    m.insert("variables".into(), Value::Object(variables));
    m.insert("events".into(), json!([]));
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use atoms_webhook_models::testkit::CallOptions;
    use atoms_webhook_models::AgentId;
    use chrono::TimeDelta;

    fn agent() -> AgentRecord {
        AgentRecord {
            id: AgentId::new(atoms_webhook_models::testkit::DEFAULT_AGENT_ID),
            name: "Support".into(),
            description: "d".into(),
        }
    }

    fn t0() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-07-28T15:46:12.472Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn call(n: i64) -> SampleCall {
        SampleCall::generate(
            &CallOptions::new()
                .seed(n as u64)
                .ended_at(t0() + TimeDelta::seconds(n)),
        )
    }

    fn query(page: usize, limit: usize) -> LogQuery {
        LogQuery {
            page,
            limit,
            ..LogQuery::default()
        }
    }

    fn ids(page: &Value) -> Vec<String> {
        page["logs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["callId"].as_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn pages_newest_update_first() {
        let mut logs = CallLogs::default();
        let calls: Vec<SampleCall> = (0..7).map(call).collect();
        for (i, c) in calls.iter().enumerate() {
            logs.record(format!("{i:024x}"), c, agent(), 0);
        }
        let first = logs.page(&query(1, 3), t0());
        let want: Vec<String> = calls
            .iter()
            .rev()
            .take(3)
            .map(|c| c.call_id.to_string())
            .collect();
        assert_eq!(ids(&first), want);
        assert_eq!(
            first["pagination"],
            json!({"total": 7, "page": 1, "limit": 3, "hasMore": true, "totalPages": 3})
        );
        let last = logs.page(&query(3, 3), t0());
        assert_eq!(ids(&last), vec![calls[0].call_id.to_string()]);
        assert_eq!(last["pagination"]["hasMore"], false);
        assert!(ids(&logs.page(&query(4, 3), t0())).is_empty());
    }

    #[test]
    fn interim_until_reads_or_finalize_then_moves_to_the_top() {
        let mut logs = CallLogs::default();
        let (a, b) = (call(1), call(2));
        logs.record("a".repeat(24), &a, agent(), 2);
        logs.record("b".repeat(24), &b, agent(), 0);
        let later = t0() + TimeDelta::minutes(5);
        assert_eq!(
            logs.get(&a.call_id, later).unwrap()["status"],
            INTERIM_STATUS
        );
        let page = logs.page(&query(1, 5), later);
        assert_eq!(ids(&page), [b.call_id.to_string(), a.call_id.to_string()]);
        assert_eq!(page["logs"][1]["status"], INTERIM_STATUS);
        assert_eq!(page["logs"][1]["postCallAnalytics"], Value::Null);
        // Two reads used up: final, and updated after b.
        let page = logs.page(&query(1, 5), later);
        assert_eq!(ids(&page), [a.call_id.to_string(), b.call_id.to_string()]);
        assert_eq!(page["logs"][0]["status"], "completed");

        let c = call(3);
        logs.record("c".repeat(24), &c, agent(), u32::MAX);
        assert_eq!(logs.peek(&c.call_id).unwrap()["status"], INTERIM_STATUS);
        assert!(logs.finalize(&c.call_id, later));
        assert_eq!(logs.peek(&c.call_id).unwrap()["status"], "completed");
        assert!(!logs.finalize(&CallId::new("CALL-0-000000"), later));
    }

    #[test]
    fn filters() {
        let mut logs = CallLogs::default();
        let inbound = SampleCall::generate(
            &CallOptions::new()
                .direction("telephony_inbound")
                .agent_id("60d0fe4f5311236168a109cb")
                .call_status("no-answer"),
        );
        let outbound = call(1);
        logs.record("1".repeat(24), &inbound, agent(), 0);
        logs.record("2".repeat(24), &outbound, agent(), 0);
        let q = |f: &dyn Fn(&mut LogQuery)| {
            let mut q = query(1, 5);
            f(&mut q);
            q
        };
        let only_in = q(&|q| q.call_types = Some(vec!["telephony_inbound".into()]));
        assert_eq!(
            ids(&logs.page(&only_in, t0())),
            [inbound.call_id.to_string()]
        );
        let by_agent = q(&|q| q.agent_ids = Some(vec!["60d0fe4f5311236168a109cb".into()]));
        assert_eq!(
            ids(&logs.page(&by_agent, t0())),
            [inbound.call_id.to_string()]
        );
        let by_number = q(&|q| q.search = Some(outbound.to_number[3..].to_owned()));
        let found = ids(&logs.page(&by_number, t0()));
        assert!(found.contains(&outbound.call_id.to_string()), "{found:?}");
        let by_id = q(&|q| q.search = Some(inbound.call_id.as_str()[5..].to_owned()));
        assert_eq!(ids(&logs.page(&by_id, t0())), [inbound.call_id.to_string()]);
        let no_answer = q(&|q| q.statuses = Some(vec!["no_answer".into(), "failed".into()]));
        let page = logs.page(&no_answer, t0());
        assert_eq!(ids(&page), [inbound.call_id.to_string()]);
        assert_eq!(page["logs"][0]["callFailureReason"], "no_answer");
        assert_eq!(page["logs"][0]["type"], "telephony_inbound");
    }

    #[test]
    fn detail_matches_the_deliveries() {
        let mut logs = CallLogs::default();
        let c = call(5);
        logs.record("5".repeat(24), &c, agent(), 0);
        let d = logs.get(&c.call_id, t0()).unwrap();
        assert_eq!(d["callId"], c.call_id.as_str());
        assert_eq!(d["agent"]["_id"], c.agent_id.as_str());
        assert_eq!(d["from"], c.from_number.as_str());
        assert_eq!(d["to"], c.to_number.as_str());
        assert_eq!(d["duration"], json!(c.duration_secs));
        assert_eq!(
            d["transcript"].as_array().unwrap().len(),
            c.transcript.len()
        );
        assert_eq!(
            d["transcript"][0]["content"],
            c.transcript[0].content.as_str()
        );
        assert_eq!(d["variables"]["call_id"], c.call_id.as_str());
        assert_eq!(d["postCallAnalytics"]["summary"], c.summary.as_str());
        assert_eq!(
            d["postCallAnalytics"]["dispositionMetrics"][0]["value"],
            c.disposition_metrics[0].value.to_string()
        );
        assert_eq!(d["recordingUrl"], c.recording_url.as_deref().unwrap());
        assert!(logs.get(&CallId::new("CALL-1-abcdef"), t0()).is_none());
    }
}
