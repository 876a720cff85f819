//! The receivers the receive figures set against the inbox: a naive durable receiver (each
//! request in its own SQLite transaction, with the inbox's durability), a bare axum handler,
//! and the Python receiver of `scripts/python/receiver.py` as a child process.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use atoms_webhook_models::{SigningSecret, Verifier};
use atoms_webhook_receiver::axum::{InboxService, VerifiedEvent};
use atoms_webhook_receiver::{Inbox, Receiver, SqliteStore, Store};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Router;

use crate::BoxError;

/// An axum router served on 127.0.0.1 by a runtime of its own, on its own thread, until
/// dropped.
#[derive(Debug)]
pub struct Background {
    url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Background {
    /// Serves `router` with `workers` runtime threads.
    pub fn serve(router: Router, workers: usize) -> Result<Self, BoxError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .enable_all()
            .build()?;
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
        let url = format!("http://{}/atoms", listener.local_addr()?);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            runtime.block_on(async move {
                let served = axum::serve(listener, router).with_graceful_shutdown(async move {
                    let _ = stopped.await;
                });
                if let Err(e) = served.await {
                    eprintln!("bench receiver stopped: {e}");
                }
            });
        });
        Ok(Self {
            url,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// Where to POST.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The durable inbox on SQLite (the library's `InboxService` on every path), and its store.
pub fn inbox(db: &Path, secret: SigningSecret) -> Result<(Router, Arc<dyn Store>), BoxError> {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(db)?);
    let inbox = Inbox::new(Receiver::new(secret)?, store.clone());
    Ok((
        Router::new().fallback_service(InboxService::new(inbox)),
        store,
    ))
}

/// The receive core alone: the `VerifiedEvent` extractor (raw body within the limit, verify,
/// parse) in front of a handler that answers 200.
pub fn verified(secret: SigningSecret) -> Result<Router, BoxError> {
    async fn hook(VerifiedEvent(event): VerifiedEvent) -> StatusCode {
        drop(std::hint::black_box(event));
        StatusCode::OK
    }
    Ok(Router::new()
        .fallback(hook)
        .with_state(Receiver::new(secret)?))
}

/// A bare axum handler: reads the body and answers 200, nothing else.
pub fn bare() -> Router {
    Router::new()
        .fallback(|_body: Bytes| async { StatusCode::OK })
        .layer(DefaultBodyLimit::max(4 << 20))
}

struct Naive {
    verifier: Verifier,
    db: Mutex<rusqlite::Connection>,
}

/// The naive durable receiver: verify, parse, then one SQLite transaction per request (WAL,
/// `synchronous=FULL`, the same durability as the inbox) before the 200. A repeated delivery
/// id is answered 200 and not stored again.
pub fn naive(db: &Path, verifier: Verifier) -> Result<Router, BoxError> {
    let conn = rusqlite::Connection::open(db)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS deliveries (
             id TEXT PRIMARY KEY,
             received_at INTEGER NOT NULL,
             event_type TEXT,
             call_id TEXT,
             signature TEXT NOT NULL,
             body BLOB NOT NULL
         )",
    )?;
    let limit = verifier.max_body_len();
    let state = Arc::new(Naive {
        verifier,
        db: Mutex::new(conn),
    });
    Ok(Router::new()
        .fallback(naive_handle)
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state))
}

async fn naive_handle(State(rx): State<Arc<Naive>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let signature = headers
        .get("x-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let event = match rx.verifier.verify_and_parse(&body, signature) {
        Ok(event) => event,
        Err(e) => return StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::UNAUTHORIZED),
    };
    let id = event.delivery_id().map(|d| d.to_string());
    let call = event.call_id().map(|c| c.to_string());
    let kind = event.event_type().to_string();
    let signature = signature.to_owned();
    let stored = tokio::task::spawn_blocking(move || -> Result<(), rusqlite::Error> {
        let mut db = rx.db.lock().unwrap_or_else(|p| p.into_inner());
        let tx = db.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        tx.execute(
            "INSERT OR IGNORE INTO deliveries VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            rusqlite::params![id, now, kind, call, signature, &body[..]],
        )?;
        tx.commit()
    })
    .await;
    match stored {
        Ok(Ok(())) => StatusCode::OK,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// Rows in the naive receiver's (or the Python receiver's) table.
pub fn stored_rows(db: &Path) -> Result<u64, BoxError> {
    let conn = rusqlite::Connection::open(db)?;
    Ok(conn.query_row("SELECT count(*) FROM deliveries", [], |r| {
        r.get::<_, i64>(0)
    })? as u64)
}

/// `scripts/python/receiver.py` running under a Python interpreter, until dropped (which
/// closes its input: it stops then).
#[derive(Debug)]
pub struct PythonReceiver {
    child: Child,
    stdin: Option<ChildStdin>,
    url: String,
}

impl PythonReceiver {
    /// Starts `python script --db db --secret secret` and waits for its `listening on` line.
    pub fn start(python: &Path, script: &Path, db: &Path, secret: &str) -> Result<Self, BoxError> {
        let mut child = Command::new(python)
            .arg(script)
            .arg("--db")
            .arg(db)
            .args(["--secret", secret])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", python.display()))?;
        let stdin = child.stdin.take();
        let mut line = String::new();
        if let Some(out) = child.stdout.take() {
            BufReader::new(out).read_line(&mut line)?;
        }
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .map(|u| format!("{u}/atoms"));
        match url {
            Some(url) => Ok(Self { child, stdin, url }),
            None => {
                let _ = child.kill();
                let _ = child.wait();
                Err("the Python receiver did not start (its error is above)".into())
            }
        }
    }

    /// Where to POST.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for PythonReceiver {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::{client, closed_loop, Deliveries};

    #[test]
    fn the_naive_receiver_stores_every_delivery_it_answers() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("naive.db");
        let secret = SigningSecret::new("bench");
        let router = naive(&db, Verifier::new(secret.clone()).unwrap()).unwrap();
        let server = Background::serve(router, 1).unwrap();
        let template = crate::payload::load_default().unwrap().pop().unwrap().body;
        let d = Arc::new(Deliveries::new(template, secret.clone()).unwrap());
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let c = client().unwrap();
        rt.block_on(closed_loop(&c, server.url(), &d, 2)).unwrap();
        assert_eq!(stored_rows(&db).unwrap(), d.made());
        // A bad signature is refused.
        let status = rt.block_on(async {
            c.post(server.url())
                .header("x-signature", "00".repeat(32))
                .body("{}")
                .send()
                .await
                .unwrap()
                .status()
        });
        assert_eq!(status, 401);
        drop(server);

        // The inbox and the extractor answer the same deliveries with 200.
        let (router, store) = inbox(&dir.path().join("inbox.db"), secret.clone()).unwrap();
        let server = Background::serve(router, 1).unwrap();
        let verified = Background::serve(verified(secret).unwrap(), 1).unwrap();
        let bare = Background::serve(bare(), 1).unwrap();
        let before = d.made();
        rt.block_on(closed_loop(&c, server.url(), &d, 1)).unwrap();
        let stats = rt
            .block_on(store.stats(std::time::SystemTime::now()))
            .unwrap();
        assert_eq!(
            stats.count(atoms_webhook_receiver::Status::Pending),
            d.made() - before
        );
        rt.block_on(closed_loop(&c, verified.url(), &d, 1)).unwrap();
        rt.block_on(closed_loop(&c, bare.url(), &d, 1)).unwrap();
    }
}
