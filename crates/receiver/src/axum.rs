//! axum and tower integration (feature `axum`).
//!
//! - [`VerifiedEvent`]: an extractor that reads the raw body with the receiver's size limit,
//!   verifies it, then parses it; it takes the [`Receiver`] from the router state (`FromRef`).
//!   It rejects with 405 / 413 / 401 / 400 and a body that leaks nothing.
//! - [`InboxService`]: a tower `Service` that ingests into an [`Inbox`] and answers 2xx only
//!   after the durable write; mount it with axum's `route_service` or serve it with hyper.
//! - [`InboxLayer`]: a tower `Layer` that serves one path with an [`InboxService`] and passes
//!   every other request to the service it wraps.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use ::axum::extract::{FromRef, FromRequest, Request};
use ::axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};

use crate::core::{Receiver, Rejection, Reply};
use crate::inbox::Inbox;
use atoms_webhook_models::WebhookEvent;

/// The error type of bodies this module hands back.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

const BAD_BODY: Reply = Reply {
    status: http::StatusCode::BAD_REQUEST,
    body: "bad request\n",
};

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let (parts, body) = self.to_response().into_parts();
        Response::from_parts(parts, ::axum::body::Body::from(body))
    }
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        self.reply().into_response()
    }
}

/// Why reading a body failed: too large, or the connection broke.
enum ReadError {
    TooLarge(Rejection),
    Broken,
}

impl ReadError {
    fn reply(&self) -> Reply {
        match self {
            ReadError::TooLarge(r) => r.reply(),
            ReadError::Broken => BAD_BODY,
        }
    }
}

/// Reads a whole body, refusing it as soon as it passes `limit` bytes.
async fn read_limited<B>(body: B, limit: usize) -> Result<Bytes, ReadError>
where
    B: http_body::Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
            Err(ReadError::TooLarge(Rejection::TooLarge { limit }))
        }
        Err(_) => Err(ReadError::Broken),
    }
}

/// A delivery that was read as raw bytes (within the size limit), verified, and only then
/// parsed. Its rejection is a [`Rejection`], answered with its status and a short body.
///
/// The state must provide a [`Receiver`] (`Receiver: FromRef<S>`; a `Receiver` state works
/// as it is).
///
/// ```
/// use atoms_webhook_receiver::{axum::VerifiedEvent, Receiver};
/// use axum::{routing::post, Router};
///
/// async fn hook(VerifiedEvent(event): VerifiedEvent) -> &'static str {
///     println!("{} for call {:?}", event.event_type(), event.call_id());
///     "ok"
/// }
/// let app: Router = Router::new()
///     .route("/webhooks/atoms", post(hook))
///     .with_state(Receiver::new("whsec")?);
/// # Ok::<(), atoms_webhook_receiver::ConfigError>(())
/// ```
#[derive(Debug)]
pub struct VerifiedEvent(pub WebhookEvent);

impl<S> FromRequest<S> for VerifiedEvent
where
    Receiver: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Rejection;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let receiver = Receiver::from_ref(state);
        let (parts, body) = req.into_parts();
        receiver.check_head(&parts.method, &parts.headers)?;
        let bytes = match read_limited(body, receiver.max_body_len()).await {
            Ok(b) => b,
            Err(ReadError::TooLarge(r)) => return Err(r),
            // A broken upload cannot be verified.
            Err(ReadError::Broken) => return Err(Rejection::Unparseable),
        };
        receiver
            .receive(&parts.method, &parts.headers, &bytes)
            .into_event()
            .map(VerifiedEvent)
    }
}

/// The response type of [`InboxService`] (a `text/plain` reply).
pub type InboxResponse = http::Response<Full<Bytes>>;

fn to_http(reply: Reply) -> InboxResponse {
    let (parts, body) = reply.to_response().into_parts();
    http::Response::from_parts(parts, Full::new(body))
}

/// A tower `Service` that ingests each request into an [`Inbox`]: 2xx only once the delivery
/// is durable (or was a duplicate, or a dead-lettered unparseable body), 405 / 413 / 401 for
/// refused requests (counted), 503 when the store failed.
///
/// Behind axum: `Router::new().route_service("/webhooks/atoms", InboxService::new(inbox))`.
/// Behind hyper: `hyper_util::service::TowerToHyperService::new(InboxService::new(inbox))`.
#[derive(Clone, Debug)]
pub struct InboxService {
    inbox: Inbox,
}

impl InboxService {
    /// A service over `inbox`.
    pub fn new(inbox: Inbox) -> Self {
        Self { inbox }
    }

    /// Reads, verifies and stores one request; the reply to send.
    pub async fn handle<B>(inbox: &Inbox, request: http::Request<B>) -> Reply
    where
        B: http_body::Body<Data = Bytes>,
        B::Error: Into<BoxError>,
    {
        let (parts, body) = request.into_parts();
        if let Err(r) = inbox.receiver().check_head(&parts.method, &parts.headers) {
            return inbox.reject(r).await.reply();
        }
        match read_limited(body, inbox.receiver().max_body_len()).await {
            Ok(bytes) => inbox
                .ingest(&parts.method, &parts.headers, &bytes)
                .await
                .reply(),
            Err(ReadError::TooLarge(r)) => inbox.reject(r).await.reply(),
            Err(e) => e.reply(),
        }
    }
}

impl<B> tower_service::Service<http::Request<B>> for InboxService
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = InboxResponse;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<InboxResponse, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let inbox = self.inbox.clone();
        Box::pin(async move { Ok(to_http(InboxService::handle(&inbox, request).await)) })
    }
}

/// A tower `Layer` that answers requests to one path with an [`InboxService`] and passes the
/// others to the wrapped service.
///
/// ```
/// use std::sync::Arc;
/// use atoms_webhook_receiver::{axum::InboxLayer, Inbox, Receiver, SqliteStore};
/// use axum::{routing::get, Router};
/// # let dir = tempfile::tempdir()?;
/// let inbox = Inbox::new(
///     Receiver::new("whsec")?,
///     Arc::new(SqliteStore::open(dir.path().join("inbox.db"))?),
/// );
/// let app: Router = Router::new()
///     .route("/health", get(|| async { "up" }))
///     .layer(InboxLayer::new("/webhooks/atoms", inbox));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct InboxLayer {
    path: String,
    service: InboxService,
}

impl InboxLayer {
    /// Serves `path` (exact match) with `inbox`.
    pub fn new(path: impl Into<String>, inbox: Inbox) -> Self {
        Self {
            path: path.into(),
            service: InboxService::new(inbox),
        }
    }
}

impl<S> tower_layer::Layer<S> for InboxLayer {
    type Service = InboxMount<S>;

    fn layer(&self, inner: S) -> InboxMount<S> {
        InboxMount {
            path: self.path.clone(),
            service: self.service.clone(),
            inner,
        }
    }
}

/// The service made by [`InboxLayer`].
#[derive(Clone, Debug)]
pub struct InboxMount<S> {
    path: String,
    service: InboxService,
    inner: S,
}

/// The body of [`InboxMount`]'s responses: the inbox's replies and the wrapped service's
/// bodies, boxed into one type.
pub type MountBody = UnsyncBoxBody<Bytes, BoxError>;

impl<S, B, ResB> tower_service::Service<http::Request<B>> for InboxMount<S>
where
    S: tower_service::Service<http::Request<B>, Response = http::Response<ResB>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
    ResB: http_body::Body<Data = Bytes> + Send + 'static,
    ResB::Error: Into<BoxError>,
{
    type Response = http::Response<MountBody>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        if request.uri().path() == self.path {
            let inbox = self.service.inbox.clone();
            return Box::pin(async move {
                let reply = InboxService::handle(&inbox, request).await;
                Ok(to_http(reply).map(|b| b.map_err(|never| match never {}).boxed_unsync()))
            });
        }
        // The clone that was made ready is the one called (tower's usual pattern).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            let res = inner.call(request).await?;
            Ok(res.map(|b| b.map_err(Into::into).boxed_unsync()))
        })
    }
}
