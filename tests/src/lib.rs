//! Cross-crate tests live in `tests/`; this library holds what they share that is not about
//! one client: [`faulty`], a loopback server that misbehaves on purpose, and helpers for the
//! behaviours plain `std` cannot produce. It also compiles the README's Rust examples as
//! doctests (and runs those that need no network).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod faulty;

/// The README's Rust code blocks, compiled (and run, where they need no network) as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

use faulty::{Behavior, Reply};

/// A behaviour that sends the head of `reply` announcing its whole body, then `sent` bytes of
/// it, then resets the connection (an RST, not a FIN: `SO_LINGER` of zero before closing).
pub fn reset_mid_body() -> Behavior {
    Behavior::Custom(|stream: &mut TcpStream| {
        let reply = Reply::json(200, RESET_BODY);
        let mut out = reply.head(reply.body.len() as u64);
        out.extend_from_slice(&reply.body[..RESET_BODY.len() / 3]);
        let _ = stream.write_all(&out);
        let _ = stream.flush();
        // Let the bytes leave before the reset discards the send queue.
        std::thread::sleep(Duration::from_millis(50));
        let _ = socket2::SockRef::from(&*stream).set_linger(Some(Duration::ZERO));
        // Dropped by the server after this returns: with a zero linger, close() sends an RST.
    })
}

/// The body [`reset_mid_body`] starts to send: a valid list answer, cut a third of the way.
pub const RESET_BODY: &str = r#"{"status":true,"data":[{"_id":"64f0c0ffee0000000000abcd","url":"https://example.com/reset","description":"cut"}]}"#;

#[cfg(test)]
mod tests {
    use std::io::{self, ErrorKind, Read, Write};
    use std::net::TcpStream;
    use std::time::Duration;

    use super::*;
    use crate::faulty::{FaultServer, Refused};

    fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
        haystack.windows(needle.len()).position(|w| w == needle)
    }

    fn get(url: &str) -> io::Result<Vec<u8>> {
        let mut s = TcpStream::connect(url.trim_start_matches("http://"))?;
        s.write_all(b"GET /webhook HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\n{}")?;
        let mut out = Vec::new();
        s.read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn follows_the_script_then_says_it_is_exhausted() {
        let server = FaultServer::start([
            Behavior::Respond(Reply::json(503, "{}")),
            Behavior::Truncated {
                reply: Reply::json(200, "0123456789"),
                sent: 4,
            },
        ]);
        let first = String::from_utf8(get(&server.url()).unwrap()).unwrap();
        assert!(first.starts_with("HTTP/1.1 503 "), "{first}");
        assert!(first.ends_with("\r\n\r\n{}"), "{first}");
        let second = String::from_utf8(get(&server.url()).unwrap()).unwrap();
        assert!(second.contains("content-length: 10\r\n"), "{second}");
        assert!(second.ends_with("\r\n\r\n0123"), "{second}");
        let third = String::from_utf8(get(&server.url()).unwrap()).unwrap();
        assert!(third.starts_with("HTTP/1.1 418 "), "{third}");
        assert_eq!(server.attempts(), 3);
        assert_eq!(server.connections(), 3);
        let first = &server.requests()[0];
        assert_eq!(first.to_string(), "GET /webhook");
        assert_eq!(first.body, b"{}");
        assert_eq!(first.header("Host"), Some("x"));
    }

    #[test]
    fn large_bodies_are_exact_json() {
        for chunked in [false, true] {
            let server = FaultServer::start([Behavior::Large {
                len: 100_000,
                chunked,
            }]);
            let raw = get(&server.url()).unwrap();
            let at = find(&raw, b"\r\n\r\n").unwrap() + 4;
            let body = if chunked {
                // De-chunk.
                let mut out = Vec::new();
                let mut rest = &raw[at..];
                loop {
                    let eol = find(rest, b"\r\n").unwrap();
                    let n = usize::from_str_radix(std::str::from_utf8(&rest[..eol]).unwrap(), 16)
                        .unwrap();
                    if n == 0 {
                        break;
                    }
                    out.extend_from_slice(&rest[eol + 2..eol + 2 + n]);
                    rest = &rest[eol + 2 + n + 2..];
                }
                out
            } else {
                raw[at..].to_vec()
            };
            assert_eq!(body.len(), 100_000);
            let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(v["status"], true);
        }
    }

    #[test]
    fn stops_when_dropped_even_while_silent() {
        let server = FaultServer::start([Behavior::Silent {
            max: Duration::from_secs(30),
        }]);
        let mut s = TcpStream::connect(server.addr()).unwrap();
        s.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
        // Bounded wait for the request to be counted (a poll on observable state).
        for _ in 0..2000 {
            if server.attempts() > 0 {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(server.attempts(), 1);
        drop(server);
        // Dropping joined the silent handler long before its 30 s: the connection is
        // already closed, so a non-blocking read sees the end, not "would block".
        s.set_nonblocking(true).unwrap();
        let mut buf = [0u8; 16];
        match s.read(&mut buf) {
            Ok(0) => {}
            Err(e) if e.kind() == ErrorKind::ConnectionReset => {}
            other => panic!("the server still holds the connection: {other:?}"),
        }
    }

    #[test]
    fn refused_url_refuses() {
        let refused = Refused::new();
        for _ in 0..3 {
            let err = TcpStream::connect(refused.url().trim_start_matches("http://")).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
        }
    }

    #[test]
    fn reset_mid_body_is_a_reset_after_part_of_the_body() {
        let server = FaultServer::start([reset_mid_body()]);
        let mut s = TcpStream::connect(server.addr()).unwrap();
        s.write_all(b"GET /webhook HTTP/1.1\r\nhost: x\r\n\r\n")
            .unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        let err = loop {
            match s.read(&mut buf) {
                Ok(0) => panic!("a clean end of stream, not a reset: {got:?}"),
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) => break e,
            }
        };
        assert_eq!(err.kind(), ErrorKind::ConnectionReset, "{err}");
        let text = String::from_utf8(got).unwrap();
        assert!(
            text.contains(&format!("content-length: {}", RESET_BODY.len())),
            "{text}"
        );
        assert!(
            text.ends_with(&RESET_BODY[..RESET_BODY.len() / 3]),
            "{text}"
        );
    }
}
