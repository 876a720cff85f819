//! The few macros that stamp out the crate's repetitive types: id newtypes, secret newtypes,
//! open string enums, and lossless wire structs.

/// Defines a string id newtype that serializes as a bare JSON string.
macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        pub struct $name(String);

        impl $name {
            /// Wraps a string as this id, unchecked.
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }

            /// The id as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// Gives back the owned string.
            pub fn into_inner(self) -> String {
                self.0
            }

            /// True when the id is a 24-character hexadecimal MongoDB ObjectId, the form the
            /// Atoms API uses for webhook, agent and subscription ids.
            pub fn is_object_id(&self) -> bool {
                $crate::ids::is_object_id(&self.0)
            }
        }

        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::std::convert::Infallible;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Ok(Self(s.to_owned()))
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self(s)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }

        impl From<&$name> for $name {
            fn from(s: &$name) -> Self {
                s.clone()
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                String::deserialize(d).map(Self)
            }
        }
    };
}

/// Defines a secret string newtype: `Debug` prints `[redacted]`, there is no `Display`, and
/// the value is reached only through `expose()`.
macro_rules! secret_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone)]
        pub struct $name(String);

        /// Compares in constant time (for a given length), so that comparing a guess with the
        /// secret does not tell how much of it was right.
        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                $crate::secret::constant_time_eq(self.0.as_bytes(), other.0.as_bytes())
            }
        }

        impl Eq for $name {}

        impl $name {
            /// Wraps a secret value.
            pub fn new(secret: impl Into<String>) -> Self {
                Self(secret.into())
            }

            /// The secret itself. Call this only where the value must leave the program
            /// (an HTTP header, an HMAC key, a command that prints it on purpose).
            pub fn expose(&self) -> &str {
                &self.0
            }

            /// True when the secret is the empty string.
            pub fn is_empty(&self) -> bool {
                self.0.is_empty()
            }
        }

        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                write!(f, "{}([redacted])", stringify!($name))
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self(s)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                String::deserialize(d).map(Self)
            }
        }
    };
}

/// Defines an open string enum: known variants, then `Unknown(String)` for anything else.
/// Serialization goes through `as_str` and `FromStr`, so every value round-trips.
macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:literal $(| $alias:literal)*, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash, Debug)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this version of the SDK does not know, kept as sent.
            Unknown(String),
        }

        impl $name {
            /// Every value this version knows (other spellings included), in the order the
            /// variants are declared.
            pub const KNOWN: &'static [&'static str] = &[$($wire, $($alias,)*)+];

            /// The wire form of the value (for a value with several spellings, the first).
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $wire, )+
                    Self::Unknown(s) => s.as_str(),
                }
            }

            /// False for [`Self::Unknown`].
            pub fn is_known(&self) -> bool {
                !matches!(self, Self::Unknown(_))
            }

            /// Maps a wire value to its variant, `Unknown` when it is not one we know.
            pub fn parse(s: &str) -> Self {
                match s {
                    $( $wire $(| $alias)* => Self::$variant, )+
                    other => Self::Unknown(other.to_owned()),
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::std::convert::Infallible;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Ok(Self::parse(s))
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self::parse(s)
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> ::serde::de::Visitor<'de> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.write_str("a string")
                    }
                    fn visit_str<E: ::serde::de::Error>(self, v: &str) -> Result<$name, E> {
                        Ok($name::parse(v))
                    }
                }
                d.deserialize_str(V)
            }
        }
    };
}

/// Defines a struct that keeps every JSON field it does not know (in `extra`) and writes it back,
/// without `#[serde(flatten)]` (which buffers the whole object and is several times slower).
///
/// Fields are `req` (must be present) or `opt` (`Option<T>`, skipped when `None`). A JSON `null`
/// in an `opt` field is kept in `extra` so that it is written back as `null`. An `opt` field
/// marked `pii` (phone numbers, transcript text, ...) shows as `[redacted]` in `Debug`; unknown
/// fields show by name only, since they may hold anything.
macro_rules! wire_struct {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $(
                $(#[$fmeta:meta])*
                $kind:ident $($pii:ident)? $json:literal $field:ident : $ty:ty $(= $def:expr)?,
            )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq)]
        #[non_exhaustive]
        pub struct $name {
            $(
                $(#[$fmeta])*
                pub $field: wire_struct!(@ty $kind $ty),
            )*
            /// Fields this version of the SDK does not know, kept in arrival order and written
            /// back on serialization.
            pub extra: $crate::Fields,
        }

        impl Default for $name {
            fn default() -> Self {
                Self {
                    $( $field: wire_struct!(@def $kind $($def)?), )*
                    extra: $crate::Fields::new(),
                }
            }
        }

        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                let mut s = f.debug_struct(stringify!($name));
                $( wire_struct!(@dbg s stringify!($field), self.$field $(, $pii)?); )*
                s.field("extra", &self.extra);
                s.finish()
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                use ::serde::ser::SerializeMap;
                let mut m = s.serialize_map(None)?;
                $( wire_struct!(@ser $kind m $json self.$field, self.extra, $ty); )*
                for (k, v) in self.extra.iter() {
                    // The spelling of an `alias` field is kept in `extra`: written above.
                    if $( wire_struct!(@shadow $kind k $json self.$field) || )* false {
                        continue;
                    }
                    m.serialize_entry(k, v)?;
                }
                m.end()
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> ::serde::de::Visitor<'de> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.write_str(concat!("a JSON object (", stringify!($name), ")"))
                    }
                    #[allow(unused_mut)]
                    fn visit_map<A: ::serde::de::MapAccess<'de>>(self, mut map: A) -> Result<$name, A::Error> {
                        $( let mut $field: Option<$ty> = None; )*
                        let mut extra = $crate::Fields::new();
                        while let Some(key) = map.next_key::<$crate::macros::Key<'de>>()? {
                            match key.as_str() {
                                $(
                                    $json => {
                                        // A key sent twice is ambiguous (the spelling kept for
                                        // one would be written back for the other): refused,
                                        // as serde's derive does.
                                        if $field.is_some() || extra.contains_key($json) {
                                            return Err(::serde::de::Error::duplicate_field($json));
                                        }
                                        wire_struct!(@de $kind map $json $field extra $ty);
                                    }
                                )*
                                _ => {
                                    let v: $crate::Json = map.next_value()?;
                                    extra.insert(key.into_owned(), v);
                                }
                            }
                        }
                        $( wire_struct!(@fin $kind $json $field extra); )*
                        Ok($name { $( $field, )* extra })
                    }
                }
                d.deserialize_map(V)
            }
        }
    };
    (@dbg $s:ident $name:expr, $v:expr) => { $s.field($name, &$v); };
    (@dbg $s:ident $name:expr, $v:expr, pii) => {
        $s.field($name, &$crate::macros::Redacted($v.is_some()));
    };
    (@ty req $ty:ty) => { $ty };
    (@ty opt $ty:ty) => { Option<$ty> };
    (@ty nul $ty:ty) => { Option<$ty> };
    (@ty alias $ty:ty) => { Option<$ty> };
    (@def alias) => { None };
    (@fin alias $json:literal $field:ident $extra:ident) => {};
    (@shadow alias $k:ident $json:literal $val:expr) => { ($k == $json && $val.is_some()) };
    (@shadow $kind:ident $k:ident $json:literal $val:expr) => { false };
    // An open enum with several spellings of one value: the value parses to one variant, and a
    // spelling other than the first is kept in `extra` to be written back.
    (@de alias $map:ident $json:literal $field:ident $extra:ident $ty:ty) => {
        match $map.next_value::<Option<String>>()? {
            Some(raw) => {
                let v = <$ty>::parse(&raw);
                if v.as_str() != raw {
                    $extra.insert($json, $crate::Json::from(raw));
                }
                $field = Some(v);
            }
            None => {
                $extra.insert($json, $crate::Json::null());
            }
        }
    };
    (@def req) => { Default::default() };
    (@def req $def:expr) => { $def };
    (@def opt) => { None };
    (@def nul) => { None };
    // A `null` in an `opt` field is kept in `extra`, so that it is written back; a `nul` field's
    // type takes `null` itself (a metric's `value`).
    (@de nul $map:ident $json:literal $field:ident $extra:ident $ty:ty) => {
        $field = Some($map.next_value::<$ty>()?);
    };
    (@de $kind:ident $map:ident $json:literal $field:ident $extra:ident $ty:ty) => {
        match $map.next_value::<Option<$ty>>()? {
            Some(v) => $field = Some(v),
            None => {
                $extra.insert($json, $crate::Json::null());
            }
        }
    };
    (@ser req $m:ident $json:literal $val:expr, $extra:expr, $ty:ty) => {
        $m.serialize_entry($json, &$val)?;
    };
    (@ser alias $m:ident $json:literal $val:expr, $extra:expr, $ty:ty) => {
        if let Some(v) = &$val {
            match $extra.get($json).and_then($crate::Json::as_str) {
                Some(spelled) if <$ty>::parse(spelled) == *v => $m.serialize_entry($json, spelled)?,
                _ => $m.serialize_entry($json, v)?,
            }
        }
    };
    (@ser $kind:ident $m:ident $json:literal $val:expr, $extra:expr, $ty:ty) => {
        if let Some(v) = &$val { $m.serialize_entry($json, v)?; }
    };
    (@fin req $json:literal $field:ident $extra:ident) => {
        let $field = match $field {
            Some(v) => v,
            None => return Err(::serde::de::Error::missing_field($json)),
        };
    };
    (@fin opt $json:literal $field:ident $extra:ident) => {};
    (@fin nul $json:literal $field:ident $extra:ident) => {};
}

/// A map key that borrows from the input when it can (no escapes), so matching known field
/// names costs no allocation.
pub(crate) struct Key<'de>(std::borrow::Cow<'de, str>);

impl Key<'_> {
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
    pub(crate) fn into_owned(self) -> String {
        self.0.into_owned()
    }
}

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a field name")
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(std::borrow::Cow::Borrowed(v)))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(std::borrow::Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(std::borrow::Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// `Debug` of a personal-data field: whether it is there, never what it says.
pub(crate) struct Redacted(pub(crate) bool);

impl std::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0 { "Some([redacted])" } else { "None" })
    }
}
