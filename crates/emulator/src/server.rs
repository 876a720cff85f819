//! The top layer: the composed application (handlers behind their middleware, a JSON 404,
//! the response-wide layers), the counting listener, and the serve loop with graceful then
//! forced shutdown.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::{
    middleware::{from_fn, from_fn_with_state, map_response},
    Router,
};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::middleware::{gate, log_request, require_key};
use crate::responses::{json_errors, not_found};
use crate::shared::{DoneGuard, Shared};
use crate::{admin, api};

/// After a stop is requested, requests in flight get this long to finish before the server
/// drops them.
pub(crate) const GRACE: Duration = Duration::from_secs(1);

/// The whole application: the API behind the gate (hits, faults, auth), the emulator-only
/// routes under `/_emulator/...` behind the key check, a JSON 404 for anything else, and the
/// response-wide layers.
pub(crate) fn app(shared: Arc<Shared>) -> Router {
    let api = api::router()
        .route_layer(from_fn_with_state(shared.clone(), gate))
        .with_state(shared.clone());
    let admin = admin::router()
        .route_layer(from_fn_with_state(shared.clone(), require_key))
        .with_state(shared);
    Router::new()
        .merge(api)
        .merge(admin)
        .fallback(not_found)
        .layer(map_response(json_errors))
        .layer(from_fn(log_request))
}

/// A TCP listener that counts accepted connections and turns Nagle off (small JSON answers
/// on kept-alive connections would otherwise wait for delayed ACKs).
pub(crate) struct CountingListener {
    inner: TcpListener,
    shared: Arc<Shared>,
}

impl axum::serve::Listener for CountingListener {
    type Io = TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (io, addr) = axum::serve::Listener::accept(&mut self.inner).await;
        if let Err(e) = io.set_nodelay(true) {
            tracing::debug!("could not set TCP_NODELAY: {e}");
        }
        self.shared.connection_accepted();
        (io, addr)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// Serves until `stop` turns true (or its sender is dropped): then stops accepting, lets open
/// requests finish for up to [`GRACE`], and returns. `done` is released on return.
pub(crate) async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    stop: watch::Receiver<bool>,
    done: DoneGuard,
) {
    let app = app(shared.clone());
    let listener = CountingListener {
        inner: listener,
        shared,
    };
    let mut graceful_stop = stop.clone();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        let _ = graceful_stop.wait_for(|stopped| *stopped).await;
    });
    let mut forced_stop = stop;
    let deadline = async move {
        let _ = forced_stop.wait_for(|stopped| *stopped).await;
        tokio::time::sleep(GRACE).await;
    };
    tokio::select! {
        result = server => {
            if let Err(e) = result {
                tracing::error!("emulator server failed: {e}");
            }
        }
        () = deadline => tracing::debug!("grace period over; dropping open requests"),
    }
    drop(done);
}
