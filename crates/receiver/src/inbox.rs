//! Ingest: the receive core in front of a [`Store`]. A delivery is answered 2xx only once it
//! is durably stored.

use std::sync::Arc;

use http::{HeaderMap, Method};
use sha2::{Digest, Sha256};
use tokio::sync::Notify;

use crate::core::{Outcome, Receiver, Rejection, Reply, SIGNATURE_HEADERS};
use crate::store::{Inserted, NewDelivery, Store, StoreError};

/// What happened to one request.
#[derive(Debug)]
#[non_exhaustive]
pub enum Ingested {
    /// Verified, parsed and stored for processing.
    Stored {
        /// The delivery id.
        id: String,
    },
    /// Verified, but a delivery with this id was already stored: counted, not stored again.
    Duplicate {
        /// The delivery id.
        id: String,
    },
    /// Verified but unparseable: stored as a dead letter (keyed by `sha256:<hex>` of the body
    /// when it had no readable id).
    DeadLetter {
        /// The key it was stored under.
        id: String,
    },
    /// Refused (and counted by reason).
    Rejected(Rejection),
    /// The store failed: nothing was accepted.
    Failed(StoreError),
}

impl Ingested {
    /// The answer: 200 for stored, duplicate and dead-lettered deliveries, the rejection's
    /// status for refused ones, 503 when the store failed.
    pub fn reply(&self) -> Reply {
        match self {
            Ingested::Stored { .. } | Ingested::Duplicate { .. } | Ingested::DeadLetter { .. } => {
                Reply::OK
            }
            Ingested::Rejected(r) => r.reply(),
            Ingested::Failed(_) => Reply::UNAVAILABLE,
        }
    }
}

/// A receiver with a durable inbox behind it.
///
/// ```
/// use std::sync::Arc;
/// use atoms_webhook_models::{sign, SigningSecret};
/// use atoms_webhook_receiver::{Inbox, Ingested, Receiver, SqliteStore};
/// use http::{HeaderMap, Method};
/// # let dir = tempfile::tempdir()?;
/// let secret = SigningSecret::new("whsec");
/// let inbox = Inbox::new(
///     Receiver::new(secret.clone())?,
///     Arc::new(SqliteStore::open(dir.path().join("inbox.db"))?),
/// );
/// let body = br#"{"url":"u","description":"d","event":"a.pre-conversation","id":"69fd96118fd277fc807e4c23",
///   "metadata":{"agentId":"a","eventType":"pre-conversation","callId":"CALL-1"}}"#;
/// let mut headers = HeaderMap::new();
/// headers.insert("x-signature", sign(&secret, body).parse()?);
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let done = inbox.ingest(&Method::POST, &headers, body).await;
/// assert!(matches!(done, Ingested::Stored { .. }));
/// assert_eq!(done.reply().status, 200); // only now is it safe to answer 2xx
/// # });
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Inbox {
    receiver: Receiver,
    store: Arc<dyn Store>,
    wake: Option<Arc<Notify>>,
}

impl std::fmt::Debug for Inbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inbox")
            .field("receiver", &self.receiver)
            .finish_non_exhaustive()
    }
}

impl Inbox {
    /// An inbox: `receiver` decides, `store` keeps.
    pub fn new(receiver: Receiver, store: Arc<dyn Store>) -> Self {
        Self {
            receiver,
            store,
            wake: None,
        }
    }

    /// Wakes a worker of this process (one waiting on the same `Notify` with
    /// [`Worker::wake_on`](crate::Worker::wake_on)) after each new delivery is stored, so it
    /// does not wait for its poll interval.
    pub fn wake(mut self, notify: Arc<Notify>) -> Self {
        self.wake = Some(notify);
        self
    }

    /// The receive core.
    pub fn receiver(&self) -> &Receiver {
        &self.receiver
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Verifies one request and, when it is authentic, stores it. Await the result before
    /// answering: its [`Ingested::reply`] is 2xx only once the delivery is durable.
    pub async fn ingest(&self, method: &Method, headers: &HeaderMap, body: &[u8]) -> Ingested {
        let received_at = self.receiver.now();
        let delivery = match self.receiver.receive(method, headers, body) {
            Outcome::Rejected(r) => return self.reject(r).await,
            Outcome::Verified(event) => {
                let Some(id) = event.delivery_id().map(|i| i.as_str().to_owned()) else {
                    // Every known event has an id; an unknown one may not.
                    return self
                        .dead_letter(
                            headers,
                            body,
                            received_at,
                            None,
                            None,
                            None,
                            "the delivery has no id",
                        )
                        .await;
                };
                let mut d =
                    NewDelivery::new(id, body, received_at).event_type(event.event_type().as_str());
                d.call_id = event.call_id().map(|c| c.as_str().to_owned());
                with_headers(d, headers)
            }
            Outcome::Unparseable(u) => {
                let error = u.error.to_string();
                return self
                    .dead_letter(
                        headers,
                        body,
                        received_at,
                        u.id,
                        u.event_type,
                        u.call_id,
                        &error,
                    )
                    .await;
            }
        };
        let id = delivery.id.clone();
        match self.store.ingest(delivery).await {
            Ok(Inserted::New) => {
                if let Some(wake) = &self.wake {
                    wake.notify_one();
                }
                Ingested::Stored { id }
            }
            Ok(Inserted::Duplicate) => Ingested::Duplicate { id },
            Err(e) => Ingested::Failed(e),
        }
    }

    /// [`Inbox::ingest`] for a whole `http::Request`.
    pub async fn ingest_request<B: AsRef<[u8]>>(&self, request: &http::Request<B>) -> Ingested {
        self.ingest(request.method(), request.headers(), request.body().as_ref())
            .await
    }

    /// Counts a rejection decided before the body was read (for example by
    /// [`Receiver::check_head`]).
    pub async fn reject(&self, rejection: Rejection) -> Ingested {
        // A failure to count does not change the answer.
        let _ = self.store.count_rejection(rejection).await;
        Ingested::Rejected(rejection)
    }

    #[allow(clippy::too_many_arguments)]
    async fn dead_letter(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        received_at: std::time::SystemTime,
        id: Option<String>,
        event_type: Option<String>,
        call_id: Option<String>,
        error: &str,
    ) -> Ingested {
        let id = id.unwrap_or_else(|| body_key(body));
        let mut d = NewDelivery::new(id.clone(), body, received_at)
            .event_type(event_type.unwrap_or_default())
            .parse_error(error);
        d.call_id = call_id;
        match self.store.ingest(with_headers(d, headers)).await {
            Ok(Inserted::New) => Ingested::DeadLetter { id },
            Ok(Inserted::Duplicate) => Ingested::Duplicate { id },
            Err(e) => Ingested::Failed(e),
        }
    }
}

/// `sha256:<hex>` of a body: the key of a dead letter with no readable id.
pub fn body_key(body: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(body)))
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn with_headers(mut d: NewDelivery, headers: &HeaderMap) -> NewDelivery {
    d.content_type = header(headers, "content-type");
    d.signature = SIGNATURE_HEADERS
        .iter()
        .find_map(|name| header(headers, name));
    d.user_agent = header(headers, "user-agent");
    d
}
