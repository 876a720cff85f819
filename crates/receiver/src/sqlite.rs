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
    event_rank, Claimed, Inserted, Lease, NewDelivery, Stats, Status, Store, StoreError,
    StoredDelivery, DUPLICATES, REJECTED_PREFIX, UNPARSEABLE,
};

/// The most jobs committed in one transaction.
const MAX_BATCH: usize = 1024;

/// Schema migrations, in order; the crate owns them. Version N is `MIGRATIONS[N - 1]`.
const MIGRATIONS: &[&str] = &[r#"
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
"#];

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
                } else if let Some(reason) = name.strip_prefix(REJECTED_PREFIX) {
                    stats.rejections.insert(reason.to_owned(), n);
                }
            }
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
}
