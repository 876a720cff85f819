//! JSON kept as sent, without changing how the rest of the program parses JSON.
//!
//! serde_json's `preserve_order`, `arbitrary_precision` and `float_roundtrip` would keep key order
//! and number text for us, but Cargo turns a feature on for every user of a crate in the build, so
//! a library must not enable them. Instead unknown values are kept as their raw JSON text
//! ([`Json`], through serde_json's additive `raw_value` feature), unknown fields in an
//! order-keeping map of our own ([`Fields`]), and numbers as their exact text ([`Number`]).

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;

/// Two JSON texts are the same value: the same text, or equal once parsed (so `{"a": 1}` equals
/// `{"a":1}`, and a value that came through `serde_json::Value` equals the raw one).
fn same_json(a: &str, b: &str) -> bool {
    a == b
        || match (
            serde_json::from_str::<Value>(a),
            serde_json::from_str::<Value>(b),
        ) {
            (Ok(x), Ok(y)) => x == y,
            _ => false,
        }
}

fn raw_of(value: &Value) -> Box<RawValue> {
    // A `Value` always serializes, and its text is always valid JSON.
    serde_json::value::to_raw_value(value).unwrap_or_else(|_| raw_null())
}

fn raw_null() -> Box<RawValue> {
    match RawValue::from_string("null".to_owned()) {
        Ok(r) => r,
        Err(_) => unreachable!("`null` is JSON"),
    }
}

/// A JSON value kept exactly as it was sent: its text is written back unchanged (key order,
/// number digits and all). Strings are kept decoded, so [`Json::as_str`] borrows.
///
/// ```
/// use atoms_webhook_models::Json;
/// let v: Json = serde_json::from_str(r#"{"b": 1.50, "a": [1e3]}"#).unwrap();
/// assert_eq!(v.as_raw_str(), r#"{"b": 1.50, "a": [1e3]}"#);
/// assert_eq!(serde_json::to_string(&v).unwrap(), r#"{"b": 1.50, "a": [1e3]}"#);
/// let s: Json = serde_json::from_str(r#""hello""#).unwrap();
/// assert_eq!(s.as_str(), Some("hello"));
/// ```
#[derive(Clone)]
pub struct Json(Repr);

#[derive(Clone)]
enum Repr {
    Str(String),
    Raw(Box<RawValue>),
}

impl Json {
    /// JSON `null`.
    pub fn null() -> Self {
        Json(Repr::Raw(raw_null()))
    }

    /// Parses JSON text, keeping it as written. Fails when it is not one JSON value.
    pub fn from_text(text: impl Into<String>) -> Result<Self, serde_json::Error> {
        let raw = RawValue::from_string(text.into())?;
        Ok(Self::from_raw(raw))
    }

    fn from_raw(raw: Box<RawValue>) -> Self {
        if raw.get().starts_with('"') {
            if let Ok(s) = serde_json::from_str::<String>(raw.get()) {
                return Json(Repr::Str(s));
            }
        }
        Json(Repr::Raw(raw))
    }

    /// The value when it is a JSON string.
    pub fn as_str(&self) -> Option<&str> {
        match &self.0 {
            Repr::Str(s) => Some(s),
            Repr::Raw(_) => None,
        }
    }

    /// True for JSON `null`.
    pub fn is_null(&self) -> bool {
        matches!(&self.0, Repr::Raw(r) if r.get() == "null")
    }

    /// The JSON text. For a string this is the string encoded again; for anything else, the
    /// text exactly as it was sent.
    pub fn as_raw_str(&self) -> std::borrow::Cow<'_, str> {
        match &self.0 {
            Repr::Str(s) => std::borrow::Cow::Owned(Value::String(s.clone()).to_string()),
            Repr::Raw(r) => std::borrow::Cow::Borrowed(r.get()),
        }
    }

    /// The value as a `serde_json::Value` (numbers then follow the program's own serde_json
    /// settings).
    pub fn to_value(&self) -> Value {
        match &self.0 {
            Repr::Str(s) => Value::String(s.clone()),
            Repr::Raw(r) => serde_json::from_str(r.get()).unwrap_or(Value::Null),
        }
    }

    /// Deserializes the value into `T`.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        match &self.0 {
            Repr::Str(s) => T::deserialize(
                serde::de::value::StrDeserializer::<serde_json::Error>::new(s),
            ),
            Repr::Raw(r) => serde_json::from_str(r.get()),
        }
    }
}

impl PartialEq for Json {
    fn eq(&self, other: &Self) -> bool {
        match (&self.0, &other.0) {
            (Repr::Str(a), Repr::Str(b)) => a == b,
            (Repr::Raw(a), Repr::Raw(b)) => same_json(a.get(), b.get()),
            _ => false,
        }
    }
}

/// Shows the kind of value only: values may hold personal data.
impl std::fmt::Debug for Json {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match &self.0 {
            Repr::Str(_) => "string",
            Repr::Raw(r) => match r.get().as_bytes().first() {
                Some(b'{') => "object",
                Some(b'[') => "array",
                Some(b't' | b'f') => "boolean",
                Some(b'n') => "null",
                _ => "number",
            },
        };
        write!(f, "Json({kind})")
    }
}

impl From<Value> for Json {
    fn from(v: Value) -> Self {
        match v {
            Value::String(s) => Json(Repr::Str(s)),
            other => Json(Repr::Raw(raw_of(&other))),
        }
    }
}

impl From<&Value> for Json {
    fn from(v: &Value) -> Self {
        match v {
            Value::String(s) => Json(Repr::Str(s.clone())),
            other => Json(Repr::Raw(raw_of(other))),
        }
    }
}

impl From<String> for Json {
    fn from(s: String) -> Self {
        Json(Repr::Str(s))
    }
}

impl From<&str> for Json {
    fn from(s: &str) -> Self {
        Json(Repr::Str(s.to_owned()))
    }
}

impl From<bool> for Json {
    fn from(b: bool) -> Self {
        Json::from(Value::Bool(b))
    }
}

impl From<Fields> for Json {
    fn from(f: Fields) -> Self {
        Json::of(&f)
    }
}

impl From<Number> for Json {
    fn from(n: Number) -> Self {
        Json(Repr::Raw(n.0))
    }
}

impl Serialize for Json {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            Repr::Str(v) => s.serialize_str(v),
            Repr::Raw(r) => r.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Box::<RawValue>::deserialize(d).map(Json::from_raw)
    }
}

/// A JSON number kept as the exact text it was sent as (`49.350` stays `49.350`, a 30-digit
/// integer stays whole), without serde_json's `arbitrary_precision`.
///
/// ```
/// use atoms_webhook_models::Number;
/// let n: Number = serde_json::from_str("49.350").unwrap();
/// assert_eq!(n.as_str(), "49.350");
/// assert_eq!(n.as_f64(), Some(49.35));
/// assert_eq!(serde_json::to_string(&n).unwrap(), "49.350");
/// assert_eq!(Number::from(7).as_i64(), Some(7));
/// ```
#[derive(Clone)]
pub struct Number(Box<RawValue>);

impl Number {
    /// Parses a JSON number's text. `None` when `text` is not a JSON number.
    pub fn parse(text: &str) -> Option<Self> {
        let raw = RawValue::from_string(text.trim().to_owned()).ok()?;
        Self::from_raw(raw)
    }

    fn from_raw(raw: Box<RawValue>) -> Option<Self> {
        matches!(raw.get().as_bytes().first(), Some(b'-' | b'0'..=b'9')).then_some(Number(raw))
    }

    /// A finite float, written the shortest way that reads back the same. `None` for NaN and
    /// infinities, which JSON cannot carry.
    pub fn from_f64(f: f64) -> Option<Self> {
        serde_json::Number::from_f64(f).and_then(|n| Self::parse(&n.to_string()))
    }

    /// The number as it was sent.
    pub fn as_str(&self) -> &str {
        self.0.get()
    }

    /// The number as a float (the nearest one for long decimals).
    pub fn as_f64(&self) -> Option<f64> {
        self.as_str().parse::<f64>().ok().filter(|f| f.is_finite())
    }

    /// The number as an `i64`, when it is written as an integer that fits.
    pub fn as_i64(&self) -> Option<i64> {
        self.as_str().parse().ok()
    }

    /// The number as a `u64`, when it is written as an integer that fits.
    pub fn as_u64(&self) -> Option<u64> {
        self.as_str().parse().ok()
    }

    /// True when written as an integer (no fraction, no exponent).
    pub fn is_integer(&self) -> bool {
        !self.as_str().contains(['.', 'e', 'E'])
    }
}

/// Equal when written the same, or when both are the same number (`1.50` and `1.5`).
impl PartialEq for Number {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
            || match (self.is_integer(), other.is_integer()) {
                (true, true) => match (self.as_i64(), other.as_i64()) {
                    (Some(a), Some(b)) => a == b,
                    _ => same_json(self.as_str(), other.as_str()),
                },
                (false, false) => self.as_f64().is_some() && self.as_f64() == other.as_f64(),
                _ => false,
            }
    }
}

impl std::fmt::Debug for Number {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Number({})", self.as_str())
    }
}

impl std::fmt::Display for Number {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

macro_rules! number_from_int {
    ($($t:ty)*) => {$(
        impl From<$t> for Number {
            fn from(i: $t) -> Self {
                match RawValue::from_string(i.to_string()) {
                    Ok(raw) => Number(raw),
                    Err(_) => unreachable!("an integer is a JSON number"),
                }
            }
        }
    )*};
}
number_from_int!(i8 i16 i32 i64 u8 u16 u32 u64 usize isize);

impl Serialize for Number {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Number {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(d)?;
        Number::from_raw(raw).ok_or_else(|| D::Error::custom("invalid type: expected a number"))
    }
}

/// A JSON object's fields in arrival order: the unknown fields of every wire type, and the
/// `variables` of a call. Lookups are linear, which is the fast choice for the few keys these
/// objects have.
///
/// ```
/// use atoms_webhook_models::{Fields, Json};
/// let mut f: Fields = serde_json::from_str(r#"{"z": 1, "a": "x"}"#).unwrap();
/// f.insert("m", Json::from(true));
/// assert_eq!(f.keys().collect::<Vec<_>>(), ["z", "a", "m"]);
/// assert_eq!(f.get("a").and_then(Json::as_str), Some("x"));
/// assert_eq!(serde_json::to_string(&f).unwrap(), r#"{"z":1,"a":"x","m":true}"#);
/// ```
#[derive(Clone, Default)]
pub struct Fields(Vec<(String, Json)>);

/// Equal when the same keys have equal values, in any order (as JSON objects compare).
impl PartialEq for Fields {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().all(|(k, v)| other.get(k) == Some(v))
    }
}

impl Fields {
    /// No fields.
    pub fn new() -> Self {
        Self(Vec::new())
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&Json> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The value of `key`, mutably.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Json> {
        self.0.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// True when `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Sets `key`, keeping its position when present (then the old value is returned) and
    /// appending it otherwise.
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<Json>) -> Option<Json> {
        let key = key.into();
        let value = value.into();
        match self.get_mut(&key) {
            Some(slot) => Some(std::mem::replace(slot, value)),
            None => {
                self.0.push((key, value));
                None
            }
        }
    }

    /// Removes `key`, keeping the order of the others.
    pub fn remove(&mut self, key: &str) -> Option<Json> {
        let i = self.0.iter().position(|(k, _)| k == key)?;
        Some(self.0.remove(i).1)
    }

    /// The fields in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Json)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The keys in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_str())
    }

    /// The number of fields.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The fields as a `serde_json::Value` object.
    pub fn to_value(&self) -> Value {
        Value::Object(
            self.0
                .iter()
                .map(|(k, v)| (k.clone(), v.to_value()))
                .collect(),
        )
    }
}

/// Keys only: values may hold personal data.
impl std::fmt::Debug for Fields {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.keys()).finish()
    }
}

impl<K: Into<String>, V: Into<Json>> FromIterator<(K, V)> for Fields {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut f = Fields::new();
        for (k, v) in iter {
            f.insert(k, v);
        }
        f
    }
}

impl IntoIterator for Fields {
    type Item = (String, Json);
    type IntoIter = std::vec::IntoIter<(String, Json)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl From<serde_json::Map<String, Value>> for Fields {
    fn from(m: serde_json::Map<String, Value>) -> Self {
        m.into_iter().collect()
    }
}

impl Serialize for Fields {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for Fields {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Fields;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Fields, A::Error> {
                let mut f = Fields::new();
                while let Some((k, v)) = map.next_entry::<String, Json>()? {
                    f.insert(k, v);
                }
                Ok(f)
            }
        }
        d.deserialize_map(V)
    }
}

impl Json {
    /// Any serializable value as JSON (our types always serialize; raw values inside are kept
    /// as they are).
    pub(crate) fn of<T: Serialize>(v: &T) -> Json {
        match serde_json::value::to_raw_value(v) {
            Ok(raw) => Json::from_raw(raw),
            Err(_) => Json::null(),
        }
    }
}
