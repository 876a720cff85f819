//! The one error of the command: a one-line message and an exit status.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use atoms_webhook_blocking::{ApiErrorKind, Error};

/// Exit status of a failure at run time (API refusal, failed verification, I/O).
pub const FAILURE: u8 = 1;
/// Exit status of a usage error (bad arguments, missing configuration).
pub const USAGE: u8 = 2;

/// A failure to report: one line on stderr (unless silent) and an exit status.
#[derive(Debug)]
pub struct CliError {
    message: Option<String>,
    code: u8,
}

impl CliError {
    /// A run-time failure (exit 1).
    pub fn failure(message: impl Into<String>) -> Self {
        Self {
            message: Some(message.into()),
            code: FAILURE,
        }
    }

    /// A usage error (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            message: Some(message.into()),
            code: USAGE,
        }
    }

    /// A failure whose explanation was already printed (exit 1, nothing more on stderr).
    pub fn silent() -> Self {
        Self {
            message: None,
            code: FAILURE,
        }
    }

    /// The message, empty for a silent error.
    pub fn message_text(&self) -> &str {
        self.message.as_deref().unwrap_or("")
    }

    /// The exit status.
    #[cfg(test)]
    pub fn code(&self) -> u8 {
        self.code
    }

    /// The message, if any.
    #[cfg(test)]
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    /// Prints the message as one `error:` line on stderr and gives the exit status.
    pub fn report(self) -> ExitCode {
        if let Some(message) = self.message {
            let line = one_line(&message);
            let mut err = std::io::stderr().lock();
            let prefix = if std::io::stderr().is_terminal() && crate::term::no_color_unset() {
                "\x1b[1;31merror:\x1b[0m"
            } else {
                "error:"
            };
            // Nothing more can be done when stderr itself is closed.
            let _ = writeln!(err, "{prefix} {line}");
            let _ = err.flush();
        }
        ExitCode::from(self.code)
    }
}

/// Joins the lines of `s` with spaces and collapses runs of blanks.
pub fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// What an SDK call was about, to name it in messages.
#[derive(Debug, Clone, Copy)]
pub enum Subject<'a> {
    /// A webhook, by id.
    Webhook(&'a str),
    /// An agent, by id.
    Agent(&'a str),
    /// Nothing in particular.
    None,
}

/// Where requests go and how long they may take, to explain transport failures.
#[derive(Debug, Clone)]
pub struct Target {
    /// The API's base URL.
    pub base_url: String,
    /// The per-request timeout.
    pub timeout: Duration,
}

/// Turns an SDK error into the command's one line and exit status. Only the user's own input
/// is a usage error (2); whatever the server sent, however wrong, is a failure (1).
pub fn api_error(e: &Error, subject: Subject<'_>, target: &Target) -> CliError {
    if e.is_bad_response() {
        return CliError::failure(format!("unexpected answer from {}: {e}", target.base_url));
    }
    if let Some(api) = e.api() {
        let status = api.status;
        let detail = if api.messages.is_empty() {
            api.snippet.clone()
        } else {
            api.messages.join("; ")
        };
        let message = match api.kind() {
            ApiErrorKind::Unauthorized => {
                format!("{status}: check SMALLEST_API_KEY (or --api-key)")
            }
            ApiErrorKind::Forbidden => format!("{status}: this API key may not do that ({detail})"),
            ApiErrorKind::NotFound => match subject {
                Subject::Webhook(id) => format!("{status}: no webhook with id {id}"),
                Subject::Agent(id) => format!("{status}: no agent with id {id}"),
                Subject::None => format!("{status}: {detail}"),
            },
            ApiErrorKind::InvalidId => {
                format!("{status}: {detail} (ids are 24 hexadecimal characters)")
            }
            ApiErrorKind::RateLimited => match api.retry_after {
                Some(after) => format!(
                    "{status}: rate limited; try again in {} s",
                    after.as_secs().max(1)
                ),
                None => format!("{status}: rate limited; try again later"),
            },
            _ => format!("{status}: {detail}"),
        };
        let message = match e {
            Error::CreatedWithoutSecret { id, .. } => {
                format!("webhook {id} was created, but reading its secret failed: {message}")
            }
            _ => message,
        };
        return CliError::failure(message);
    }
    match e {
        Error::Validation(v) => {
            let field = match v.field() {
                "base_url" => "--base-url",
                "api_key" => "--api-key",
                other => other,
            };
            CliError::usage(format!("invalid {field}: {}", v.message()))
        }
        Error::Timeout { .. } => CliError::failure(format!(
            "no answer from {} within {} (raise --timeout)",
            target.base_url,
            secs(target.timeout)
        )),
        Error::Transport { source, .. } if e.is_connect() => CliError::failure(format!(
            "could not connect to {}: {}",
            target.base_url,
            chain(source.as_ref())
        )),
        Error::Transport { source, .. } => CliError::failure(format!(
            "request to {} failed: {}",
            target.base_url,
            chain(source.as_ref())
        )),
        other => CliError::failure(other.to_string()),
    }
}

/// An error and its sources, `: `-separated, each said once.
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

/// `2 s`, `0.5 s`.
pub fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0} s")
    } else {
        format!("{s} s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use atoms_webhook_blocking::ApiError;
    use http::StatusCode;

    fn target() -> Target {
        Target {
            base_url: "http://127.0.0.1:1".into(),
            timeout: Duration::from_millis(1500),
        }
    }

    #[test]
    fn unauthorized_names_the_variable() {
        let e = Error::Api(ApiError::new(
            StatusCode::UNAUTHORIZED,
            vec!["Unauthorized: User not found".into()],
            "",
            None,
        ));
        let c = api_error(&e, Subject::None, &target());
        assert_eq!(c.code(), FAILURE);
        assert_eq!(
            c.message(),
            Some("401 Unauthorized: check SMALLEST_API_KEY (or --api-key)")
        );
    }

    #[test]
    fn not_found_names_the_subject() {
        let e = Error::Api(ApiError::new(
            StatusCode::NOT_FOUND,
            vec!["Webhook not found".into()],
            "",
            None,
        ));
        let c = api_error(&e, Subject::Webhook("abc"), &target());
        assert_eq!(c.message(), Some("404 Not Found: no webhook with id abc"));
    }

    #[test]
    fn bad_answers_are_failures_not_usage_errors() {
        let mismatch = Error::UnexpectedResponse {
            operation: "get_webhook",
            requested: "64f0c0ffee00000000000aaa".into(),
            received: "64f0c0ffee00000000000bbb".into(),
        };
        let invalid = Error::invalid_response(
            "create_webhook",
            atoms_webhook_blocking::transport::ValidationError::new("data", "has a space"),
        );
        for e in [mismatch, invalid] {
            let c = api_error(&e, Subject::Webhook("64f0c0ffee00000000000aaa"), &target());
            assert_eq!(c.code(), FAILURE, "{e}");
            assert!(c
                .message()
                .unwrap()
                .starts_with("unexpected answer from http://127.0.0.1:1: the answer to"));
        }
        let usage = Error::Validation(atoms_webhook_blocking::transport::ValidationError::new(
            "id",
            "must not be empty",
        ));
        assert_eq!(api_error(&usage, Subject::None, &target()).code(), USAGE);
    }

    #[test]
    fn one_line_joins() {
        assert_eq!(one_line("a\nb  c\r\n"), "a b c");
        assert_eq!(secs(Duration::from_millis(1500)), "1.5 s");
        assert_eq!(secs(Duration::from_secs(2)), "2 s");
    }
}
