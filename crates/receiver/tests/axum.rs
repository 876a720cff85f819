//! axum and tower integration over real HTTP on 127.0.0.1: the example app (the extractor),
//! the tower service behind plain hyper, and the layer inside an axum router.

mod common;

#[path = "../examples/axum_receiver.rs"]
mod example;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use atoms_webhook_receiver::axum::{InboxLayer, InboxService};
use atoms_webhook_receiver::{Inbox, Receiver, Rejection, SqliteStore, Status, Store};
use axum::routing::get;
use axum::Router;
use bytes::Bytes;
use common::*;
use http::{HeaderMap, Method, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;

/// A request body sent in chunks, with no announced length.
struct Chunks(VecDeque<Bytes>);

impl http_body::Body for Chunks {
    type Data = Bytes;
    type Error = std::convert::Infallible;
    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        Poll::Ready(self.0.pop_front().map(|b| Ok(http_body::Frame::data(b))))
    }
}

async fn send_body<B>(
    addr: SocketAddr,
    method: Method,
    path: &str,
    headers: HeaderMap,
    body: B,
) -> (StatusCode, String)
where
    B: http_body::Body<Data = Bytes> + Send + Unpin + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let mut req = http::Request::builder()
        .method(method)
        .uri(path)
        .header("host", addr.to_string())
        .body(body)
        .unwrap();
    req.headers_mut().extend(headers);
    let res = sender.send_request(req).await.unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

async fn send(
    addr: SocketAddr,
    method: Method,
    path: &str,
    headers: HeaderMap,
    body: &[u8],
) -> (StatusCode, String) {
    send_body(
        addr,
        method,
        path,
        headers,
        Full::new(Bytes::copy_from_slice(body)),
    )
    .await
}

async fn serve_axum(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

#[tokio::test]
async fn the_example_answers_401_413_400_405_and_200() {
    let receiver = Receiver::new(secret()).unwrap().max_body(4096);
    let addr = serve_axum(example::app(receiver)).await;
    let path = "/webhooks/atoms";
    let b = body(0, &object_id(t0(), 1), "CALL-1778226705739-7e4c17");

    assert_eq!(
        send(addr, Method::POST, path, headers(&b), &b).await,
        (StatusCode::OK, "ok".to_owned())
    );
    let (status, text) = send(addr, Method::POST, path, HeaderMap::new(), &b).await;
    assert_eq!(
        (status, text.as_str()),
        (StatusCode::UNAUTHORIZED, "unauthorized\n")
    );
    let wrong = headers_with(&atoms_webhook_models::SigningSecret::new("other"), &b);
    assert_eq!(
        send(addr, Method::POST, path, wrong, &b).await.0,
        StatusCode::UNAUTHORIZED
    );
    // Oversized, announced by Content-Length: refused before reading.
    let big = vec![b' '; 5000];
    let (status, text) = send(addr, Method::POST, path, headers(&big), &big).await;
    assert_eq!(
        (status, text.as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, "payload too large\n")
    );
    // Oversized and chunked: refused while reading.
    let chunks = Chunks(VecDeque::from(vec![Bytes::from(vec![b' '; 3000]); 2]));
    let (status, _) = send_body(addr, Method::POST, path, headers(&big), chunks).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    // Signed but not a delivery: 400 (no inbox here), nothing echoed.
    let junk = b"{\"transcript\": \"secret words".to_vec();
    let (status, text) = send(addr, Method::POST, path, headers(&junk), &junk).await;
    assert_eq!(
        (status, text.as_str()),
        (StatusCode::BAD_REQUEST, "bad request\n")
    );
    assert_eq!(
        send(addr, Method::GET, path, HeaderMap::new(), b"").await.0,
        StatusCode::METHOD_NOT_ALLOWED
    );
}

fn sqlite_inbox(dir: &tempfile::TempDir) -> (Inbox, Arc<SqliteStore>) {
    let store = Arc::new(SqliteStore::open(dir.path().join("inbox.db")).unwrap());
    let inbox = Inbox::new(
        Receiver::new(secret()).unwrap().max_body(4096),
        store.clone(),
    );
    (inbox, store)
}

#[tokio::test]
async fn the_tower_service_behind_plain_hyper() {
    let dir = tempfile::tempdir().unwrap();
    let (inbox, store) = sqlite_inbox(&dir);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let service = InboxService::new(inbox);
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let svc = hyper_util::service::TowerToHyperService::new(service.clone());
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });

    let id = object_id(t0(), 2);
    let b = body(1, &id, "CALL-2");
    assert_eq!(
        send(addr, Method::POST, "/any", headers(&b), &b).await.0,
        StatusCode::OK
    );
    // Answered 2xx: it is in the store.
    let stored = store.get(&id).await.unwrap().unwrap();
    assert_eq!(stored.body, b);
    assert_eq!(stored.status, Status::Pending);
    assert_eq!(
        send(addr, Method::POST, "/any", headers(&b), &b).await.0,
        StatusCode::OK
    );
    assert_eq!(
        send(addr, Method::POST, "/any", HeaderMap::new(), &b)
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    let big = vec![b' '; 5000];
    assert_eq!(
        send(addr, Method::POST, "/any", headers(&big), &big)
            .await
            .0,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    assert_eq!(
        send(addr, Method::PUT, "/any", headers(&b), &b).await.0,
        StatusCode::METHOD_NOT_ALLOWED
    );
    // With an inbox, a signed body that does not parse is kept and answered 2xx.
    let junk = b"not json at all".to_vec();
    assert_eq!(
        send(addr, Method::POST, "/any", headers(&junk), &junk)
            .await
            .0,
        StatusCode::OK
    );

    let stats = store.stats(t0()).await.unwrap();
    assert_eq!(stats.duplicates, 1);
    assert_eq!(stats.unparseable, 1);
    assert_eq!(stats.count(Status::Pending), 1);
    assert_eq!(stats.count(Status::Dead), 1);
    assert_eq!(stats.rejected(Rejection::MissingSignature), 1);
    assert_eq!(stats.rejected(Rejection::TooLarge { limit: 0 }), 1);
    assert_eq!(stats.rejected(Rejection::MethodNotAllowed), 1);
}

#[tokio::test]
async fn the_layer_mounts_the_inbox_in_an_axum_router() {
    let dir = tempfile::tempdir().unwrap();
    let (inbox, store) = sqlite_inbox(&dir);
    let app = Router::new()
        .route("/health", get(|| async { "up" }))
        .layer(InboxLayer::new("/webhooks/atoms", inbox));
    let addr = serve_axum(app).await;
    assert_eq!(
        send(addr, Method::GET, "/health", HeaderMap::new(), b"").await,
        (StatusCode::OK, "up".to_owned())
    );
    let id = object_id(t0(), 3);
    let b = body(2, &id, "CALL-3");
    assert_eq!(
        send(addr, Method::POST, "/webhooks/atoms", headers(&b), &b).await,
        (StatusCode::OK, "ok\n".to_owned())
    );
    assert!(store.get(&id).await.unwrap().is_some());
    assert_eq!(
        send(addr, Method::POST, "/webhooks/atoms", HeaderMap::new(), &b)
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
}
