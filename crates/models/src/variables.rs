//! The open `variables` map of `post-conversation`.

use serde::{Deserialize, Serialize};

use crate::{Fields, Json};

/// The agent's variables in scope during a call: an open, ordered map of names to JSON values.
///
/// The platform always sets eleven standard keys, which have typed accessors; custom keys (from
/// the agent's configuration) sit beside them and are reached with [`Variables::get`] or by
/// iterating. Order is kept as sent.
///
/// ```
/// use atoms_webhook_models::Variables;
/// let v: Variables = serde_json::from_str(
///     r#"{"call_id":"CALL-1","supported_languages":"hi,en","due_amount":"29000"}"#).unwrap();
/// assert_eq!(v.call_id(), Some("CALL-1"));
/// assert_eq!(v.supported_languages(), vec!["hi", "en"]);
/// assert_eq!(v.get_str("due_amount"), Some("29000"));
/// assert_eq!(v.custom().count(), 1);
/// ```
#[derive(Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Variables(pub Fields);

/// Names only: values include phone numbers and customer details.
impl std::fmt::Debug for Variables {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Variables").field(&self.0).finish()
    }
}

macro_rules! std_var {
    ($($(#[$m:meta])* $fn:ident = $key:literal;)*) => {
        impl Variables {
            /// The eleven keys the platform always sets.
            pub const STANDARD_KEYS: [&'static str; 11] = [$($key),*];
            $(
                $(#[$m])*
                pub fn $fn(&self) -> Option<&str> {
                    self.get_str($key)
                }
            )*
        }
    };
}

std_var! {
    /// `call_id`: the call's id.
    call_id = "call_id";
    /// `user_number`: the other party's number.
    user_number = "user_number";
    /// `agent_number`: the agent's number.
    agent_number = "agent_number";
    /// `conversation_type`: the channel.
    conversation_type = "conversation_type";
    /// `agent_gender`: the agent voice's gender.
    agent_gender = "agent_gender";
    /// `default_language`: the agent's default language code.
    default_language = "default_language";
    /// `supported_languages` as sent (comma-separated); see [`Variables::supported_languages`].
    supported_languages_raw = "supported_languages";
    /// `current_date`: the date at the call, in the agent's time zone (`2026-05-08`).
    current_date = "current_date";
    /// `current_time`: the time at the call (`13:21`).
    current_time = "current_time";
    /// `current_day`: the weekday at the call (`Friday`).
    current_day = "current_day";
    /// `timezone`: the agent's IANA time zone.
    timezone = "timezone";
}

impl Variables {
    /// A variable by name.
    pub fn get(&self, key: &str) -> Option<&Json> {
        self.0.get(key)
    }

    /// A variable by name, when it is a string.
    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(Json::as_str)
    }

    /// Sets a variable, keeping its position when it exists.
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<Json>) {
        self.0.insert(key, value);
    }

    /// `supported_languages` split on commas, trimmed, empty parts dropped.
    pub fn supported_languages(&self) -> Vec<&str> {
        self.supported_languages_raw()
            .map(|s| {
                s.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `current_date` as a date, when it is `YYYY-MM-DD`.
    pub fn current_date_parsed(&self) -> Option<chrono::NaiveDate> {
        chrono::NaiveDate::parse_from_str(self.current_date()?, "%Y-%m-%d").ok()
    }

    /// All variables, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Json)> {
        self.0.iter()
    }

    /// The variables that are not among the eleven standard keys.
    pub fn custom(&self) -> impl Iterator<Item = (&str, &Json)> {
        self.iter()
            .filter(|(k, _)| !Self::STANDARD_KEYS.contains(k))
    }

    /// The number of variables.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}
