//! Client configuration: where, with which key, how long to wait, how to retry.

use std::time::Duration;

use atoms_webhook_models::ApiKey;

use crate::error::{Error, ValidationError};

/// The default base URL: the current host, the one the public API description and the
/// official SDKs use.
pub const DEFAULT_BASE_URL: &str = "https://api.smallest.ai/atoms/v1";

/// The older host of the same API, named in older reference pages. Still accepted, like any
/// other base URL (`Config::base_url(LEGACY_BASE_URL)`).
pub const LEGACY_BASE_URL: &str = "https://atoms-api.smallest.ai/api/v1";

/// The environment variable holding the API key (as for the official SDKs).
pub const API_KEY_ENV: &str = "SMALLEST_API_KEY";

/// The environment variable that, when set and not empty, overrides the base URL.
pub const BASE_URL_ENV: &str = "ATOMS_BASE_URL";

/// The default limit on the size of a response body: 16 MiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 16 * 1024 * 1024;

/// Everything a client needs to know to talk to the API.
///
/// `Debug` never shows the API key.
///
/// ```
/// use std::time::Duration;
/// use atoms_webhook_transport::{Config, RetryConfig, LEGACY_BASE_URL};
///
/// let config = Config::new("sk-secret")
///     .base_url(LEGACY_BASE_URL)
///     .timeout(Duration::from_secs(10))
///     .retry(RetryConfig::default().max_retries(5));
/// assert!(!format!("{config:?}").contains("sk-secret"));
/// assert_eq!(config.retry.max_retries, 5);
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Config {
    /// The API's base URL, with or without a trailing `/`, possibly with a path prefix.
    /// Default: [`DEFAULT_BASE_URL`].
    pub base_url: String,
    /// The API key, sent as `Authorization: Bearer <key>`.
    pub api_key: ApiKey,
    /// How long to wait for a connection (DNS, TCP, TLS). Default: 10 s.
    pub connect_timeout: Duration,
    /// How long one attempt may take in total, reading the body included. Each retry gets a
    /// fresh timeout. Default: 30 s.
    pub timeout: Duration,
    /// When and how failed requests are retried.
    pub retry: RetryConfig,
    /// Responses with a larger body fail instead of filling memory. Default: 16 MiB.
    pub max_response_bytes: u64,
}

impl Config {
    /// A configuration with this key and every default.
    pub fn new(api_key: impl Into<ApiKey>) -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.to_owned(),
            api_key: api_key.into(),
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            retry: RetryConfig::default(),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
        }
    }

    /// Reads the key from `SMALLEST_API_KEY` and, when set and not empty, the base URL from
    /// `ATOMS_BASE_URL`.
    pub fn from_env() -> Result<Self, Error> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`Config::from_env`], reading variables through `lookup` (for tests and for
    /// programs with their own configuration source).
    ///
    /// ```
    /// use atoms_webhook_transport::Config;
    /// let config = Config::from_lookup(|name| match name {
    ///     "SMALLEST_API_KEY" => Some("sk-1".to_owned()),
    ///     "ATOMS_BASE_URL" => Some("http://127.0.0.1:8080".to_owned()),
    ///     _ => None,
    /// })?;
    /// assert_eq!(config.base_url, "http://127.0.0.1:8080");
    /// # Ok::<(), atoms_webhook_transport::Error>(())
    /// ```
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let key = lookup(API_KEY_ENV)
            .map(|k| k.trim().to_owned())
            .filter(|k| !k.is_empty())
            .ok_or_else(|| {
                ValidationError::new(API_KEY_ENV, "is not set (it must hold the Atoms API key)")
            })?;
        let mut config = Config::new(key);
        if let Some(url) = lookup(BASE_URL_ENV).filter(|u| !u.trim().is_empty()) {
            config.base_url = url.trim().to_owned();
        }
        config.validate()?;
        Ok(config)
    }

    /// Sets the base URL.
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into();
        self
    }

    /// Sets the API key.
    pub fn api_key(mut self, api_key: impl Into<ApiKey>) -> Self {
        self.api_key = api_key.into();
        self
    }

    /// Sets the connect timeout.
    pub fn connect_timeout(mut self, connect_timeout: impl Into<Duration>) -> Self {
        self.connect_timeout = connect_timeout.into();
        self
    }

    /// Sets the total timeout of one attempt.
    pub fn timeout(mut self, timeout: impl Into<Duration>) -> Self {
        self.timeout = timeout.into();
        self
    }

    /// Sets the retry configuration.
    pub fn retry(mut self, retry: impl Into<RetryConfig>) -> Self {
        self.retry = retry.into();
        self
    }

    /// Sets the largest response body accepted, in bytes. (A plain `u64` rather than
    /// `impl Into<u64>`, so that an integer literal needs no suffix.)
    pub fn max_response_bytes(mut self, max_response_bytes: u64) -> Self {
        self.max_response_bytes = max_response_bytes;
        self
    }

    /// Checks the base URL and the key; [`crate::build`] does the same before every request.
    pub fn validate(&self) -> Result<(), Error> {
        crate::validate::base_url(&self.base_url)?;
        crate::validate::api_key(&self.api_key)?;
        Ok(())
    }
}

/// How the backoff delay is randomised, so that many clients do not retry in step.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
#[non_exhaustive]
pub enum Jitter {
    /// Exactly the computed backoff.
    None,
    /// A random delay between zero and the backoff ("full jitter").
    Full,
    /// Half the backoff plus a random part of the other half ("equal jitter"): never less
    /// than half the backoff. The default.
    #[default]
    Equal,
}

/// When and how failed requests are retried. See [`crate::RetryPolicy`] for the rules.
///
/// ```
/// use std::time::Duration;
/// use atoms_webhook_transport::{Jitter, RetryConfig};
/// let fast = RetryConfig::default()
///     .base_delay(Duration::from_millis(10))
///     .jitter(Jitter::None);
/// assert_eq!(fast.max_retries, 2);
/// assert_eq!(RetryConfig::disabled().max_retries, 0);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct RetryConfig {
    /// Retries after the first attempt. Default: 2 (so at most 3 attempts).
    pub max_retries: u32,
    /// The first backoff delay, doubled at each retry. Default: 250 ms.
    pub base_delay: Duration,
    /// The largest backoff delay. Default: 8 s.
    pub max_delay: Duration,
    /// The longest `Retry-After` honoured; when the server asks for longer, the error is
    /// returned at once (with [`crate::Error::retry_after`]) instead of blocking. Default: 60 s.
    pub max_retry_after: Duration,
    /// How the backoff is randomised. Default: [`Jitter::Equal`].
    pub jitter: Jitter,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            max_retries: 2,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
            jitter: Jitter::Equal,
        }
    }
}

impl RetryConfig {
    /// No retries at all.
    pub fn disabled() -> Self {
        Self::default().max_retries(0)
    }

    /// Sets the number of retries. (A plain `u32` rather than `impl Into<u32>`, so that an
    /// integer literal needs no suffix.)
    pub fn max_retries(mut self, max_retries: u32) -> Self {
        self.max_retries = max_retries;
        self
    }

    /// Sets the first backoff delay.
    pub fn base_delay(mut self, base_delay: impl Into<Duration>) -> Self {
        self.base_delay = base_delay.into();
        self
    }

    /// Sets the largest backoff delay.
    pub fn max_delay(mut self, max_delay: impl Into<Duration>) -> Self {
        self.max_delay = max_delay.into();
        self
    }

    /// Sets the longest `Retry-After` honoured.
    pub fn max_retry_after(mut self, max_retry_after: impl Into<Duration>) -> Self {
        self.max_retry_after = max_retry_after.into();
        self
    }

    /// Sets the jitter.
    pub fn jitter(mut self, jitter: impl Into<Jitter>) -> Self {
        self.jitter = jitter.into();
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_lookup_reads_key_and_optional_url() {
        let c = Config::from_lookup(|n| (n == API_KEY_ENV).then(|| "  k  ".to_owned())).unwrap();
        assert_eq!(c.api_key.expose(), "k");
        assert_eq!(c.base_url, DEFAULT_BASE_URL);

        let c = Config::from_lookup(|n| match n {
            API_KEY_ENV => Some("k".into()),
            BASE_URL_ENV => Some("".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(c.base_url, DEFAULT_BASE_URL);

        let e = Config::from_lookup(|_| None).unwrap_err();
        assert!(e.to_string().contains("SMALLEST_API_KEY"), "{e}");

        let e = Config::from_lookup(|n| match n {
            API_KEY_ENV => Some("k".into()),
            BASE_URL_ENV => Some("ftp://x".into()),
            _ => None,
        })
        .unwrap_err();
        assert!(
            matches!(e, Error::Validation(ref v) if v.field() == "base_url"),
            "{e}"
        );
    }

    #[test]
    fn debug_hides_key() {
        let c = Config::new("super-secret-key");
        let d = format!("{c:?}");
        assert!(!d.contains("super-secret-key"), "{d}");
        assert!(d.contains("redacted"));
    }

    #[test]
    fn defaults() {
        let c = Config::new("k");
        assert_eq!(c.base_url, "https://api.smallest.ai/atoms/v1");
        assert_eq!(c.connect_timeout, Duration::from_secs(10));
        assert_eq!(c.timeout, Duration::from_secs(30));
        assert_eq!(c.max_response_bytes, 16 * 1024 * 1024);
        let r = c.retry;
        assert_eq!(r.max_retries, 2);
        assert_eq!(r.base_delay, Duration::from_millis(250));
        assert_eq!(r.max_delay, Duration::from_secs(8));
        assert_eq!(r.max_retry_after, Duration::from_secs(60));
    }
}
