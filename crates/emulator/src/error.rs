//! Why an emulator could not start.

use std::net::SocketAddr;

/// An error starting the emulator.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmulatorError {
    /// The listening socket could not be opened (address in use, not allowed, ...).
    #[error("could not listen on {addr}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// [`EmulatorBuilder::start`](crate::EmulatorBuilder::start) was polled outside a tokio
    /// runtime (use [`EmulatorBuilder::start_background`](crate::EmulatorBuilder::start_background)
    /// from code without one).
    #[error(
        "EmulatorBuilder::start must run inside a tokio runtime; use start_background otherwise"
    )]
    NoRuntime,
    /// The background runtime could not be built.
    #[error("could not build the emulator's tokio runtime")]
    Runtime(#[source] std::io::Error),
    /// The background thread could not be spawned.
    #[error("could not spawn the emulator thread")]
    Thread(#[source] std::io::Error),
    /// The background thread ended before it reported that it was serving.
    #[error("the emulator thread ended before it started serving")]
    ThreadExited,
    /// The HTTP client that sends deliveries could not be built (TLS back end unavailable).
    #[error("could not build the delivery HTTP client")]
    DeliveryClient(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A seeded agent's id is not a 24-character hexadecimal ObjectId.
    #[error("seeded agent id {id:?} is not a 24-character hexadecimal id")]
    InvalidAgentId {
        /// The id given.
        id: String,
    },
}
