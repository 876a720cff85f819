//! Secret newtypes: never printed by `Debug`, no `Display`.

secret_type!(
    /// A webhook's signing secret: the HMAC-SHA256 key for the `X-Signature` header. Returned by
    /// the API as `decryptedSecretKey`.
    ///
    /// ```
    /// let s = atoms_webhook_models::SigningSecret::new("whsec-example");
    /// assert_eq!(format!("{s:?}"), "SigningSecret([redacted])");
    /// ```
    SigningSecret
);
secret_type!(
    /// An Atoms API key, sent as `Authorization: Bearer <key>`.
    ///
    /// ```
    /// let k = atoms_webhook_models::ApiKey::new("sk-example");
    /// assert_eq!(format!("{k:?}"), "ApiKey([redacted])");
    /// ```
    ApiKey
);

/// Equality of two byte strings whose time depends on their lengths only, never on where they
/// first differ.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    // Keeps the optimizer from turning the fold into an early exit.
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equality_is_by_value() {
        assert_eq!(SigningSecret::new("abc"), SigningSecret::new("abc"));
        assert_ne!(SigningSecret::new("abc"), SigningSecret::new("abd"));
        assert_ne!(ApiKey::new("abc"), ApiKey::new("abcd"));
        assert!(constant_time_eq(b"", b""));
    }
}
