//! The shared durable inbox on PostgreSQL (feature `postgres`): several ingest processes and
//! several worker processes on one database.
//!
//! - **Durability**: an ingest is answered once its transaction has committed.
//! - **Group commit**: one writer task per [`PgStore`] takes every ingest waiting (up to a batch
//!   limit) and writes them with a single multi-row `INSERT ... ON CONFLICT (id) DO NOTHING
//!   RETURNING id` in one transaction; the ids not returned are duplicates.
//! - **Claims** use `FOR UPDATE SKIP LOCKED`, so workers in different processes never wait on
//!   each other's rows, and per-call order is checked in the same statement.
//! - **Migrations** are owned by the crate (`schema_version` table) and serialized across
//!   processes with an advisory lock.
//!
//! Connections are plain TCP without TLS (`NoTls`): use it on a private network or a local
//! socket.

use std::collections::{BTreeMap, HashSet};
use std::time::SystemTime;

use tokio::sync::{mpsc, oneshot};
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Config, NoTls, Row};

use crate::clock::{from_millis, to_millis, BoxFuture};
use crate::core::Rejection;
use crate::store::{
    event_rank, Claimed, Inserted, Lease, LedgerCall, NewDelivery, Stats, Status, Store,
    StoreError, StoredDelivery, DUPLICATES, REJECTED_PREFIX, SUPERSEDED, SUPERSEDED_NOTE,
    UNPARSEABLE,
};

/// The most ingests written by one statement (13 parameters each; PostgreSQL allows 65535).
const MAX_BATCH: usize = 1024;

/// Serializes migrations across processes (an arbitrary constant: "atoms" in ASCII).
const MIGRATION_LOCK: i64 = 0x61_74_6f_6d_73;

const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE deliveries (
    seq          BIGSERIAL PRIMARY KEY,
    id           TEXT    NOT NULL UNIQUE,
    call_id      TEXT,
    event_type   TEXT    NOT NULL,
    rank         INTEGER NOT NULL,
    body         BYTEA   NOT NULL,
    content_type TEXT,
    signature    TEXT,
    user_agent   TEXT,
    received_at  BIGINT  NOT NULL,
    status       TEXT    NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    claims       BIGINT  NOT NULL DEFAULT 0,
    available_at BIGINT  NOT NULL,
    lease_until  BIGINT,
    processed_at BIGINT,
    last_error   TEXT
);
CREATE INDEX deliveries_claim ON deliveries (status, available_at);
CREATE INDEX deliveries_call ON deliveries (call_id, rank);
CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
"#,
    LEDGER_MIGRATION,
];

/// Version 2: the call ledger (per call id, which event types arrived, really or recovered)
/// and the reconciler's per-call state. Calls already in the inbox are entered as closed:
/// reconciliation starts from the migration, it does not re-examine history.
const LEDGER_MIGRATION: &str = r#"
CREATE TABLE call_ledger (
    call_id     TEXT   NOT NULL,
    event_type  TEXT   NOT NULL,
    source      TEXT   NOT NULL,
    delivery_id TEXT   NOT NULL,
    at          BIGINT NOT NULL,
    PRIMARY KEY (call_id, event_type)
);
CREATE TABLE ledger_calls (
    call_id       TEXT PRIMARY KEY,
    agent_id      TEXT,
    first_seen_at BIGINT NOT NULL,
    final_seen_at BIGINT,
    swept_at      BIGINT,
    closed_at     BIGINT
);
CREATE INDEX ledger_calls_open ON ledger_calls (first_seen_at) WHERE closed_at IS NULL;
INSERT INTO call_ledger (call_id, event_type, source, delivery_id, at)
    SELECT call_id, event_type, 'delivery', MIN(id), MIN(received_at) FROM deliveries
    WHERE call_id IS NOT NULL AND event_type <> '' GROUP BY call_id, event_type;
INSERT INTO ledger_calls (call_id, first_seen_at, closed_at)
    SELECT call_id, MIN(received_at), MIN(received_at) FROM deliveries
    WHERE call_id IS NOT NULL GROUP BY call_id;
"#;

const COLUMNS: &str = "id, call_id, event_type, status, attempts, received_at, available_at, \
     lease_until, processed_at, last_error, body, content_type, signature, user_agent, claims";

enum Job {
    Ingest(NewDelivery, oneshot::Sender<Result<Inserted, StoreError>>),
    Count(String, oneshot::Sender<Result<(), StoreError>>),
}

/// The shared inbox on PostgreSQL: several ingest and worker processes on one database.
/// Needs a tokio runtime (its connections run as tasks).
///
/// - **Durability**: an ingest is answered once its transaction has committed.
/// - **Group commit**: one writer task per store takes every ingest waiting (up to 1024) and
///   writes them with one multi-row `INSERT ... ON CONFLICT (id) DO NOTHING RETURNING id` in
///   one transaction; the ids not returned are duplicates.
/// - **Claims** use `FOR UPDATE SKIP LOCKED`: workers in different processes never wait on
///   each other's rows; per-call order is checked in the same statement.
/// - **Migrations** are owned by the crate (`schema_version` table), serialized across
///   processes by an advisory lock.
/// - Connections are plain TCP (`NoTls`): use it on a private network or loopback.
///
/// ```no_run
/// # async fn demo() -> Result<(), atoms_webhook_receiver::StoreError> {
/// use atoms_webhook_receiver::PgStore;
/// let store = PgStore::connect("postgres://inbox@127.0.0.1/inbox").await?;
/// # Ok(()) }
/// ```
pub struct PgStore {
    jobs: mpsc::UnboundedSender<Job>,
    client: Client,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore").finish_non_exhaustive()
    }
}

fn db(e: tokio_postgres::Error) -> StoreError {
    // A lost connection is not re-established: `Closed` tells a worker loop to stop (and the
    // program to restart) instead of retrying forever.
    if e.is_closed() {
        StoreError::Closed
    } else {
        StoreError::database(e)
    }
}

async fn open_client(config: &Config) -> Result<Client, StoreError> {
    let (client, connection) = config.connect(NoTls).await.map_err(db)?;
    tokio::spawn(async move {
        // The connection ends with the client; its error reaches the client's next call.
        let _ = connection.await;
    });
    Ok(client)
}

impl PgStore {
    /// The newest schema version this crate knows.
    pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

    /// Connects to the database at `url` (`postgres://user@host:port/db` or `key=value`
    /// form), applies the migrations in the default schema, and starts the writer task.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let config: Config = url.parse().map_err(db)?;
        Self::connect_config(config, None).await
    }

    /// Like [`PgStore::connect`], with the inbox's tables in `schema` (created if missing; a
    /// name of ASCII letters, digits and `_`). Several inboxes can share one database.
    pub async fn connect_in_schema(url: &str, schema: &str) -> Result<Self, StoreError> {
        let config: Config = url.parse().map_err(db)?;
        Self::connect_config(config, Some(schema)).await
    }

    /// Connects with a prepared `tokio_postgres::Config`.
    pub async fn connect_config(
        mut config: Config,
        schema: Option<&str>,
    ) -> Result<Self, StoreError> {
        if let Some(schema) = schema {
            let valid = !schema.is_empty()
                && schema.len() <= 63
                && schema
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_')
                && !schema.as_bytes()[0].is_ascii_digit();
            if !valid {
                return Err(StoreError::Corrupt("invalid schema name"));
            }
            config.options(format!("-c search_path={schema}"));
        }
        let mut writer = open_client(&config).await?;
        if let Some(schema) = schema {
            writer
                .batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
                .await
                .map_err(db)?;
        }
        migrate(&mut writer).await?;
        let client = open_client(&config).await?;
        let (jobs, queue) = mpsc::unbounded_channel();
        tokio::spawn(write_loop(writer, queue));
        Ok(Self { jobs, client })
    }
}

async fn migrate(client: &mut Client) -> Result<(), StoreError> {
    let tx = client.transaction().await.map_err(db)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(db)?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)")
        .await
        .map_err(db)?;
    let found: i64 = tx
        .query_one(
            "SELECT COALESCE(MAX(version), 0)::BIGINT FROM schema_version",
            &[],
        )
        .await
        .map_err(db)?
        .get(0);
    let known = PgStore::SCHEMA_VERSION;
    if found > known {
        return Err(StoreError::SchemaTooNew { found, known });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        tx.batch_execute(sql).await.map_err(db)?;
        tx.execute(
            "INSERT INTO schema_version (version) VALUES ($1)",
            &[&(i as i64 + 1)],
        )
        .await
        .map_err(db)?;
    }
    tx.commit().await.map_err(db)
}

async fn write_loop(mut client: Client, mut queue: mpsc::UnboundedReceiver<Job>) {
    while let Some(first) = queue.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        match write_batch(&mut client, &batch).await {
            Ok(fresh) => {
                let mut fresh = fresh.into_iter();
                for job in batch {
                    match job {
                        Job::Ingest(_, tx) => {
                            let new = fresh.next().unwrap_or(false);
                            let _ = tx.send(Ok(if new {
                                Inserted::New
                            } else {
                                Inserted::Duplicate
                            }));
                        }
                        Job::Count(_, tx) => {
                            let _ = tx.send(Ok(()));
                        }
                    }
                }
            }
            Err(e) => {
                for job in batch {
                    match job {
                        Job::Ingest(_, tx) => {
                            let _ = tx.send(Err(e.clone()));
                        }
                        Job::Count(_, tx) => {
                            let _ = tx.send(Err(e.clone()));
                        }
                    }
                }
            }
        }
    }
}

/// Writes one batch in one transaction; for each ingest (in order), whether it was new.
async fn write_batch(client: &mut Client, batch: &[Job]) -> Result<Vec<bool>, StoreError> {
    struct Values<'a> {
        d: &'a NewDelivery,
        rank: i32,
        received: i64,
        status: &'static str,
        processed: Option<i64>,
    }
    let rows: Vec<Values<'_>> = batch
        .iter()
        .filter_map(|j| match j {
            Job::Ingest(d, _) => Some(d),
            Job::Count(..) => None,
        })
        .map(|d| {
            let received = to_millis(d.received_at);
            let dead = d.parse_error.is_some();
            Values {
                d,
                rank: event_rank(&d.event_type),
                received,
                status: if dead { "dead" } else { "pending" },
                processed: dead.then_some(received),
            }
        })
        .collect();
    let mut counts: BTreeMap<String, i64> = BTreeMap::new();
    for job in batch {
        if let Job::Count(name, _) = job {
            *counts.entry(name.clone()).or_default() += 1;
        }
    }

    let tx = client.transaction().await.map_err(db)?;
    let mut fresh = Vec::with_capacity(rows.len());
    if !rows.is_empty() {
        let mut sql = String::from(
            "INSERT INTO deliveries (id, call_id, event_type, rank, body, content_type, \
             signature, user_agent, received_at, status, available_at, processed_at, \
             last_error) VALUES ",
        );
        let mut params: Vec<&(dyn ToSql + Sync)> = Vec::with_capacity(rows.len() * 12);
        for (i, r) in rows.iter().enumerate() {
            let p = i * 12;
            if i > 0 {
                sql.push(',');
            }
            sql.push_str(&format!(
                "(${},${},${},${},${},${},${},${},${},${},${},${},${})",
                p + 1,
                p + 2,
                p + 3,
                p + 4,
                p + 5,
                p + 6,
                p + 7,
                p + 8,
                p + 9,
                p + 10,
                p + 9,
                p + 11,
                p + 12
            ));
            params.extend_from_slice(&[
                &r.d.id,
                &r.d.call_id,
                &r.d.event_type,
                &r.rank,
                &r.d.body,
                &r.d.content_type,
                &r.d.signature,
                &r.d.user_agent,
                &r.received,
                &r.status,
                &r.processed,
                &r.d.parse_error,
            ]);
        }
        sql.push_str(" ON CONFLICT (id) DO NOTHING RETURNING id");
        let mut inserted: HashSet<String> = tx
            .query(&sql, &params)
            .await
            .map_err(db)?
            .iter()
            .map(|row| row.get(0))
            .collect();
        for r in &rows {
            // The first of several rows with one id in a batch is the one stored.
            let new = inserted.remove(&r.d.id);
            if !new {
                *counts.entry(DUPLICATES.to_owned()).or_default() += 1;
            } else if r.d.parse_error.is_some() {
                *counts.entry(UNPARSEABLE.to_owned()).or_default() += 1;
            }
            fresh.push(new);
        }
        // The call ledger: per call, which event types arrived. A real delivery whose
        // recovered twin was enqueued first is stored as done, not processed. The ledger's
        // primary key serializes this against a concurrent `enqueue_recovered`.
        let (mut calls, mut types, mut ids, mut ats) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (r, new) in rows.iter().zip(&fresh) {
            if let (true, None, Some(call_id)) = (*new, &r.d.parse_error, &r.d.call_id) {
                if !r.d.event_type.is_empty() {
                    calls.push(call_id.clone());
                    types.push(r.d.event_type.clone());
                    ids.push(r.d.id.clone());
                    ats.push(r.received);
                }
            }
        }
        if !calls.is_empty() {
            tx.execute(
                "INSERT INTO call_ledger (call_id, event_type, source, delivery_id, at)
                 SELECT c, t, 'delivery', i, a
                 FROM unnest($1::TEXT[], $2::TEXT[], $3::TEXT[], $4::BIGINT[]) AS u(c, t, i, a)
                 ON CONFLICT DO NOTHING",
                &[&calls, &types, &ids, &ats],
            )
            .await
            .map_err(db)?;
            let superseded = tx
                .execute(
                    "UPDATE deliveries d
                     SET status = 'done', processed_at = d.received_at, last_error = $2
                     FROM call_ledger l
                     WHERE d.id = ANY($1) AND l.call_id = d.call_id
                       AND l.event_type = d.event_type AND l.source = 'recovered'",
                    &[&ids, &SUPERSEDED_NOTE],
                )
                .await
                .map_err(db)?;
            if superseded > 0 {
                *counts.entry(SUPERSEDED.to_owned()).or_default() += superseded as i64;
            }
            tx.execute(
                "INSERT INTO ledger_calls (call_id, first_seen_at)
                 SELECT c, MIN(a) FROM unnest($1::TEXT[], $2::BIGINT[]) AS u(c, a) GROUP BY c
                 ON CONFLICT DO NOTHING",
                &[&calls, &ats],
            )
            .await
            .map_err(db)?;
        }
    }
    for (name, n) in &counts {
        tx.execute(
            "INSERT INTO counters (name, value) VALUES ($1, $2)
             ON CONFLICT (name) DO UPDATE SET value = counters.value + EXCLUDED.value",
            &[name, n],
        )
        .await
        .map_err(db)?;
    }
    tx.commit().await.map_err(db)?;
    Ok(fresh)
}

fn read_row(row: &Row) -> Result<(StoredDelivery, i64), StoreError> {
    let status: String = row.try_get(3).map_err(db)?;
    let status = Status::parse(&status).ok_or(StoreError::Corrupt("unknown status"))?;
    let attempts: i32 = row.try_get(4).map_err(db)?;
    let time = |i: usize| row.try_get::<_, i64>(i).map(from_millis).map_err(db);
    let opt_time = |i: usize| {
        row.try_get::<_, Option<i64>>(i)
            .map(|t| t.map(from_millis))
            .map_err(db)
    };
    Ok((
        StoredDelivery {
            id: row.try_get(0).map_err(db)?,
            call_id: row.try_get(1).map_err(db)?,
            event_type: row.try_get(2).map_err(db)?,
            status,
            attempts: u32::try_from(attempts).unwrap_or(0),
            received_at: time(5)?,
            available_at: time(6)?,
            lease_until: opt_time(7)?,
            processed_at: opt_time(8)?,
            last_error: row.try_get(9).map_err(db)?,
            body: row.try_get(10).map_err(db)?,
            content_type: row.try_get(11).map_err(db)?,
            signature: row.try_get(12).map_err(db)?,
            user_agent: row.try_get(13).map_err(db)?,
        },
        row.try_get(14).map_err(db)?,
    ))
}

impl PgStore {
    fn send<T: Send + 'static>(
        &self,
        job: Job,
        rx: oneshot::Receiver<Result<T, StoreError>>,
    ) -> BoxFuture<'static, Result<T, StoreError>> {
        let sent = self.jobs.send(job).map_err(|_| StoreError::Closed);
        Box::pin(async move {
            sent?;
            rx.await.map_err(|_| StoreError::Closed)?
        })
    }

    async fn update(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64, StoreError> {
        self.client.execute(sql, params).await.map_err(db)
    }
}

impl Store for PgStore {
    fn ingest(&self, delivery: NewDelivery) -> BoxFuture<'_, Result<Inserted, StoreError>> {
        let (tx, rx) = oneshot::channel();
        self.send(Job::Ingest(delivery, tx), rx)
    }

    fn count_rejection(&self, rejection: Rejection) -> BoxFuture<'_, Result<(), StoreError>> {
        let (tx, rx) = oneshot::channel();
        let name = format!("{REJECTED_PREFIX}{}", rejection.reason());
        self.send(Job::Count(name, tx), rx)
    }

    fn claim(
        &self,
        now: SystemTime,
        lease_until: SystemTime,
        limit: u32,
    ) -> BoxFuture<'_, Result<Vec<Claimed>, StoreError>> {
        let (now, until, limit) = (to_millis(now), to_millis(lease_until), i64::from(limit));
        Box::pin(async move {
            let sql = format!(
                "WITH picked AS (
                     SELECT d.seq FROM deliveries d
                     WHERE ((d.status = 'pending' AND d.available_at <= $1)
                            OR (d.status = 'leased' AND d.lease_until <= $1))
                       AND NOT EXISTS (
                           SELECT 1 FROM deliveries e
                           WHERE e.call_id = d.call_id AND e.rank < d.rank
                             AND e.status IN ('pending', 'leased'))
                     ORDER BY d.received_at, d.seq
                     LIMIT $3
                     FOR UPDATE SKIP LOCKED)
                 UPDATE deliveries
                 SET status = 'leased', lease_until = $2, attempts = attempts + 1,
                     claims = claims + 1
                 FROM picked WHERE deliveries.seq = picked.seq
                 RETURNING {}, deliveries.seq",
                COLUMNS
                    .split(", ")
                    .map(|c| format!("deliveries.{}", c.trim()))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let rows = self
                .client
                .query(&sql, &[&now, &until, &limit])
                .await
                .map_err(db)?;
            let mut claimed = Vec::with_capacity(rows.len());
            for row in &rows {
                let (delivery, token) = read_row(row)?;
                let seq: i64 = row.try_get(15).map_err(db)?;
                claimed.push((delivery, token, seq));
            }
            claimed.sort_by_key(|(d, _, seq)| (d.received_at, *seq));
            Ok(claimed
                .into_iter()
                .map(|(delivery, token, _)| Claimed {
                    lease: Lease {
                        id: delivery.id.clone(),
                        token,
                    },
                    delivery,
                })
                .collect())
        })
    }

    fn complete<'a>(
        &'a self,
        lease: &'a Lease,
        now: SystemTime,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        let now = to_millis(now);
        Box::pin(async move {
            self.update(
                "UPDATE deliveries SET status = 'done', processed_at = $3, lease_until = NULL
                 WHERE id = $1 AND claims = $2 AND status = 'leased'",
                &[&lease.id, &lease.token, &now],
            )
            .await
            .map(|n| n == 1)
        })
    }

    fn retry_at<'a>(
        &'a self,
        lease: &'a Lease,
        available_at: SystemTime,
        error: &'a str,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        let at = to_millis(available_at);
        Box::pin(async move {
            self.update(
                "UPDATE deliveries SET status = 'pending', available_at = $3,
                     lease_until = NULL, last_error = $4
                 WHERE id = $1 AND claims = $2 AND status = 'leased'",
                &[&lease.id, &lease.token, &at, &error],
            )
            .await
            .map(|n| n == 1)
        })
    }

    fn dead_letter<'a>(
        &'a self,
        lease: &'a Lease,
        now: SystemTime,
        error: &'a str,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        let now = to_millis(now);
        Box::pin(async move {
            self.update(
                "UPDATE deliveries SET status = 'dead', processed_at = $3,
                     lease_until = NULL, last_error = $4
                 WHERE id = $1 AND claims = $2 AND status = 'leased'",
                &[&lease.id, &lease.token, &now, &error],
            )
            .await
            .map(|n| n == 1)
        })
    }

    fn next_due(&self) -> BoxFuture<'_, Result<Option<SystemTime>, StoreError>> {
        Box::pin(async move {
            let row = self
                .client
                .query_one(
                    "SELECT MIN(CASE WHEN status = 'pending' THEN available_at
                                     ELSE lease_until END)
                     FROM deliveries WHERE status IN ('pending', 'leased')",
                    &[],
                )
                .await
                .map_err(db)?;
            Ok(row
                .try_get::<_, Option<i64>>(0)
                .map_err(db)?
                .map(from_millis))
        })
    }

    fn replay<'a>(
        &'a self,
        id: &'a str,
        now: SystemTime,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        let now = to_millis(now);
        Box::pin(async move {
            self.update(
                "UPDATE deliveries SET status = 'pending', attempts = 0, available_at = $2,
                     lease_until = NULL, processed_at = NULL
                 WHERE id = $1 AND status IN ('dead', 'done')",
                &[&id, &now],
            )
            .await
            .map(|n| n == 1)
        })
    }

    fn replay_dead(&self, now: SystemTime) -> BoxFuture<'_, Result<u64, StoreError>> {
        let now = to_millis(now);
        Box::pin(async move {
            self.update(
                "UPDATE deliveries SET status = 'pending', attempts = 0, available_at = $1,
                     lease_until = NULL, processed_at = NULL
                 WHERE status = 'dead'",
                &[&now],
            )
            .await
        })
    }

    fn purge_done(&self, before: SystemTime) -> BoxFuture<'_, Result<u64, StoreError>> {
        let before = to_millis(before);
        Box::pin(async move {
            self.update(
                "DELETE FROM deliveries WHERE status = 'done' AND processed_at < $1",
                &[&before],
            )
            .await
        })
    }

    fn purge_dead(&self) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(async move {
            self.update("DELETE FROM deliveries WHERE status = 'dead'", &[])
                .await
        })
    }

    fn stats(&self, now: SystemTime) -> BoxFuture<'_, Result<Stats, StoreError>> {
        let now = to_millis(now);
        Box::pin(async move {
            let mut stats = Stats::default();
            for row in self
                .client
                .query(
                    "SELECT status, COUNT(*)::BIGINT FROM deliveries GROUP BY status",
                    &[],
                )
                .await
                .map_err(db)?
            {
                let status: String = row.try_get(0).map_err(db)?;
                let n: i64 = row.try_get(1).map_err(db)?;
                stats.by_status.insert(status, n.max(0) as u64);
            }
            for row in self
                .client
                .query("SELECT name, value FROM counters", &[])
                .await
                .map_err(db)?
            {
                let name: String = row.try_get(0).map_err(db)?;
                let n = row.try_get::<_, i64>(1).map_err(db)?.max(0) as u64;
                if name == DUPLICATES {
                    stats.duplicates = n;
                } else if name == UNPARSEABLE {
                    stats.unparseable = n;
                } else if name == SUPERSEDED {
                    stats.superseded = n;
                } else if let Some(reason) = name.strip_prefix(REJECTED_PREFIX) {
                    stats.rejections.insert(reason.to_owned(), n);
                }
            }
            let oldest: Option<i64> = self
                .client
                .query_one(
                    "SELECT MIN(received_at) FROM deliveries
                     WHERE status IN ('pending', 'leased')",
                    &[],
                )
                .await
                .map_err(db)?
                .try_get(0)
                .map_err(db)?;
            stats.oldest_pending_age = oldest.map(|t| {
                std::time::Duration::from_millis(now.saturating_sub(t).max(0).unsigned_abs())
            });
            let recovered: i64 = self
                .client
                .query_one(
                    "SELECT COUNT(*)::BIGINT FROM call_ledger WHERE source = 'recovered'",
                    &[],
                )
                .await
                .map_err(db)?
                .try_get(0)
                .map_err(db)?;
            stats.recovered = recovered.max(0) as u64;
            Ok(stats)
        })
    }

    fn list(
        &self,
        status: Option<Status>,
        limit: u32,
    ) -> BoxFuture<'_, Result<Vec<StoredDelivery>, StoreError>> {
        Box::pin(async move {
            let status = status.map(|s| s.as_str());
            let rows = self
                .client
                .query(
                    &format!(
                        "SELECT {COLUMNS} FROM deliveries
                         WHERE ($1::TEXT IS NULL OR status = $1)
                         ORDER BY received_at, seq LIMIT $2"
                    ),
                    &[&status, &i64::from(limit)],
                )
                .await
                .map_err(db)?;
            rows.iter().map(|r| read_row(r).map(|(d, _)| d)).collect()
        })
    }

    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<StoredDelivery>, StoreError>> {
        Box::pin(async move {
            let row = self
                .client
                .query_opt(
                    &format!("SELECT {COLUMNS} FROM deliveries WHERE id = $1"),
                    &[&id],
                )
                .await
                .map_err(db)?;
            row.as_ref()
                .map(|r| read_row(r).map(|(d, _)| d))
                .transpose()
        })
    }

    fn enqueue_recovered(&self, d: NewDelivery) -> BoxFuture<'_, Result<Inserted, StoreError>> {
        Box::pin(async move {
            let (Some(call_id), false) = (d.call_id.as_deref(), d.event_type.is_empty()) else {
                return Err(StoreError::Corrupt(
                    "a recovered item needs a call id and an event type",
                ));
            };
            let received = to_millis(d.received_at);
            let rank = event_rank(&d.event_type);
            // One statement: the ledger row, the call and the delivery are written together
            // or not at all; the ledger's primary key decides against a concurrent ingest.
            let rows = self
                .client
                .query(
                    "WITH l AS (
                         INSERT INTO call_ledger (call_id, event_type, source, delivery_id, at)
                         VALUES ($1, $2, 'recovered', $3, $4) ON CONFLICT DO NOTHING
                         RETURNING call_id),
                     c AS (
                         INSERT INTO ledger_calls (call_id, first_seen_at)
                         SELECT call_id, $4 FROM l ON CONFLICT DO NOTHING)
                     INSERT INTO deliveries (id, call_id, event_type, rank, body, content_type,
                         signature, user_agent, received_at, status, available_at)
                     SELECT $3, $1, $2, $5, $6, $7, NULL, $8, $4, 'pending', $4 FROM l
                     ON CONFLICT (id) DO NOTHING RETURNING id",
                    &[
                        &call_id,
                        &d.event_type,
                        &d.id,
                        &received,
                        &rank,
                        &d.body,
                        &d.content_type,
                        &d.user_agent,
                    ],
                )
                .await
                .map_err(db)?;
            Ok(if rows.is_empty() {
                Inserted::Duplicate
            } else {
                Inserted::New
            })
        })
    }

    fn open_calls(&self, limit: u32) -> BoxFuture<'_, Result<Vec<LedgerCall>, StoreError>> {
        Box::pin(async move {
            let rows = self
                .client
                .query(
                    "SELECT call_id, agent_id, first_seen_at, final_seen_at FROM ledger_calls
                     WHERE closed_at IS NULL ORDER BY first_seen_at, call_id LIMIT $1",
                    &[&i64::from(limit)],
                )
                .await
                .map_err(db)?;
            let mut calls = Vec::with_capacity(rows.len());
            for r in &rows {
                calls.push(LedgerCall {
                    call_id: r.try_get(0).map_err(db)?,
                    agent_id: r.try_get(1).map_err(db)?,
                    arrived: Vec::new(),
                    recovered: Vec::new(),
                    first_seen_at: from_millis(r.try_get(2).map_err(db)?),
                    final_seen_at: r.try_get::<_, Option<i64>>(3).map_err(db)?.map(from_millis),
                });
            }
            let ids: Vec<String> = calls.iter().map(|c| c.call_id.clone()).collect();
            let events = self
                .client
                .query(
                    "SELECT call_id, event_type, source FROM call_ledger
                     WHERE call_id = ANY($1) ORDER BY at",
                    &[&ids],
                )
                .await
                .map_err(db)?;
            for r in &events {
                let call_id: String = r.try_get(0).map_err(db)?;
                let event_type: String = r.try_get(1).map_err(db)?;
                let source: String = r.try_get(2).map_err(db)?;
                if let Some(call) = calls.iter_mut().find(|c| c.call_id == call_id) {
                    call.add_event(event_type, &source);
                }
            }
            Ok(calls)
        })
    }

    fn note_call<'a>(
        &'a self,
        call_id: &'a str,
        agent_id: Option<&'a str>,
        is_final: bool,
        swept: bool,
        now: SystemTime,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        let now = to_millis(now);
        let final_at = is_final.then_some(now);
        let swept_at = swept.then_some(now);
        Box::pin(async move {
            self.update(
                "INSERT INTO ledger_calls (call_id, agent_id, first_seen_at, final_seen_at, swept_at)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (call_id) DO UPDATE SET
                     agent_id = COALESCE(ledger_calls.agent_id, EXCLUDED.agent_id),
                     final_seen_at = COALESCE(ledger_calls.final_seen_at, EXCLUDED.final_seen_at),
                     swept_at = COALESCE(ledger_calls.swept_at, EXCLUDED.swept_at)",
                &[&call_id, &agent_id, &now, &final_at, &swept_at],
            )
            .await
            .map(|_| ())
        })
    }

    fn close_call<'a>(
        &'a self,
        call_id: &'a str,
        now: SystemTime,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        let now = to_millis(now);
        Box::pin(async move {
            self.update(
                "INSERT INTO ledger_calls (call_id, first_seen_at, closed_at) VALUES ($1, $2, $2)
                 ON CONFLICT (call_id) DO UPDATE SET
                     closed_at = COALESCE(ledger_calls.closed_at, EXCLUDED.closed_at)",
                &[&call_id, &now],
            )
            .await
            .map(|_| ())
        })
    }

    fn known_calls(&self, call_ids: Vec<String>) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        Box::pin(async move {
            let rows = self
                .client
                .query(
                    "SELECT call_id FROM ledger_calls
                     WHERE call_id = ANY($1) AND swept_at IS NOT NULL",
                    &[&call_ids],
                )
                .await
                .map_err(db)?;
            rows.iter()
                .map(|r| r.try_get::<_, String>(0).map_err(db))
                .collect()
        })
    }
}
