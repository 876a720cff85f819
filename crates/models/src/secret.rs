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
