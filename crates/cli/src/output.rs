//! Writing to stdout: colour when it is a terminal, aligned tables, JSON, secret redaction.

use std::io::{IsTerminal, Write};

use atoms_webhook_models::Webhook;
use serde_json::Value;

use crate::error::CliError;
use crate::term::no_color_unset;

/// What a redacted secret reads as, in text and JSON.
pub const REDACTED: &str = "[redacted]";

/// True when stdout should get ANSI colours.
pub fn stdout_color() -> bool {
    std::io::stdout().is_terminal() && no_color_unset()
}

/// ANSI styling, or none.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    on: bool,
}

impl Style {
    /// Colours when stdout is a terminal and `NO_COLOR` is unset.
    pub fn stdout() -> Self {
        Self { on: stdout_color() }
    }

    /// No colours at all.
    #[cfg(test)]
    pub fn plain() -> Self {
        Self { on: false }
    }

    fn paint(self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    /// Bold.
    pub fn bold(self, text: &str) -> String {
        self.paint("1", text)
    }

    /// Dimmed.
    pub fn dim(self, text: &str) -> String {
        self.paint("2", text)
    }

    /// Green.
    pub fn green(self, text: &str) -> String {
        self.paint("32", text)
    }

    /// Yellow.
    pub fn yellow(self, text: &str) -> String {
        self.paint("33", text)
    }

    /// Red.
    pub fn red(self, text: &str) -> String {
        self.paint("31", text)
    }

    /// Cyan.
    pub fn cyan(self, text: &str) -> String {
        self.paint("36", text)
    }
}

/// Writes `text` to stdout and flushes. A closed pipe (`| head`) ends the command quietly.
pub fn print(text: &str) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(CliError::silent()),
        Err(e) => Err(CliError::failure(format!("cannot write to stdout: {e}"))),
    }
}

/// Writes one line to stdout.
pub fn line(text: impl AsRef<str>) -> Result<(), CliError> {
    let mut s = text.as_ref().to_owned();
    s.push('\n');
    print(&s)
}

/// Writes `value` as one line of compact JSON.
pub fn json_line(value: &Value) -> Result<(), CliError> {
    line(value.to_string())
}

/// Writes `value` as indented JSON.
pub fn json_pretty(value: &Value) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| CliError::failure(format!("cannot render JSON: {e}")))?;
    line(text)
}

/// A table: a header row and rows of cells, columns padded to their widest cell. `style`
/// colours after padding, so escape codes never upset alignment.
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<Cell>>,
}

/// One cell: its text and an optional colour.
pub struct Cell {
    text: String,
    paint: fn(Style, &str) -> String,
}

impl Cell {
    /// A plain cell.
    pub fn plain(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            paint: |_, t| t.to_owned(),
        }
    }

    /// A cell painted with `paint` when colours are on.
    pub fn styled(text: impl Into<String>, paint: fn(Style, &str) -> String) -> Self {
        Self {
            text: text.into(),
            paint,
        }
    }
}

impl Table {
    /// A table with these column titles.
    pub fn new(header: &[&str]) -> Self {
        Self {
            header: header.iter().map(|h| (*h).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row.
    pub fn row(&mut self, cells: Vec<Cell>) {
        self.rows.push(cells);
    }

    /// The table as text, one line per row, two spaces between columns, no trailing blanks.
    pub fn render(&self, style: Style) -> String {
        let columns = self.header.len();
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate().take(columns) {
                widths[i] = widths[i].max(cell.text.chars().count());
            }
        }
        let mut out = String::new();
        let pad = |text: &str, i: usize| {
            if i + 1 == columns {
                String::new()
            } else {
                " ".repeat(widths[i] - text.chars().count() + 2)
            }
        };
        for (i, h) in self.header.iter().enumerate() {
            out.push_str(&style.bold(h));
            out.push_str(&pad(h, i));
        }
        out.push('\n');
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate().take(columns) {
                out.push_str(&(cell.paint)(style, &cell.text));
                out.push_str(&pad(&cell.text, i));
            }
            out.push('\n');
        }
        out
    }
}

/// A webhook as JSON with its signing secret and custom header values replaced by
/// `[redacted]` (header values are often credentials of the receiving endpoint).
pub fn redacted_webhook(webhook: &Webhook) -> Value {
    let mut value = serde_json::to_value(webhook).unwrap_or(Value::Null);
    if let Some(obj) = value.as_object_mut() {
        if let Some(secret) = obj.get_mut("decryptedSecretKey") {
            if !secret.is_null() {
                *secret = Value::String(REDACTED.to_owned());
            }
        }
        if let Some(Value::Object(headers)) = obj.get_mut("headers") {
            for v in headers.values_mut() {
                *v = Value::String(REDACTED.to_owned());
            }
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;
    use atoms_webhook_models::SigningSecret;

    #[test]
    fn table_aligns() {
        let mut t = Table::new(&["ID", "URL", "STATUS"]);
        t.row(vec![
            Cell::plain("a"),
            Cell::plain("http://x"),
            Cell::plain("enabled"),
        ]);
        t.row(vec![
            Cell::plain("bbbb"),
            Cell::plain("u"),
            Cell::plain("disabled"),
        ]);
        assert_eq!(
            t.render(Style::plain()),
            "ID    URL       STATUS\na     http://x  enabled\nbbbb  u         disabled\n"
        );
    }

    #[test]
    fn secret_and_header_values_are_redacted() {
        let mut w: Webhook = serde_json::from_value(serde_json::json!({
            "_id": "w", "headers": {"X-Token": "tok-1"}
        }))
        .unwrap();
        w.decrypted_secret_key = Some(SigningSecret::new("whsec-1"));
        let v = redacted_webhook(&w);
        let text = v.to_string();
        assert!(
            !text.contains("whsec-1") && !text.contains("tok-1"),
            "{text}"
        );
        assert_eq!(v["decryptedSecretKey"], REDACTED);
        assert_eq!(v["headers"]["X-Token"], REDACTED);
    }
}
