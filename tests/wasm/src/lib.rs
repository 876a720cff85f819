//! A WebAssembly module (no wasm-bindgen, no imports) that runs the receive path of
//! `atoms-webhook-models`: verify the signature over the raw body, then parse. CI builds it for
//! `wasm32-unknown-unknown` and drives it from Node.js (`scripts/wasm-check.sh`), the way an
//! edge runtime without threads or a clock would.
//!
//! The host writes inputs into buffers from [`wasm_alloc`] and reads results back from linear
//! memory. Every export returns a status code instead of trapping.

use atoms_webhook_models::{Verifier, VerifyError, WebhookEvent};

/// Verified and parsed as a known event type.
pub const OK: i32 = 0;
/// Verified and parsed as an event type this version does not know.
pub const OK_UNKNOWN: i32 = 1;
/// The signature header is missing or not 32 hex-encoded bytes.
pub const MALFORMED: i32 = -1;
/// The signature does not match the body.
pub const MISMATCH: i32 = -2;
/// The signature matched but the body is not a delivery.
pub const UNPARSEABLE: i32 = -3;
/// The secret is empty.
pub const EMPTY_SECRET: i32 = -4;
/// Any other refusal (for example, a body over the size limit).
pub const REFUSED: i32 = -5;
/// The output buffer is too small, or an input is not UTF-8.
pub const BAD_BUFFER: i32 = -6;

/// The receive path on plain slices: the code the exports share, testable on the host.
pub fn verify_then_parse(
    secret: &[u8],
    body: &[u8],
    signature: &[u8],
) -> Result<WebhookEvent, i32> {
    let secret = std::str::from_utf8(secret).map_err(|_| BAD_BUFFER)?;
    let signature = std::str::from_utf8(signature).map_err(|_| MALFORMED)?;
    let verifier = Verifier::new(secret).map_err(|e| code(&e))?;
    verifier
        .verify_and_parse(body, signature)
        .map_err(|e| code(&e))
}

fn code(e: &VerifyError) -> i32 {
    match e {
        VerifyError::MissingHeader | VerifyError::MalformedHeader(_) => MALFORMED,
        VerifyError::Mismatch => MISMATCH,
        VerifyError::Parse(_) => UNPARSEABLE,
        VerifyError::EmptySecret => EMPTY_SECRET,
        _ => REFUSED,
    }
}

/// Copies `bytes` into `out` and returns their length, or [`BAD_BUFFER`] when they do not fit.
fn write(out: &mut [u8], bytes: &[u8]) -> i32 {
    match (out.get_mut(..bytes.len()), i32::try_from(bytes.len())) {
        (Some(dst), Ok(n)) => {
            dst.copy_from_slice(bytes);
            n
        }
        _ => BAD_BUFFER,
    }
}

/// Reserves `len` bytes of linear memory for the host to fill; free with [`wasm_free`].
#[no_mangle]
pub extern "C" fn wasm_alloc(len: usize) -> *mut u8 {
    let mut buf = Vec::<u8>::with_capacity(len.max(1));
    let ptr = buf.as_mut_ptr();
    std::mem::forget(buf);
    ptr
}

/// Frees a buffer from [`wasm_alloc`].
///
/// # Safety
/// `ptr` and `len` must be exactly what one earlier [`wasm_alloc`] call returned and took.
#[no_mangle]
pub unsafe extern "C" fn wasm_free(ptr: *mut u8, len: usize) {
    // SAFETY: the caller passes back a pointer and capacity from `wasm_alloc`.
    drop(unsafe { Vec::from_raw_parts(ptr, 0, len.max(1)) });
}

/// # Safety
/// `ptr` must point to `len` initialized bytes that stay valid for `'a`.
unsafe fn slice<'a>(ptr: *const u8, len: usize) -> &'a [u8] {
    if len == 0 {
        return &[];
    }
    // SAFETY: guaranteed by the caller.
    unsafe { std::slice::from_raw_parts(ptr, len) }
}

/// Verifies `signature` over `body` with `secret`, parses the body, and writes the event's call
/// id into `out`. Returns the call id's length (`>= 0`), or a negative status code.
///
/// # Safety
/// Each pointer/length pair must describe memory the host wrote (inputs) or may overwrite
/// (`out`), for example buffers from [`wasm_alloc`].
#[no_mangle]
pub unsafe extern "C" fn verify_and_call_id(
    secret: *const u8,
    secret_len: usize,
    body: *const u8,
    body_len: usize,
    signature: *const u8,
    signature_len: usize,
    out: *mut u8,
    out_cap: usize,
) -> i32 {
    // SAFETY: guaranteed by the caller for each pair.
    let (secret, body, signature) = unsafe {
        (
            slice(secret, secret_len),
            slice(body, body_len),
            slice(signature, signature_len),
        )
    };
    let event = match verify_then_parse(secret, body, signature) {
        Ok(event) => event,
        Err(code) => return code,
    };
    // SAFETY: guaranteed by the caller.
    let out = unsafe { std::slice::from_raw_parts_mut(out, out_cap) };
    write(out, event.call_id().map_or("", |c| c.as_str()).as_bytes())
}

/// Verifies and parses like [`verify_and_call_id`] and returns [`OK`] or [`OK_UNKNOWN`] (the
/// event type is not one this version knows), or a negative status code.
///
/// # Safety
/// As for [`verify_and_call_id`].
#[no_mangle]
pub unsafe extern "C" fn verify_status(
    secret: *const u8,
    secret_len: usize,
    body: *const u8,
    body_len: usize,
    signature: *const u8,
    signature_len: usize,
) -> i32 {
    // SAFETY: guaranteed by the caller for each pair.
    let (secret, body, signature) = unsafe {
        (
            slice(secret, secret_len),
            slice(body, body_len),
            slice(signature, signature_len),
        )
    };
    match verify_then_parse(secret, body, signature) {
        Ok(event) if event.is_unknown() => OK_UNKNOWN,
        Ok(_) => OK,
        Err(code) => code,
    }
}

/// Parses `body` (no verification) and writes it back, re-serialized, into `out`. Returns the
/// written length or a negative status code.
///
/// # Safety
/// As for [`verify_and_call_id`].
#[no_mangle]
pub unsafe extern "C" fn parse_and_write_back(
    body: *const u8,
    body_len: usize,
    out: *mut u8,
    out_cap: usize,
) -> i32 {
    // SAFETY: guaranteed by the caller.
    let body = unsafe { slice(body, body_len) };
    let event = match WebhookEvent::from_slice(body) {
        Ok(event) => event,
        Err(_) => return UNPARSEABLE,
    };
    // SAFETY: guaranteed by the caller.
    let out = unsafe { std::slice::from_raw_parts_mut(out, out_cap) };
    write(out, &event.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use atoms_webhook_models::{sign, SigningSecret};

    const BODY: &[u8] = br#"{"metadata":{"agentId":"a","eventType":"pre-conversation","callId":"CALL-1"},"id":"d"}"#;

    #[test]
    fn host_build_agrees() {
        let sig = sign(&SigningSecret::new("s"), BODY);
        let e = verify_then_parse(b"s", BODY, sig.as_bytes()).unwrap();
        assert_eq!(e.call_id().unwrap().as_str(), "CALL-1");
        assert_eq!(
            verify_then_parse(b"t", BODY, sig.as_bytes()).unwrap_err(),
            MISMATCH
        );
        assert_eq!(verify_then_parse(b"s", BODY, b"zz").unwrap_err(), MALFORMED);
        assert_eq!(
            verify_then_parse(b"", BODY, sig.as_bytes()).unwrap_err(),
            EMPTY_SECRET
        );
        let mut out = [0u8; 3];
        assert_eq!(write(&mut out, b"abcd"), BAD_BUFFER);
        assert_eq!(write(&mut out, b"ab"), 2);
    }
}
