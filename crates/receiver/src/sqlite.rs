//! The embedded durable inbox: one SQLite file (bundled SQLite, WAL, `synchronous=FULL`).
//!
//! **Durability.** The database runs in WAL mode with `synchronous=FULL`: a commit returns only
//! after the WAL has been fsync'd, so a delivery answered 2xx survives a crash of the process
//! or of the machine.
//!
//! **Group commit.** One writer thread owns the connection. Every operation is a job sent to
//! it over a channel; the thread takes all the jobs waiting (up to a batch limit), runs each
//! inside its own savepoint of one transaction, commits once, and only then answers each
//! caller. Concurrent ingests therefore share one fsync instead of paying one each.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::SystemTime;

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use tokio::sync::oneshot;

use crate::clock::{from_millis, to_millis, BoxFuture};
use crate::core::Rejection;
use crate::store::{
    event_rank, Claimed, Inserted, Lease, LedgerCall, NewDelivery, Stats, Status, Store,
    StoreError, StoredDelivery, DUPLICATES, REJECTED_PREFIX, SUPERSEDED, SUPERSEDED_NOTE,
    UNPARSEABLE,
};

/// The most jobs committed in one transaction.
const MAX_BATCH: usize = 1024;

/// Schema migrations, in order; the crate owns them. Version N is `MIGRATIONS[N - 1]`.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE deliveries (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT    NOT NULL UNIQUE,
    call_id      TEXT,
    event_type   TEXT    NOT NULL,
    rank         INTEGER NOT NULL,
    body         BLOB    NOT NULL,
    content_type TEXT,
    signature    TEXT,
    user_agent   TEXT,
    received_at  INTEGER NOT NULL,
    status       TEXT    NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    claims       INTEGER NOT NULL DEFAULT 0,
    available_at INTEGER NOT NULL,
    lease_until  INTEGER,
    processed_at INTEGER,
    last_error   TEXT
);
CREATE INDEX deliveries_claim ON deliveries (status, available_at);
CREATE INDEX deliveries_call ON deliveries (call_id, rank);
CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
"#,
    LEDGER_MIGRATION,
];

/// Version 2: the call ledger (per call id, which event types arrived, really or recovered)
/// and the reconciler's per-call state. Calls already in the inbox are entered as closed:
/// reconciliation starts from the migration, it does not re-examine history.
const LEDGER_MIGRATION: &str = r#"
CREATE TABLE call_ledger (
    call_id     TEXT    NOT NULL,
    event_type  TEXT    NOT NULL,
    source      TEXT    NOT NULL,
    delivery_id TEXT    NOT NULL,
    at          INTEGER NOT NULL,
    PRIMARY KEY (call_id, event_type)
);
CREATE TABLE ledger_calls (
    call_id       TEXT PRIMARY KEY,
    agent_id      TEXT,
    first_seen_at INTEGER NOT NULL,
    final_seen_at INTEGER,
    swept_at      INTEGER,
    closed_at     INTEGER
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

type Reply = Box<dyn FnOnce(Result<(), StoreError>) + Send>;
/// A job runs on the writer thread, inside a savepoint, and returns whether it succeeded (its
/// savepoint is rolled back otherwise) and how to answer once the batch is committed.
type Job = Box<dyn FnOnce(Result<&Connection, StoreError>) -> (bool, Reply) + Send>;

/// The embedded inbox: one SQLite file (bundled SQLite). Share it behind an `Arc`; dropping
/// it stops the writer thread once its queue is empty. Other processes (the CLI's
/// `inbox list`) may open the same file at the same time.
///
/// **Durability**: WAL mode with `synchronous=FULL`, so a commit returns only after the WAL is
/// fsync'd: a delivery answered 2xx survives a crash of the process or of the machine.
///
/// **Group commit**: one writer thread owns the connection. Every operation is a job sent to it
/// over a channel; the thread takes all the jobs waiting (up to 1024), runs each in its own
/// savepoint of one transaction, commits once, and only then answers each caller. Concurrent
/// ingests share one fsync instead of paying one each ([`SqliteStore::transactions`] counts
/// the commits).
///
/// **Migrations**: the crate owns the schema (a `schema_version` table); opening a file
/// migrated by a newer version fails with [`StoreError::SchemaTooNew`].
///
/// ```
/// use std::time::SystemTime;
/// use atoms_webhook_receiver::{Inserted, NewDelivery, SqliteStore, Store};
/// # let dir = tempfile::tempdir()?;
/// let store = SqliteStore::open(dir.path().join("inbox.db"))?;
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let d = NewDelivery::new("69fd96118fd277fc807e4c23", b"{}".to_vec(), SystemTime::now());
/// assert_eq!(store.ingest(d.clone()).await?, Inserted::New);
/// assert_eq!(store.ingest(d).await?, Inserted::Duplicate);
/// # Ok::<(), atoms_webhook_receiver::StoreError>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct SqliteStore {
    jobs: mpsc::Sender<Job>,
    transactions: Arc<AtomicU64>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`, applies the migrations, and starts
    /// the writer thread.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let mut conn = Connection::open(path).map_err(StoreError::database)?;
        configure(&conn)?;
        migrate(&mut conn)?;
        let (jobs, queue) = mpsc::channel::<Job>();
        let transactions = Arc::new(AtomicU64::new(0));
        let counter = transactions.clone();
        std::thread::Builder::new()
            .name("atoms-inbox-sqlite".into())
            .spawn(move || writer(conn, queue, &counter))
            .map_err(StoreError::database)?;
        Ok(Self { jobs, transactions })
    }

    /// How many transactions the writer has committed (or tried to) since the store was
    /// opened. With group commit this grows more slowly than the number of operations.
    pub fn transactions(&self) -> u64 {
        self.transactions.load(Ordering::Relaxed)
    }

    /// The newest schema version this crate knows.
    pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

    fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> BoxFuture<'static, Result<T, StoreError>> {
        let (tx, rx) = oneshot::channel::<Result<T, StoreError>>();
        let job: Job = Box::new(move |conn| {
            let result = conn.and_then(|c| f(c).map_err(StoreError::database));
            let ok = result.is_ok();
            let reply: Reply = Box::new(move |commit: Result<(), StoreError>| {
                let _ = tx.send(result.and_then(|v| commit.map(|()| v)));
            });
            (ok, reply)
        });
        let sent = self.jobs.send(job).map_err(|_| StoreError::Closed);
        Box::pin(async move {
            sent?;
            rx.await.map_err(|_| StoreError::Closed)?
        })
    }
}

fn configure(conn: &Connection) -> Result<(), StoreError> {
    // WAL + synchronous=FULL: each commit fsyncs the WAL before returning. busy_timeout lets
    // other processes (the CLI's `inbox list`) share the file.
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(StoreError::database)?;
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(StoreError::database)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(StoreError::database)?;
    Ok(())
}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(StoreError::database)?;
    tx.execute_batch("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        .map_err(StoreError::database)?;
    let found: i64 = tx
        .query_row(
            "SELECT COALESCE(MAX(version), 0) FROM schema_version",
            [],
            |r| r.get(0),
        )
        .map_err(StoreError::database)?;
    let known = SqliteStore::SCHEMA_VERSION;
    if found > known {
        return Err(StoreError::SchemaTooNew { found, known });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        tx.execute_batch(sql).map_err(StoreError::database)?;
        tx.execute(
            "INSERT INTO schema_version (version) VALUES (?1)",
            params![i as i64 + 1],
        )
        .map_err(StoreError::database)?;
    }
    tx.commit().map_err(StoreError::database)
}

fn writer(mut conn: Connection, queue: mpsc::Receiver<Job>, transactions: &AtomicU64) {
    while let Ok(first) = queue.recv() {
        transactions.fetch_add(1, Ordering::Relaxed);
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let mut replies = Vec::with_capacity(batch.len());
        let commit = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
            Err(e) => {
                let e = StoreError::database(e);
                for job in batch {
                    replies.push(job(Err(e.clone())).1);
                }
                Err(e)
            }
            Ok(mut tx) => {
                for job in batch {
                    match tx.savepoint() {
                        Ok(sp) => {
                            let (ok, reply) = job(Ok(&sp));
                            if ok {
                                let _ = sp.commit();
                            }
                            // A failed job's savepoint rolls back when dropped.
                            replies.push(reply);
                        }
                        Err(e) => replies.push(job(Err(StoreError::database(e))).1),
                    }
                }
                tx.commit().map_err(StoreError::database)
            }
        };
        for reply in replies {
            reply(commit.clone());
        }
    }
}

fn bump(conn: &Connection, name: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO counters (name, value) VALUES (?1, 1)
         ON CONFLICT (name) DO UPDATE SET value = value + 1",
    )?
    .execute(params![name])
    .map(|_| ())
}

/// The call ledger's part of an ingest: records the event type of the call; when its recovered
/// twin was enqueued first, the delivery just stored is marked done without processing.
fn ledger_delivery(
    c: &Connection,
    call_id: &str,
    event_type: &str,
    id: &str,
    received: i64,
) -> rusqlite::Result<()> {
    let fresh = c
        .prepare_cached(
            "INSERT INTO call_ledger (call_id, event_type, source, delivery_id, at)
             VALUES (?1, ?2, 'delivery', ?3, ?4) ON CONFLICT DO NOTHING",
        )?
        .execute(params![call_id, event_type, id, received])?;
    if fresh == 0 {
        let source: String = c
            .prepare_cached(
                "SELECT source FROM call_ledger WHERE call_id = ?1 AND event_type = ?2",
            )?
            .query_row(params![call_id, event_type], |r| r.get(0))?;
        if source == "recovered" {
            c.prepare_cached(
                "UPDATE deliveries SET status = 'done', processed_at = ?2, last_error = ?3
                 WHERE id = ?1",
            )?
            .execute(params![id, received, SUPERSEDED_NOTE])?;
            bump(c, SUPERSEDED)?;
        }
    }
    c.prepare_cached(
        "INSERT INTO ledger_calls (call_id, first_seen_at) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
    )?
    .execute(params![call_id, received])?;
    Ok(())
}

fn opt_time(ms: Option<i64>) -> Option<SystemTime> {
    ms.map(from_millis)
}

fn read_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<(StoredDelivery, i64)> {
    let status: String = row.get(3)?;
    let status = Status::parse(&status).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            3,
            rusqlite::types::Type::Text,
            Box::new(StoreError::Corrupt("unknown status")),
        )
    })?;
    let attempts: i64 = row.get(4)?;
    Ok((
        StoredDelivery {
            id: row.get(0)?,
            call_id: row.get(1)?,
            event_type: row.get(2)?,
            status,
            attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
            received_at: from_millis(row.get(5)?),
            available_at: from_millis(row.get(6)?),
            lease_until: opt_time(row.get(7)?),
            processed_at: opt_time(row.get(8)?),
            last_error: row.get(9)?,
            body: row.get(10)?,
            content_type: row.get(11)?,
            signature: row.get(12)?,
            user_agent: row.get(13)?,
        },
        row.get(14)?,
    ))
}

impl Store for SqliteStore {
    fn ingest(&self, d: NewDelivery) -> BoxFuture<'_, Result<Inserted, StoreError>> {
        self.run(move |c| {
            let received = to_millis(d.received_at);
            let dead = d.parse_error.is_some();
            let n = c
                .prepare_cached(
                    "INSERT INTO deliveries (id, call_id, event_type, rank, body, content_type,
                     signature, user_agent, received_at, status, available_at, processed_at,
                     last_error)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?9, ?11, ?12)
                 ON CONFLICT (id) DO NOTHING",
                )?
                .execute(params![
                    d.id,
                    d.call_id,
                    d.event_type,
                    event_rank(&d.event_type),
                    d.body,
                    d.content_type,
                    d.signature,
                    d.user_agent,
                    received,
                    if dead { "dead" } else { "pending" },
                    dead.then_some(received),
                    d.parse_error,
                ])?;
            if n == 0 {
                bump(c, DUPLICATES)?;
                return Ok(Inserted::Duplicate);
            }
            if dead {
                bump(c, UNPARSEABLE)?;
            } else if let Some(call_id) = d.call_id.as_deref().filter(|_| !d.event_type.is_empty())
            {
                ledger_delivery(c, call_id, &d.event_type, &d.id, received)?;
            }
            Ok(Inserted::New)
        })
    }

    fn count_rejection(&self, rejection: Rejection) -> BoxFuture<'_, Result<(), StoreError>> {
        self.run(move |c| bump(c, &format!("{REJECTED_PREFIX}{}", rejection.reason())))
    }

    fn claim(
        &self,
        now: SystemTime,
        lease_until: SystemTime,
        limit: u32,
    ) -> BoxFuture<'_, Result<Vec<Claimed>, StoreError>> {
        let (now, until) = (to_millis(now), to_millis(lease_until));
        self.run(move |c| {
            let sql = format!(
                "UPDATE deliveries
                 SET status = 'leased', lease_until = ?2, attempts = attempts + 1,
                     claims = claims + 1
                 WHERE seq IN (
                     SELECT d.seq FROM deliveries d
                     WHERE ((d.status = 'pending' AND d.available_at <= ?1)
                            OR (d.status = 'leased' AND d.lease_until <= ?1))
                       AND NOT EXISTS (
                           SELECT 1 FROM deliveries e
                           WHERE e.call_id = d.call_id AND e.rank < d.rank
                             AND e.status IN ('pending', 'leased'))
                     ORDER BY d.received_at, d.seq
                     LIMIT ?3)
                 RETURNING {COLUMNS}, seq"
            );
            let mut stmt = c.prepare_cached(&sql)?;
            let mut rows = stmt
                .query_map(params![now, until, limit], |r| {
                    Ok((read_row(r)?, r.get::<_, i64>(15)?))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            rows.sort_by_key(|((d, _), seq)| (d.received_at, *seq));
            Ok(rows
                .into_iter()
                .map(|((delivery, token), _)| Claimed {
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
        let (id, token, now) = (lease.id.clone(), lease.token, to_millis(now));
        self.run(move |c| {
            c.prepare_cached(
                "UPDATE deliveries SET status = 'done', processed_at = ?3, lease_until = NULL
                 WHERE id = ?1 AND claims = ?2 AND status = 'leased'",
            )?
            .execute(params![id, token, now])
            .map(|n| n == 1)
        })
    }

    fn retry_at<'a>(
        &'a self,
        lease: &'a Lease,
        available_at: SystemTime,
        error: &'a str,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        let (id, token, at, error) = (
            lease.id.clone(),
            lease.token,
            to_millis(available_at),
            error.to_owned(),
        );
        self.run(move |c| {
            c.prepare_cached(
                "UPDATE deliveries SET status = 'pending', available_at = ?3,
                     lease_until = NULL, last_error = ?4
                 WHERE id = ?1 AND claims = ?2 AND status = 'leased'",
            )?
            .execute(params![id, token, at, error])
            .map(|n| n == 1)
        })
    }

    fn dead_letter<'a>(
        &'a self,
        lease: &'a Lease,
        now: SystemTime,
        error: &'a str,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        let (id, token, now, error) = (
            lease.id.clone(),
            lease.token,
            to_millis(now),
            error.to_owned(),
        );
        self.run(move |c| {
            c.prepare_cached(
                "UPDATE deliveries SET status = 'dead', processed_at = ?3,
                     lease_until = NULL, last_error = ?4
                 WHERE id = ?1 AND claims = ?2 AND status = 'leased'",
            )?
            .execute(params![id, token, now, error])
            .map(|n| n == 1)
        })
    }

    fn next_due(&self) -> BoxFuture<'_, Result<Option<SystemTime>, StoreError>> {
        self.run(|c| {
            c.query_row(
                "SELECT MIN(CASE WHEN status = 'pending' THEN available_at ELSE lease_until END)
                 FROM deliveries WHERE status IN ('pending', 'leased')",
                [],
                |r| r.get::<_, Option<i64>>(0),
            )
            .map(opt_time)
        })
    }

    fn replay<'a>(
        &'a self,
        id: &'a str,
        now: SystemTime,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        let (id, now) = (id.to_owned(), to_millis(now));
        self.run(move |c| {
            c.prepare_cached(
                "UPDATE deliveries SET status = 'pending', attempts = 0, available_at = ?2,
                     lease_until = NULL, processed_at = NULL
                 WHERE id = ?1 AND status IN ('dead', 'done')",
            )?
            .execute(params![id, now])
            .map(|n| n == 1)
        })
    }

    fn replay_dead(&self, now: SystemTime) -> BoxFuture<'_, Result<u64, StoreError>> {
        let now = to_millis(now);
        self.run(move |c| {
            c.prepare_cached(
                "UPDATE deliveries SET status = 'pending', attempts = 0, available_at = ?1,
                     lease_until = NULL, processed_at = NULL
                 WHERE status = 'dead'",
            )?
            .execute(params![now])
            .map(|n| n as u64)
        })
    }

    fn purge_done(&self, before: SystemTime) -> BoxFuture<'_, Result<u64, StoreError>> {
        let before = to_millis(before);
        self.run(move |c| {
            c.prepare_cached("DELETE FROM deliveries WHERE status = 'done' AND processed_at < ?1")?
                .execute(params![before])
                .map(|n| n as u64)
        })
    }

    fn purge_dead(&self) -> BoxFuture<'_, Result<u64, StoreError>> {
        self.run(|c| {
            c.execute("DELETE FROM deliveries WHERE status = 'dead'", [])
                .map(|n| n as u64)
        })
    }

    fn stats(&self, now: SystemTime) -> BoxFuture<'_, Result<Stats, StoreError>> {
        let now = to_millis(now);
        self.run(move |c| {
            let mut stats = Stats::default();
            let mut stmt = c.prepare("SELECT status, COUNT(*) FROM deliveries GROUP BY status")?;
            for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))? {
                let (status, n) = row?;
                stats.by_status.insert(status, n as u64);
            }
            let mut stmt = c.prepare("SELECT name, value FROM counters")?;
            for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))? {
                let (name, n) = row?;
                let n = n as u64;
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
            let recovered: i64 = c.query_row(
                "SELECT COUNT(*) FROM call_ledger WHERE source = 'recovered'",
                [],
                |r| r.get(0),
            )?;
            stats.recovered = recovered.max(0) as u64;
            let oldest: Option<i64> = c.query_row(
                "SELECT MIN(received_at) FROM deliveries WHERE status IN ('pending', 'leased')",
                [],
                |r| r.get(0),
            )?;
            stats.oldest_pending_age = oldest.map(|t| {
                std::time::Duration::from_millis(now.saturating_sub(t).max(0).unsigned_abs())
            });
            Ok(stats)
        })
    }

    fn list(
        &self,
        status: Option<Status>,
        limit: u32,
    ) -> BoxFuture<'_, Result<Vec<StoredDelivery>, StoreError>> {
        self.run(move |c| {
            let sql = format!(
                "SELECT {COLUMNS} FROM deliveries WHERE (?1 IS NULL OR status = ?1)
                 ORDER BY received_at, seq LIMIT ?2"
            );
            let mut stmt = c.prepare_cached(&sql)?;
            let rows = stmt
                .query_map(params![status.map(|s| s.as_str()), limit], |r| {
                    read_row(r).map(|(d, _)| d)
                })?
                .collect();
            rows
        })
    }

    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<StoredDelivery>, StoreError>> {
        let id = id.to_owned();
        self.run(move |c| {
            c.query_row(
                &format!("SELECT {COLUMNS} FROM deliveries WHERE id = ?1"),
                params![id],
                |r| read_row(r).map(|(d, _)| d),
            )
            .optional()
        })
    }

    fn enqueue_recovered(&self, d: NewDelivery) -> BoxFuture<'_, Result<Inserted, StoreError>> {
        self.run(move |c| {
            let (Some(call_id), false) = (d.call_id.as_deref(), d.event_type.is_empty()) else {
                return Err(rusqlite::Error::InvalidParameterName(
                    "a recovered item needs a call id and an event type".to_owned(),
                ));
            };
            let received = to_millis(d.received_at);
            let fresh = c
                .prepare_cached(
                    "INSERT INTO call_ledger (call_id, event_type, source, delivery_id, at)
                     VALUES (?1, ?2, 'recovered', ?3, ?4) ON CONFLICT DO NOTHING",
                )?
                .execute(params![call_id, d.event_type, d.id, received])?;
            if fresh == 0 {
                return Ok(Inserted::Duplicate);
            }
            c.prepare_cached(
                "INSERT INTO deliveries (id, call_id, event_type, rank, body, content_type,
                 signature, user_agent, received_at, status, available_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL, ?7, ?8, 'pending', ?8)
                 ON CONFLICT (id) DO NOTHING",
            )?
            .execute(params![
                d.id,
                call_id,
                d.event_type,
                event_rank(&d.event_type),
                d.body,
                d.content_type,
                d.user_agent,
                received,
            ])?;
            c.prepare_cached(
                "INSERT INTO ledger_calls (call_id, first_seen_at) VALUES (?1, ?2)
                 ON CONFLICT DO NOTHING",
            )?
            .execute(params![call_id, received])?;
            Ok(Inserted::New)
        })
    }

    fn open_calls(&self, limit: u32) -> BoxFuture<'_, Result<Vec<LedgerCall>, StoreError>> {
        self.run(move |c| {
            let mut calls: Vec<LedgerCall> = c
                .prepare_cached(
                    "SELECT call_id, agent_id, first_seen_at, final_seen_at FROM ledger_calls
                     WHERE closed_at IS NULL ORDER BY first_seen_at, call_id LIMIT ?1",
                )?
                .query_map(params![limit], |r| {
                    Ok(LedgerCall {
                        call_id: r.get(0)?,
                        agent_id: r.get(1)?,
                        arrived: Vec::new(),
                        recovered: Vec::new(),
                        first_seen_at: from_millis(r.get(2)?),
                        final_seen_at: opt_time(r.get(3)?),
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            let mut events = c.prepare_cached(
                "SELECT event_type, source FROM call_ledger WHERE call_id = ?1 ORDER BY at",
            )?;
            for call in &mut calls {
                let rows = events.query_map(params![call.call_id], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
                })?;
                for row in rows {
                    let (event_type, source) = row?;
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
        let (call_id, agent_id, now) = (
            call_id.to_owned(),
            agent_id.map(str::to_owned),
            to_millis(now),
        );
        self.run(move |c| {
            c.prepare_cached(
                "INSERT INTO ledger_calls (call_id, agent_id, first_seen_at, final_seen_at, swept_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (call_id) DO UPDATE SET
                     agent_id = COALESCE(ledger_calls.agent_id, excluded.agent_id),
                     final_seen_at = COALESCE(ledger_calls.final_seen_at, excluded.final_seen_at),
                     swept_at = COALESCE(ledger_calls.swept_at, excluded.swept_at)",
            )?
            .execute(params![call_id, agent_id, now, is_final.then_some(now), swept.then_some(now)])
            .map(|_| ())
        })
    }

    fn close_call<'a>(
        &'a self,
        call_id: &'a str,
        now: SystemTime,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        let (call_id, now) = (call_id.to_owned(), to_millis(now));
        self.run(move |c| {
            c.prepare_cached(
                "INSERT INTO ledger_calls (call_id, first_seen_at, closed_at) VALUES (?1, ?2, ?2)
                 ON CONFLICT (call_id) DO UPDATE SET
                     closed_at = COALESCE(ledger_calls.closed_at, excluded.closed_at)",
            )?
            .execute(params![call_id, now])
            .map(|_| ())
        })
    }

    fn known_calls(&self, call_ids: Vec<String>) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        self.run(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM ledger_calls
                                WHERE call_id = ?1 AND swept_at IS NOT NULL)",
            )?;
            let mut known = Vec::new();
            for id in call_ids {
                if stmt.query_row(params![id], |r| r.get::<_, bool>(0))? {
                    known.push(id);
                }
            }
            Ok(known)
        })
    }
}
