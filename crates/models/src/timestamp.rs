//! A timestamp that keeps the exact text it was sent as.

use chrono::{DateTime, NaiveDate, SecondsFormat, SubsecRound, Utc};

/// An ISO 8601 timestamp as the API sends it (`2026-05-08T07:51:58.813Z`).
///
/// The original text is kept and written back unchanged, so a round trip never turns
/// `.813Z` into `.813000Z` or `Z` into `+00:00`. The instant is computed when asked for (with a
/// fast path for the API's own `YYYY-MM-DDTHH:MM:SS[.fff]Z` form), so that a transcript of many
/// turns costs no date arithmetic nobody reads; a string that is not a valid timestamp is still
/// accepted and kept, with [`Timestamp::datetime`] `None`.
///
/// ```
/// use atoms_webhook_models::Timestamp;
/// let t: Timestamp = serde_json::from_str("\"2026-05-08T07:51:58.813Z\"").unwrap();
/// assert_eq!(t.as_str(), "2026-05-08T07:51:58.813Z");
/// assert_eq!(t.datetime().unwrap().timestamp_millis(), 1_778_226_718_813);
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct Timestamp {
    // The text alone: the instant is a function of it (equality and hashing stay the same).
    raw: String,
}

impl Timestamp {
    /// Parses `raw`, keeping it as written even when it is not a valid timestamp.
    pub fn parse(raw: impl Into<String>) -> Self {
        Self { raw: raw.into() }
    }

    /// A timestamp for `at`, written in the API's form (UTC, milliseconds, `Z`).
    /// The instant is cut to whole milliseconds, so it equals what parsing the text gives.
    pub fn from_datetime(at: DateTime<Utc>) -> Self {
        let at = at.trunc_subsecs(3);
        Self {
            raw: at.to_rfc3339_opts(SecondsFormat::Millis, true),
        }
    }

    /// The current time in the API's form (feature `clock`: `wasm32-unknown-unknown` has no
    /// clock).
    #[cfg(feature = "clock")]
    #[cfg_attr(docsrs, doc(cfg(feature = "clock")))]
    pub fn now() -> Self {
        Self::from_datetime(Utc::now())
    }

    /// The text as it was sent.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The instant, or `None` when the text is not a valid ISO 8601 timestamp.
    pub fn datetime(&self) -> Option<DateTime<Utc>> {
        parse_fast(&self.raw).or_else(|| {
            DateTime::parse_from_rfc3339(&self.raw)
                .ok()
                .map(|d| d.with_timezone(&Utc))
        })
    }
}

impl std::fmt::Display for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.raw)
    }
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(at: DateTime<Utc>) -> Self {
        Self::from_datetime(at)
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.raw)
    }
}

impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Timestamp;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an ISO 8601 timestamp string")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Timestamp, E> {
                Ok(Timestamp::parse(v))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Timestamp, E> {
                Ok(Timestamp::parse(v))
            }
        }
        d.deserialize_str(V)
    }
}

/// Parses exactly `YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z` without going through chrono's general
/// RFC 3339 parser. Anything else returns `None` and falls back to that parser.
fn parse_fast(s: &str) -> Option<DateTime<Utc>> {
    let b = s.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    if *b.last()? != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let mut n = 0u32;
        for &c in &b[r] {
            if !c.is_ascii_digit() {
                return None;
            }
            n = n * 10 + u32::from(c - b'0');
        }
        Some(n)
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, min, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let nanos = match b.len() {
        20 => 0,
        n if (22..=30).contains(&n) && b[19] == b'.' => {
            let digits = n - 21;
            num(20..n - 1)? * 10u32.pow(9 - digits as u32)
        }
        _ => return None,
    };
    let date = NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)?;
    let time = date.and_hms_nano_opt(hour, min, sec, nanos)?;
    Some(time.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_path_agrees_with_chrono() {
        for s in [
            "2026-05-08T07:51:58.813Z",
            "2023-11-07T05:31:56Z",
            "2026-05-08T07:51:58.1Z",
            "2026-05-08T07:51:58.123456789Z",
            "2024-02-29T23:59:59.999Z",
        ] {
            let chrono = DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
            assert_eq!(parse_fast(s), Some(chrono), "{s}");
        }
    }

    #[test]
    fn odd_forms_fall_back_or_stay_raw() {
        let t = Timestamp::parse("2026-05-08T13:21:58.813+05:30");
        assert_eq!(t.as_str(), "2026-05-08T13:21:58.813+05:30");
        assert_eq!(
            t.datetime().unwrap().to_rfc3339(),
            "2026-05-08T07:51:58.813+00:00"
        );
        for bad in [
            "",
            "yesterday",
            "2026-02-30T00:00:00Z",
            "2026-05-08T07:51:58.Z",
        ] {
            let t = Timestamp::parse(bad);
            assert_eq!(t.as_str(), bad);
            assert!(t.datetime().is_none(), "{bad}");
        }
    }

    #[cfg(feature = "clock")]
    #[test]
    fn now_equals_itself_parsed_back() {
        let t = Timestamp::now();
        assert_eq!(Timestamp::parse(t.as_str()), t);
    }

    #[test]
    fn from_datetime_uses_millis() {
        let at = DateTime::parse_from_rfc3339("2026-05-08T07:51:58.813Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            Timestamp::from_datetime(at).as_str(),
            "2026-05-08T07:51:58.813Z"
        );
    }
}
