//! The protocol between an operation in progress and the client that drives it: the operation
//! says what to do next ([`Next`]), the client does it and hands back what came of it.

use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use tracing::Span;

use crate::error::Error;

/// What the client does next for an operation in progress.
#[derive(Debug)]
#[must_use]
pub enum Next<T> {
    /// Send this request and hand its response (or transport error) to
    /// [`Operation::receive`].
    Send(Request<Vec<u8>>),
    /// Sleep this long, then call [`Operation::resume`].
    Sleep(Duration),
    /// The operation is over.
    Done(Result<T, Error>),
}

/// An operation of one or more requests, without the I/O: a single call ([`crate::Call`]) or
/// a flow of several ([`crate::flow`]). Retries happen inside; the client only sends and
/// sleeps:
///
/// ```
/// use atoms_webhook_transport::{Bytes, Error, Next, Operation};
///
/// /// A whole client: `send` is any HTTP client, `sleep` any timer.
/// fn drive<O: Operation>(
///     mut op: O,
///     send: impl Fn(http::Request<Vec<u8>>) -> Result<http::Response<Bytes>, Error>,
///     sleep: impl Fn(std::time::Duration),
/// ) -> Result<O::Output, Error> {
///     let _span = op.span().clone().entered();
///     let mut next = op.resume();
///     loop {
///         next = match next {
///             Next::Send(request) => op.receive(send(request)),
///             Next::Sleep(delay) => {
///                 sleep(delay);
///                 op.resume()
///             }
///             Next::Done(result) => return result,
///         };
///     }
/// }
/// ```
///
/// See the crate documentation for a complete example with a flow.
pub trait Operation {
    /// What the operation returns.
    type Output;

    /// The tracing span of the operation: enter it (or instrument the future with it) around
    /// the whole drive, so that the spans of the calls nest inside it.
    fn span(&self) -> &Span;

    /// The first step, and the step after each [`Next::Sleep`].
    fn resume(&mut self) -> Next<Self::Output>;

    /// The step after a [`Next::Send`], given what came of the request: the response (any
    /// status; the body as received, in a [`Bytes`] so that a client can hand over its own
    /// buffer without copying it), or the client's error (mapped to [`Error::Transport`] or
    /// [`Error::Timeout`], with the [`crate::Stage`] it reached).
    fn receive(&mut self, response: Result<Response<Bytes>, Error>) -> Next<Self::Output>;
}
