//! The parse error: where in the JSON it went wrong, without echoing the body's text.

/// A JSON body that could not be parsed into the expected type.
///
/// The message names the JSON path of the problem (`metadata.callData.callDuration`) and the
/// line and column. Quoted text from the body (which may hold phone numbers or transcript text)
/// is replaced by `"…"`, so the error is safe to log.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[error("{}", self.render())]
pub struct ParseError {
    path: String,
    message: String,
    line: usize,
    column: usize,
    syntax: bool,
}

impl ParseError {
    /// Builds an error from serde_json's, at `path` (`.` when the problem is the whole body).
    pub fn from_json(path: impl Into<String>, err: &serde_json::Error) -> Self {
        let raw = err.to_string();
        // serde_json appends " at line L column C"; we print our own position instead.
        let msg = match raw.rfind(" at line ") {
            Some(i) => &raw[..i],
            None => raw.as_str(),
        };
        Self {
            path: path.into(),
            message: redact_quoted(msg),
            line: err.line(),
            column: err.column(),
            syntax: err.is_syntax() || err.is_eof(),
        }
    }

    /// An error found after parsing (for example a required field missing at `path`).
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: redact_quoted(&message.into()),
            line: 0,
            column: 0,
            syntax: false,
        }
    }

    /// The JSON path of the problem, `.` for the document itself.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// What was wrong, without any text taken from the body.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The 1-based line of the problem, 0 when unknown.
    pub fn line(&self) -> usize {
        self.line
    }

    /// The 1-based column of the problem, 0 when unknown.
    pub fn column(&self) -> usize {
        self.column
    }

    /// True when the bytes are not JSON at all (syntax error or truncated), as opposed to JSON
    /// of the wrong shape.
    pub fn is_syntax(&self) -> bool {
        self.syntax
    }

    fn render(&self) -> String {
        let mut s = format!("invalid JSON at `{}`: {}", self.path, self.message);
        if self.line > 0 {
            s.push_str(&format!(" (line {}, column {})", self.line, self.column));
        }
        s
    }
}

/// Replaces the content of every double-quoted run with `…`, and the backquoted values serde
/// quotes from the body (``integer `919876543210` ``, a phone number sent as a number) too.
/// Backquoted field names (``missing field `callId` ``) stay.
fn redact_quoted(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len());
    let mut inside = false;
    for c in msg.chars() {
        if c == '"' {
            if inside {
                out.push('…');
            }
            inside = !inside;
            out.push(c);
        } else if !inside {
            out.push(c);
        }
    }
    redact_backquoted_values(&out)
}

/// The kinds of values serde's `Unexpected` prints between backquotes.
const BACKQUOTED_VALUES: [&str; 3] = ["integer `", "floating point `", "character `"];

fn redact_backquoted_values(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len());
    let mut rest = msg;
    while let Some(at) = BACKQUOTED_VALUES
        .iter()
        .filter_map(|kind| rest.find(kind).map(|i| i + kind.len()))
        .min()
    {
        let Some(len) = rest[at..].find('`') else {
            break;
        };
        out.push_str(&rest[..at]);
        out.push('…');
        rest = &rest[at + len..];
    }
    out.push_str(rest);
    out
}

/// Parses `bytes` as `T`; on failure, parses again with path tracking to say where it failed.
/// The fast path pays nothing for the path bookkeeping.
pub fn from_slice<'a, T: serde::Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, ParseError> {
    match serde_json::from_slice(bytes) {
        Ok(v) => Ok(v),
        Err(first) => Err(locate::<T>(bytes, &first)),
    }
}

/// The path-aware second pass of [`from_slice`].
fn locate<'a, T: serde::Deserialize<'a>>(bytes: &'a [u8], first: &serde_json::Error) -> ParseError {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Ok(_) => ParseError::from_json(".", first),
        Err(e) => {
            let path = e.path().to_string();
            ParseError::from_json(path, e.inner())
        }
    }
}

/// Like [`from_slice`], from an already parsed JSON value.
pub fn from_value<T: serde::de::DeserializeOwned>(
    value: &serde_json::Value,
) -> Result<T, ParseError> {
    T::deserialize(value).map_err(
        |first| match serde_path_to_error::deserialize::<_, T>(value) {
            Ok(_) => ParseError::from_json(".", &first),
            Err(e) => ParseError::from_json(e.path().to_string(), e.inner()),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_text_is_redacted() {
        assert_eq!(
            redact_quoted(r#"invalid type: string "+916296641821", expected f64"#),
            r#"invalid type: string "…", expected f64"#
        );
        // Numbers from the body (a phone number sent as a number) go; field names stay.
        assert_eq!(
            redact_quoted("invalid type: integer `916296641821`, expected a string"),
            "invalid type: integer `…`, expected a string"
        );
        assert_eq!(
            redact_quoted("invalid value: floating point `1.5`, expected i64; integer `7`"),
            "invalid value: floating point `…`, expected i64; integer `…`"
        );
        assert_eq!(
            redact_quoted("missing field `callId`"),
            "missing field `callId`"
        );
        assert_eq!(redact_quoted("integer `unclosed"), "integer `unclosed");
        let e = from_slice::<std::collections::BTreeMap<String, String>>(
            br#"{"toPhone":916296641821}"#,
        )
        .unwrap_err();
        assert_eq!(e.path(), "toPhone");
        assert!(!e.to_string().contains("916296641821"), "{e}");
    }

    #[test]
    fn path_is_reported() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Inner {
            n: u32,
        }
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Outer {
            list: Vec<Inner>,
        }
        let e = from_slice::<Outer>(br#"{"list":[{"n":1},{"n":"secret-text"}]}"#).unwrap_err();
        assert_eq!(e.path(), "list[1].n");
        assert!(!e.to_string().contains("secret-text"), "{e}");
        assert!(!e.is_syntax());
        let e = from_slice::<Outer>(b"{\"list\":[").unwrap_err();
        assert!(e.is_syntax());
    }
}
