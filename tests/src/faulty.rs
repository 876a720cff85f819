//! A loopback HTTP/1.1 server that misbehaves on purpose: it answers each request with the next
//! [`Behavior`] of a script and counts the requests it received.
//!
//! Plain `std` (threads and `TcpListener`, no runtime, no dependency) so that any package's
//! tests can include this file with `#[path]` (the CLI's do). Bounded: it accepts at most
//! [`MAX_CONNECTIONS`] connections during at most [`LIFETIME`], every behaviour ends by itself,
//! and dropping the server stops and joins every thread.
//!
//! Every answer carries `Connection: close`, so each attempt of a client is one connection and
//! one request.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The server stops accepting after this long, whatever the script says.
pub const LIFETIME: Duration = Duration::from_secs(60);

/// The server stops accepting after this many connections.
pub const MAX_CONNECTIONS: usize = 64;

/// The longest any one behaviour (and the reading of a request) may take.
pub const MAX_BEHAVIOR: Duration = Duration::from_secs(20);

/// The largest request body read (and kept).
pub const MAX_REQUEST_BODY: usize = 4 * 1024 * 1024;

/// How often blocked loops look at the stop flag.
const POLL: Duration = Duration::from_millis(20);

/// The answer given once the script is exhausted: a status no client retries, with a message
/// that says what happened.
pub const EXHAUSTED_STATUS: u16 = 418;

/// An HTTP answer: status, headers (sent in order) and body. `Content-Length` and
/// `Connection: close` are added unless the headers set a length or a transfer encoding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// Header names and values, sent as given.
    pub headers: Vec<(String, String)>,
    /// The body bytes, sent as given (any bytes, not only UTF-8).
    pub body: Vec<u8>,
}

impl Reply {
    /// A reply with this status and no header or body.
    pub fn new(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// A JSON reply: this status, `Content-Type: application/json`, this body.
    pub fn json(status: u16, body: &str) -> Self {
        Self::new(status)
            .header("content-type", "application/json")
            .body(body)
    }

    /// Adds a header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// The status line and headers, announcing `content_length` body bytes (unless the
    /// headers already frame the body).
    pub fn head(&self, content_length: u64) -> Vec<u8> {
        let mut head = format!("HTTP/1.1 {} {}\r\n", self.status, reason(self.status));
        let framed = self.headers.iter().any(|(k, _)| {
            k.eq_ignore_ascii_case("content-length") || k.eq_ignore_ascii_case("transfer-encoding")
        });
        for (k, v) in &self.headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        if !framed {
            head.push_str(&format!("content-length: {content_length}\r\n"));
        }
        head.push_str("connection: close\r\n\r\n");
        head.into_bytes()
    }
}

/// What the server does with one request (after reading all of it).
#[derive(Clone, Debug)]
pub enum Behavior {
    /// Answer properly.
    Respond(Reply),
    /// Send these bytes as they are, then close.
    Raw(Vec<u8>),
    /// Close the connection without sending a byte.
    HangUp,
    /// Send the head announcing the whole body, then only its first `sent` bytes, then close
    /// (a FIN: the body is cut short).
    Truncated {
        /// The answer whose body is cut.
        reply: Reply,
        /// How many body bytes are sent.
        sent: usize,
    },
    /// Send nothing at all (the headers never come) until the client hangs up, or `max`.
    Silent {
        /// The longest wait (at most [`MAX_BEHAVIOR`]).
        max: Duration,
    },
    /// Send the head at once, then the body one byte every `every` (a slow body).
    Trickle {
        /// The answer to trickle.
        reply: Reply,
        /// The pause before each byte.
        every: Duration,
    },
    /// A 200 whose body is `len` bytes of valid JSON (`{"status":true,"data":[]` and spaces),
    /// with a `Content-Length`, or chunked. Stops when the client goes away.
    Large {
        /// The body length in bytes.
        len: u64,
        /// Chunked transfer encoding instead of a `Content-Length`.
        chunked: bool,
    },
    /// Hands the connection to a function, then drops it (no graceful close): for what plain
    /// `std` cannot do, such as a reset (see `atoms_webhook_tests::reset_mid_body`).
    Custom(fn(&mut TcpStream)),
}

/// One request as the server saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seen {
    /// The method.
    pub method: String,
    /// The request target (path and query).
    pub target: String,
    /// The headers, names in lower case, in order.
    pub headers: Vec<(String, String)>,
    /// The body (as announced by `Content-Length`).
    pub body: Vec<u8>,
}

impl Seen {
    /// The first value of a header (name in any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl std::fmt::Display for Seen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.method, self.target)
    }
}

struct State {
    script: Mutex<VecDeque<Behavior>>,
    seen: Mutex<Vec<Seen>>,
    connections: AtomicUsize,
    stop: AtomicBool,
    handlers: Mutex<Vec<JoinHandle<()>>>,
}

impl State {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }
}

/// A running misbehaving server on `127.0.0.1`. Dropping it stops it.
pub struct FaultServer {
    addr: SocketAddr,
    state: Arc<State>,
    acceptor: Option<JoinHandle<()>>,
}

impl FaultServer {
    /// Starts a server that answers the n-th request with the n-th behaviour of `script`, and
    /// every request after the last with [`EXHAUSTED_STATUS`].
    pub fn start(script: impl IntoIterator<Item = Behavior>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let state = Arc::new(State {
            script: Mutex::new(script.into_iter().collect()),
            seen: Mutex::new(Vec::new()),
            connections: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
            handlers: Mutex::new(Vec::new()),
        });
        let acceptor = {
            let state = state.clone();
            std::thread::Builder::new()
                .name("fault-server".into())
                .spawn(move || accept_loop(listener, state))
                .expect("spawn the fault server")
        };
        Self {
            addr,
            state,
            acceptor: Some(acceptor),
        }
    }

    /// The base URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address listened on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// How many requests arrived (each counted once its head was read, before its behaviour).
    pub fn attempts(&self) -> usize {
        lock(&self.state.seen).len()
    }

    /// Every request received, in order.
    pub fn requests(&self) -> Vec<Seen> {
        lock(&self.state.seen).clone()
    }

    /// How many TCP connections were accepted.
    pub fn connections(&self) -> usize {
        self.state.connections.load(Ordering::SeqCst)
    }

    /// How many behaviours of the script are still unused.
    pub fn remaining(&self) -> usize {
        lock(&self.state.script).len()
    }
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        self.state.stop.store(true, Ordering::SeqCst);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
        let handlers = std::mem::take(&mut *lock(&self.state.handlers));
        for handler in handlers {
            let _ = handler.join();
        }
    }
}

/// A base URL on which nothing listens, held for as long as this value lives: connecting to
/// it is refused.
///
/// The port is the local port of a connected client socket kept open here, so no listener
/// can take it while the test runs (a port bound and released at once could be taken by
/// another test's server in between).
pub struct Refused {
    url: String,
    _held: (TcpListener, TcpStream, TcpStream),
}

impl Refused {
    /// Reserves a port on `127.0.0.1` that refuses connections.
    pub fn new() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let client = TcpStream::connect(listener.local_addr().expect("local address"))
            .expect("connect to our own listener");
        let (server, _) = listener.accept().expect("accept our own connection");
        let port = client.local_addr().expect("client address").port();
        Self {
            url: format!("http://127.0.0.1:{port}"),
            _held: (listener, client, server),
        }
    }

    /// The base URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        self.url.clone()
    }
}

impl Default for Refused {
    fn default() -> Self {
        Self::new()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panicking handler must not hide the counts from the test.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn accept_loop(listener: TcpListener, state: Arc<State>) {
    let deadline = Instant::now() + LIFETIME;
    let mut accepted = 0;
    while !state.stopped() && Instant::now() < deadline && accepted < MAX_CONNECTIONS {
        match listener.accept() {
            Ok((stream, _)) => {
                accepted += 1;
                state.connections.fetch_add(1, Ordering::SeqCst);
                let handler_state = state.clone();
                let spawned = std::thread::Builder::new()
                    .name("fault-conn".into())
                    .spawn(move || handle(stream, &handler_state));
                if let Ok(h) = spawned {
                    lock(&state.handlers).push(h);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => std::thread::sleep(POLL / 4),
            Err(_) => std::thread::sleep(POLL),
        }
    }
    // Dropping the listener: later connections are refused.
}

fn handle(mut stream: TcpStream, state: &State) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_nodelay(true);
    let _ = stream.set_read_timeout(Some(POLL));
    let _ = stream.set_write_timeout(Some(MAX_BEHAVIOR));
    let Some(seen) = read_request(&mut stream, state) else {
        return;
    };
    // Count and pick under one lock order (seen, then script) so counts match behaviours.
    let behavior = {
        let mut seen_all = lock(&state.seen);
        seen_all.push(seen);
        lock(&state.script).pop_front()
    };
    let behavior = behavior.unwrap_or_else(|| {
        Behavior::Respond(Reply::json(
            EXHAUSTED_STATUS,
            r#"{"status":false,"errors":["fault script exhausted: the client sent more requests than scripted"]}"#,
        ))
    });
    let graceful = run(&mut stream, behavior, state).unwrap_or(false);
    if graceful {
        close_gracefully(stream, state);
    }
}

/// Runs one behaviour; true when the connection should then be closed gracefully.
fn run(stream: &mut TcpStream, behavior: Behavior, state: &State) -> io::Result<bool> {
    match behavior {
        Behavior::Respond(reply) => {
            let mut out = reply.head(reply.body.len() as u64);
            out.extend_from_slice(&reply.body);
            stream.write_all(&out)?;
        }
        Behavior::Raw(bytes) => stream.write_all(&bytes)?,
        Behavior::HangUp => {}
        Behavior::Truncated { reply, sent } => {
            let mut out = reply.head(reply.body.len() as u64);
            out.extend_from_slice(&reply.body[..sent.min(reply.body.len())]);
            stream.write_all(&out)?;
        }
        Behavior::Silent { max } => {
            let deadline = Instant::now() + max.min(MAX_BEHAVIOR);
            let mut buf = [0u8; 1024];
            while !state.stopped() && Instant::now() < deadline {
                match stream.read(&mut buf) {
                    Ok(0) => break, // the client gave up
                    Ok(_) => {}
                    Err(e) if is_timeout(&e) => {}
                    Err(_) => break,
                }
            }
            return Ok(false);
        }
        Behavior::Trickle { reply, every } => {
            stream.write_all(&reply.head(reply.body.len() as u64))?;
            let deadline = Instant::now() + MAX_BEHAVIOR;
            for byte in &reply.body {
                if !pause(every, state, deadline) {
                    return Ok(false);
                }
                stream.write_all(std::slice::from_ref(byte))?;
            }
        }
        Behavior::Large { len, chunked } => {
            let reply = if chunked {
                Reply::json(200, "").header("transfer-encoding", "chunked")
            } else {
                Reply::json(200, "")
            };
            stream.write_all(&reply.head(len))?;
            write_large(stream, len, chunked, state)?;
        }
        Behavior::Custom(f) => {
            f(stream);
            return Ok(false);
        }
    }
    Ok(true)
}

/// Sleeps `d` in small steps; false when the server stops or the deadline passes first.
fn pause(d: Duration, state: &State, deadline: Instant) -> bool {
    let until = Instant::now() + d;
    while Instant::now() < until {
        if state.stopped() || Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(POLL.min(until.saturating_duration_since(Instant::now())));
    }
    true
}

/// Writes a `len`-byte valid JSON success body, `{"status":true,"data":[]` + spaces + `}`.
fn write_large(stream: &mut TcpStream, len: u64, chunked: bool, state: &State) -> io::Result<()> {
    const HEAD: &[u8] = br#"{"status":true,"data":[]"#;
    const CHUNK: usize = 64 * 1024;
    let deadline = Instant::now() + MAX_BEHAVIOR;
    let mut send = |data: &[u8]| -> io::Result<()> {
        if chunked {
            stream.write_all(format!("{:x}\r\n", data.len()).as_bytes())?;
            stream.write_all(data)?;
            stream.write_all(b"\r\n")
        } else {
            stream.write_all(data)
        }
    };
    let len = len.max(HEAD.len() as u64 + 1);
    send(HEAD)?;
    let mut left = len - HEAD.len() as u64 - 1;
    let spaces = vec![b' '; CHUNK];
    while left > 0 {
        if state.stopped() || Instant::now() >= deadline {
            return Err(io::Error::other("fault server stopped"));
        }
        let n = left.min(CHUNK as u64) as usize;
        send(&spaces[..n])?;
        left -= n as u64;
    }
    send(b"}")?;
    if chunked {
        stream.write_all(b"0\r\n\r\n")?;
    }
    Ok(())
}

/// Reads one request (head and `Content-Length` body). `None` when the client sent nothing
/// or gave up, or the server stopped.
fn read_request(stream: &mut TcpStream, state: &State) -> Option<Seen> {
    let deadline = Instant::now() + MAX_BEHAVIOR;
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i + 4;
        }
        if buf.len() > 64 * 1024 || state.stopped() || Instant::now() >= deadline {
            return None;
        }
        match stream.read(&mut chunk) {
            Ok(0) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if is_timeout(&e) => {}
            Err(_) => return None,
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next().unwrap_or_default().split(' ');
    let method = request_line.next().unwrap_or_default().to_owned();
    let target = request_line.next().unwrap_or_default().to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let body_len = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0)
        .min(MAX_REQUEST_BODY);
    let mut body = buf[head_end..].to_vec();
    while body.len() < body_len {
        if state.stopped() || Instant::now() >= deadline {
            return None;
        }
        match stream.read(&mut chunk) {
            Ok(0) => return None,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
            Err(e) if is_timeout(&e) => {}
            Err(_) => return None,
        }
    }
    body.truncate(body_len);
    Some(Seen {
        method,
        target,
        headers,
        body,
    })
}

/// Half-closes, then reads until the client closes (or a second passes), so that the close
/// is a FIN and never a reset caused by unread bytes.
fn close_gracefully(mut stream: TcpStream, state: &State) {
    let _ = stream.flush();
    let _ = stream.shutdown(Shutdown::Write);
    let deadline = Instant::now() + Duration::from_secs(1);
    let mut buf = [0u8; 4096];
    while !state.stopped() && Instant::now() < deadline {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if is_timeout(&e) => {}
            Err(_) => break,
        }
    }
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        301 => "Moved Permanently",
        302 => "Found",
        307 => "Temporary Redirect",
        400 => "Bad Request",
        418 => "I'm a teapot",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Fault",
    }
}
