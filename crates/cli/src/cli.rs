//! The command line grammar (clap derive).

use std::path::PathBuf;
use std::time::Duration;

use atoms_webhook_blocking::{Config, DEFAULT_BASE_URL};
use atoms_webhook_models::verify::DEFAULT_MAX_BODY;
use atoms_webhook_models::EventType;
use clap::{Args, Parser, Subcommand};

/// The environment variable that may hold a signing secret for `verify`, `listen` and
/// `trigger` (so that it stays out of the process list).
pub const SECRET_ENV: &str = "ATOMS_WEBHOOK_SECRET";

/// Manage Smallest.ai Atoms webhooks, and trigger, listen for, verify and emulate their
/// signed deliveries.
#[derive(Debug, Parser)]
#[command(
    name = "atoms-webhook",
    version,
    propagate_version = true,
    arg_required_else_help = true,
    args_override_self = true,
    after_help = "Exit status: 0 success, 1 API or verification failure, 2 usage error.\n\
                  Try it offline: atoms-webhook demo"
)]
pub struct Cli {
    /// Options every command accepts.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command accepts.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Base URL of the Atoms API: the current host by default, the older host
    /// https://atoms-api.smallest.ai/api/v1, a proxy or an emulator's URL.
    #[arg(
        long,
        global = true,
        env = "ATOMS_BASE_URL",
        hide_env_values = true,
        default_value = DEFAULT_BASE_URL,
        value_name = "URL"
    )]
    pub base_url: String,

    /// Atoms API key, sent as a Bearer token.
    #[arg(
        long,
        global = true,
        env = "SMALLEST_API_KEY",
        hide_env_values = true,
        value_name = "KEY"
    )]
    pub api_key: Option<String>,

    /// Print machine-readable JSON instead of text (secrets stay redacted, except `secret`).
    #[arg(long, global = true)]
    pub json: bool,

    /// How long one HTTP request may take, in seconds (fractions allowed). Default: 30 for the
    /// API, 10 for trigger and forward.
    #[arg(long, global = true, value_name = "SECS", value_parser = parse_secs)]
    pub timeout: Option<Duration>,
}

/// How long one API request may take when `--timeout` is not given.
pub const DEFAULT_API_TIMEOUT: Duration = Duration::from_secs(30);

impl GlobalArgs {
    /// The API key of `--api-key` or `SMALLEST_API_KEY`, trimmed; `None` when unset or blank.
    pub fn api_key(&self) -> Option<&str> {
        self.api_key
            .as_deref()
            .map(str::trim)
            .filter(|k| !k.is_empty())
    }

    /// The base URL of the API; an empty `--base-url` or `ATOMS_BASE_URL` means unset, as
    /// for `Config::from_env`.
    pub fn api_base_url(&self) -> &str {
        match self.base_url.trim() {
            "" => DEFAULT_BASE_URL,
            url => url,
        }
    }

    /// The timeout of one API request: `--timeout`, or [`DEFAULT_API_TIMEOUT`].
    pub fn api_timeout(&self) -> Duration {
        self.timeout.unwrap_or(DEFAULT_API_TIMEOUT)
    }

    /// The configuration of an API client (blocking or async: both take the transport's
    /// `Config`) for `key`, the base URL and the timeout; the connect timeout is never longer
    /// than the total one.
    pub fn api_config(&self, key: &str) -> Config {
        let timeout = self.api_timeout();
        let config = Config::new(key).base_url(self.api_base_url());
        let connect = config.connect_timeout.min(timeout);
        config.timeout(timeout).connect_timeout(connect)
    }
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List, show, create, update and delete webhooks.
    #[command(subcommand, visible_alias = "webhook")]
    Webhooks(WebhooksCmd),

    /// Show and change which events of an agent go to which webhook.
    #[command(subcommand, visible_alias = "subs")]
    Subscriptions(SubscriptionsCmd),

    /// Print a webhook's signing secret (the only command that prints one).
    Secret(SecretArgs),

    /// Check a saved delivery body against its X-Signature, then parse it.
    Verify(VerifyArgs),

    /// Run a local receiver that verifies, shows and optionally forwards deliveries.
    Listen(ListenArgs),

    /// Send signed sample deliveries to any endpoint.
    Trigger(TriggerArgs),

    /// Run the local Atoms webhook API emulator until Ctrl-C.
    Emulate(EmulateArgs),

    /// Show the whole loop offline in seconds: emulator, receiver, webhook, a simulated call.
    Demo(DemoArgs),

    /// Never lose a delivery: a durable inbox (SQLite or PostgreSQL) in front of your app, with
    /// workers that forward each delivery or run a command, retried until done.
    #[command(subcommand)]
    Inbox(InboxCmd),
}

/// The environment variable that may hold the PostgreSQL URL of `inbox` commands.
pub const DATABASE_URL_ENV: &str = "ATOMS_INBOX_DATABASE_URL";

/// The default SQLite file of `inbox` commands.
pub const DEFAULT_DB: &str = "atoms-inbox.db";

/// `inbox ...`.
#[derive(Debug, Subcommand)]
pub enum InboxCmd {
    /// Receive deliveries into the inbox (answering 2xx once stored) and process them.
    Serve(Box<ServeArgs>),
    /// Process stored deliveries only (for several ingest and worker processes on one
    /// PostgreSQL).
    Work(WorkArgs),
    /// List stored deliveries, oldest first.
    #[command(visible_alias = "ls")]
    List(InboxListArgs),
    /// Show one stored delivery.
    Show(ShowArgs),
    /// Make deliveries pending again (dead letters included), to be processed anew.
    Replay(ReplayArgs),
    /// Counts by status, duplicates, rejections by reason, age of the oldest pending delivery.
    Stats(StoreArgs),
    /// Delete done deliveries processed before an age, or every dead letter; prints how many.
    Purge(PurgeArgs),
}

/// Where the inbox is: a SQLite file or a PostgreSQL database.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Inbox")]
pub struct StoreArgs {
    /// The SQLite file of the inbox (created when missing) [default: atoms-inbox.db].
    #[arg(long, value_name = "PATH", conflicts_with = "database_url")]
    pub db: Option<PathBuf>,

    /// A PostgreSQL URL (postgres://user:pass@host/db) instead of a SQLite file.
    #[arg(long, env = DATABASE_URL_ENV, hide_env_values = true, value_name = "URL")]
    pub database_url: Option<String>,

    /// With --database-url: the PostgreSQL schema of the inbox's tables (created when
    /// missing), so that several inboxes can share one database.
    #[arg(long, value_name = "NAME", requires = "database_url")]
    pub schema: Option<String>,
}

/// What workers do with each delivery.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Processing")]
pub struct HandlerArgs {
    /// POST the original raw body, with its Content-Type and X-Signature, plus
    /// X-Atoms-Delivery-Id and X-Atoms-Delivery-Attempt, to this URL; a 2xx marks it done.
    #[arg(long, value_name = "URL", conflicts_with = "exec")]
    pub forward: Option<String>,

    /// Run this command (through `sh -c`) with the body on stdin; exit status 0 marks it done.
    /// ATOMS_DELIVERY_ID and ATOMS_DELIVERY_ATTEMPT are set in its environment.
    #[arg(long, value_name = "CMD")]
    pub exec: Option<String>,
}

/// How workers process.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Workers")]
pub struct WorkerArgs {
    /// Concurrent workers (deliveries of one call are still handled in order).
    #[arg(long, default_value_t = 4, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub workers: u32,

    /// Attempts before a delivery becomes a dead letter.
    #[arg(long, default_value_t = 8, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub max_attempts: u32,

    /// The wait after the first failed attempt, doubled after each further one.
    #[arg(long, default_value = "1", value_name = "SECS", value_parser = parse_secs)]
    pub backoff: Duration,

    /// The longest wait between two attempts.
    #[arg(long, default_value = "300", value_name = "SECS", value_parser = parse_secs)]
    pub max_backoff: Duration,

    /// How long a claim lasts: a crashed worker's deliveries come back after it. Keep it longer
    /// than one forward (--timeout, default 10 s) or one --exec run.
    #[arg(long, default_value = "60", value_name = "SECS", value_parser = parse_secs)]
    pub lease: Duration,

    /// How often an idle worker looks for new or due deliveries.
    #[arg(long, default_value = "0.2", value_name = "SECS", value_parser = parse_secs)]
    pub poll: Duration,

    /// On Ctrl-C or SIGTERM, how long in-flight work may take to finish.
    #[arg(long, default_value = "10", value_name = "SECS", value_parser = parse_secs)]
    pub grace: Duration,
}

/// `inbox serve`.
#[derive(Debug, Args)]
#[command(
    after_help = "Answers 2xx only once the delivery is stored durably; a duplicate delivery id \
is answered 2xx and not stored again; a bad or missing signature gets 401, a body over \
--max-body 413; a signed body that does not parse is kept as a dead letter and answered 2xx. \
Done deliveries are deleted after --retain-done (one week; 0 keeps them); dead letters stay until \
replayed or purged (`inbox purge`).\n\n\
Example:\n  atoms-webhook inbox serve --secret \"$SECRET\" --port 9000 --forward http://127.0.0.1:3000/atoms"
)]
pub struct ServeArgs {
    /// The webhook's signing secret (repeat it to accept several while rotating).
    #[arg(
        long = "secret",
        env = SECRET_ENV,
        hide_env_values = true,
        required = true,
        value_name = "SECRET"
    )]
    pub secrets: Vec<String>,

    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1", value_name = "HOST")]
    pub host: String,

    /// The port to listen on (0 picks a free one; the real one is printed).
    #[arg(long, default_value_t = 9000, value_name = "PORT")]
    pub port: u16,

    /// The largest body accepted, in bytes; larger ones get 413 and are not stored.
    #[arg(long, default_value_t = DEFAULT_MAX_BODY, value_name = "BYTES")]
    pub max_body: usize,

    /// Only receive: no workers in this process.
    #[arg(long, conflicts_with_all = ["forward", "exec"])]
    pub no_workers: bool,

    /// Where the inbox is.
    #[command(flatten)]
    pub store: StoreArgs,

    /// What workers do with each delivery (without either, deliveries are only stored).
    #[command(flatten)]
    pub handler: HandlerArgs,

    /// How workers process.
    #[command(flatten)]
    pub worker: WorkerArgs,

    /// Reconcile the inbox against the call logs (GET /conversation, with the global
    /// --api-key and --base-url): a delivery that never arrived for a final call of a
    /// subscribed agent is recovered from its call log and processed like the others
    /// (forwarded with `X-Atoms-Recovered: <event type>`, signed with the webhook's secret).
    #[arg(long)]
    pub reconcile: bool,

    /// With --reconcile: how long a missing delivery may still arrive once its call log is
    /// final, in seconds (0 allowed). Default: 120.
    #[arg(long, value_name = "SECS", value_parser = parse_secs_or_zero, requires = "reconcile")]
    pub reconcile_grace: Option<Duration>,

    /// With --reconcile: how often the call logs are swept for calls of which nothing arrived,
    /// in seconds. Default: 300.
    #[arg(long, value_name = "SECS", value_parser = parse_secs, requires = "reconcile")]
    pub sweep_interval: Option<Duration>,

    /// With --reconcile: the webhook this inbox receives for. Default: the one whose signing
    /// secret is a --secret.
    #[arg(long, value_name = "ID", requires = "reconcile")]
    pub webhook: Option<String>,

    /// How long processed deliveries are kept.
    #[command(flatten)]
    pub retention: RetentionArgs,

    /// Refusing old delivery ids.
    #[command(flatten)]
    pub replay: ReplayWindowArgs,
}

/// `inbox work`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("handler").args(["forward", "exec"]).required(true)))]
pub struct WorkArgs {
    /// Where the inbox is.
    #[command(flatten)]
    pub store: StoreArgs,

    /// The webhook's signing secret, to sign the recovered items `--forward` sends (they carry
    /// no Atoms signature).
    #[arg(long = "secret", env = SECRET_ENV, hide_env_values = true, value_name = "SECRET")]
    pub secret: Option<String>,

    /// What to do with each delivery.
    #[command(flatten)]
    pub handler: HandlerArgs,

    /// How to process.
    #[command(flatten)]
    pub worker: WorkerArgs,

    /// How long processed deliveries are kept.
    #[command(flatten)]
    pub retention: RetentionArgs,
}

/// Retention of `inbox serve` and `inbox work`: a task in the process deletes done deliveries
/// older than `--retain-done`; dead letters stay until replayed or purged.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Retention")]
pub struct RetentionArgs {
    /// Delete done deliveries processed longer ago than this (the default is one week); 0 keeps them
    /// forever. Dead letters are never deleted by it (`inbox purge --dead` does). Keep it longer
    /// than --replay-window, so that de-duplication covers every id the window lets through.
    #[arg(long, default_value = "604800", value_name = "SECS", value_parser = parse_secs_or_zero)]
    pub retain_done: Duration,

    /// How often the retention task runs (the first run is at start).
    #[arg(long, default_value = "300", value_name = "SECS", value_parser = parse_secs)]
    pub purge_every: Duration,
}

/// Replay protection of `inbox serve` (off by default).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Replay protection")]
pub struct ReplayWindowArgs {
    /// Refuse (401, counted as `stale`, not stored) a signed delivery whose id's embedded
    /// ObjectId time is older than this. Off by default. It rests on an observation, not a
    /// platform promise: delivery ids have so far been ObjectIds minted at sending; Atoms signs
    /// no timestamp. Ids that are not ObjectIds are not checked. Allow for clock skew.
    #[arg(long, value_name = "SECS", value_parser = parse_secs)]
    pub replay_window: Option<Duration>,
}

/// `inbox purge`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("what").args(["done_before", "dead"]).multiple(true).required(true)))]
pub struct PurgeArgs {
    /// Where the inbox is.
    #[command(flatten)]
    pub store: StoreArgs,

    /// Delete done deliveries processed longer ago than this (0: every done delivery).
    /// Pending ones and dead letters are kept.
    #[arg(long, value_name = "SECS", value_parser = parse_secs_or_zero)]
    pub done_before: Option<Duration>,

    /// Delete every dead letter (they are not processed again).
    #[arg(long)]
    pub dead: bool,
}

/// A delivery status, as `inbox list --status` takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StatusArg {
    /// Stored, not processed yet (or waiting for another attempt).
    Pending,
    /// Processed.
    Done,
    /// Failed every attempt, or could not be parsed.
    Dead,
}

/// `inbox list`.
#[derive(Debug, Args)]
pub struct InboxListArgs {
    /// Where the inbox is.
    #[command(flatten)]
    pub store: StoreArgs,

    /// Only deliveries with this status.
    #[arg(long, value_enum, value_name = "STATUS")]
    pub status: Option<StatusArg>,

    /// At most this many.
    #[arg(long, default_value_t = 100, value_name = "N")]
    pub limit: u32,

    /// Only items recovered from the call logs (see `inbox serve --reconcile`).
    #[arg(long)]
    pub recovered: bool,
}

/// `inbox show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Where the inbox is.
    #[command(flatten)]
    pub store: StoreArgs,

    /// The delivery id.
    pub id: String,

    /// Print the raw body as received instead of the summary.
    #[arg(long)]
    pub body: bool,
}

/// `inbox replay`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("which").args(["ids", "dead"]).required(true)))]
pub struct ReplayArgs {
    /// Where the inbox is.
    #[command(flatten)]
    pub store: StoreArgs,

    /// The delivery ids to process again.
    #[arg(value_name = "ID", conflicts_with = "dead")]
    pub ids: Vec<String>,

    /// Every dead letter.
    #[arg(long)]
    pub dead: bool,
}

/// `webhooks ...`.
#[derive(Debug, Subcommand)]
pub enum WebhooksCmd {
    /// List every webhook of the organization (secrets shown as [redacted]).
    #[command(visible_alias = "ls")]
    List,

    /// Show one webhook (its secret shown as [redacted]; see `atoms-webhook secret`).
    Get {
        /// The webhook's id (24 hexadecimal characters).
        id: String,
    },

    /// Create a webhook and print its id.
    #[command(
        after_help = "Subscriptions at creation: each --event is [AGENT:]EVENT, where EVENT is \
pre-conversation, post-conversation, analytics-completed (or pre, post, analytics), or all. \
An --event without AGENT: uses the agent of --agent. Several values may follow one --event, \
or be separated by commas.\n\n\
Examples:\n  \
atoms-webhook webhooks create --url https://example.com/atoms --description CRM\n  \
atoms-webhook webhooks create --url https://example.com/atoms --agent 60d0fe4f5311236168a109ca --event all\n  \
atoms-webhook webhooks create --url https://example.com/atoms \\\n    \
--event 60d0fe4f5311236168a109ca:post 60d0fe4f5311236168a109cb:analytics"
    )]
    Create(CreateArgs),

    /// Change a webhook's URL, description or custom headers.
    Update(UpdateArgs),

    /// Delete a webhook. One that agents are subscribed to needs --cascade.
    #[command(visible_alias = "rm")]
    Delete(DeleteArgs),
}

/// `webhooks create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The URL deliveries are POSTed to (absolute http or https).
    #[arg(long, value_name = "URL")]
    pub url: String,

    /// A label for the webhook.
    #[arg(long, value_name = "TEXT", default_value = "")]
    pub description: String,

    /// The agent for every --event given without an AGENT: prefix.
    #[arg(long, value_name = "AGENT")]
    pub agent: Option<String>,

    /// Subscribe at creation: [AGENT:]EVENT (repeatable; see below).
    #[arg(
        long = "event",
        value_name = "[AGENT:]EVENT",
        num_args = 1..,
        value_delimiter = ',',
        value_parser = parse_agent_event
    )]
    pub events: Vec<AgentEvent>,
}

/// `webhooks update`.
#[derive(Debug, Args)]
#[command(group(
    clap::ArgGroup::new("change")
        .args(["url", "description", "headers", "clear_headers"])
        .required(true)
        .multiple(true)
))]
pub struct UpdateArgs {
    /// The webhook's id.
    pub id: String,

    /// A new delivery URL.
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,

    /// A new label.
    #[arg(long, value_name = "TEXT")]
    pub description: Option<String>,

    /// A custom header sent with every delivery, as NAME=VALUE (repeatable). The set given
    /// REPLACES all current custom headers.
    #[arg(
        long = "header",
        value_name = "NAME=VALUE",
        value_parser = parse_header,
        conflicts_with = "clear_headers"
    )]
    pub headers: Vec<(String, String)>,

    /// Remove every custom header.
    #[arg(long)]
    pub clear_headers: bool,
}

/// `webhooks delete`.
#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// The webhook's id.
    pub id: String,

    /// First clear the subscriptions of every agent subscribed to the webhook. The API clears an
    /// agent's subscriptions as a whole, so this refuses when those agents are also subscribed
    /// to other webhooks, unless --yes.
    #[arg(long)]
    pub cascade: bool,

    /// With --cascade: go on even when agents lose subscriptions to other webhooks too.
    #[arg(long, requires = "cascade")]
    pub yes: bool,
}

/// `subscriptions ...`.
#[derive(Debug, Subcommand)]
pub enum SubscriptionsCmd {
    /// List an agent's subscriptions, to every webhook.
    Get {
        /// The agent's id (24 hexadecimal characters).
        agent: String,
    },

    /// REPLACE all of an agent's subscriptions (to every webhook) with these events on one
    /// webhook.
    Set(SetArgs),

    /// Add events on a webhook to an agent, keeping those it has on that webhook. Refuses when
    /// the agent is also subscribed to other webhooks (the API would drop those), unless
    /// --force.
    Add(AddArgs),

    /// Remove ALL of an agent's subscriptions, across webhooks.
    Clear {
        /// The agent's id.
        agent: String,
    },
}

/// `subscriptions set`.
#[derive(Debug, Args)]
pub struct SetArgs {
    /// The agent's id.
    pub agent: String,

    /// The webhook the events go to.
    #[arg(long, value_name = "ID")]
    pub webhook: String,

    /// Event types: pre-conversation, post-conversation, analytics-completed (or pre, post,
    /// analytics), or all. Several may follow one --event, or be separated by commas.
    #[arg(
        long = "event",
        value_name = "EVENT",
        required = true,
        num_args = 1..,
        value_delimiter = ',',
        value_parser = parse_events
    )]
    pub events: Vec<Events>,
}

/// `subscriptions add`.
#[derive(Debug, Args)]
pub struct AddArgs {
    /// The agent's id.
    pub agent: String,

    /// The webhook the events go to.
    #[arg(long, value_name = "ID")]
    pub webhook: String,

    /// Event types, as for `set`.
    #[arg(
        long = "event",
        value_name = "EVENT",
        required = true,
        num_args = 1..,
        value_delimiter = ',',
        value_parser = parse_events
    )]
    pub events: Vec<Events>,

    /// Go on even when the agent loses its subscriptions to other webhooks.
    #[arg(long)]
    pub force: bool,
}

/// `secret`.
#[derive(Debug, Args)]
pub struct SecretArgs {
    /// The webhook's id.
    pub id: String,
}

/// `verify`.
#[derive(Debug, Args)]
#[command(
    after_help = "Prints `valid: <event type> call <call id>` and exits 0, or \
`invalid: <why>` and exits 1.\n\n\
Example:\n  atoms-webhook verify --secret \"$SECRET\" --signature \"$SIG\" body.json"
)]
pub struct VerifyArgs {
    /// The webhook's signing secret.
    #[arg(long, env = SECRET_ENV, hide_env_values = true, value_name = "SECRET")]
    pub secret: Option<String>,

    /// The X-Signature header value (64 hex characters, either case, optionally `sha256=`; a
    /// whole `X-Signature:` or `X-Atoms-Signature:` line works too). Without it the body is only
    /// parsed.
    #[arg(long, value_name = "HEX", requires = "secret")]
    pub signature: Option<String>,

    /// The raw delivery body: a file, or - for stdin.
    #[arg(value_name = "FILE", default_value = "-")]
    pub file: PathBuf,
}

/// `listen`.
#[derive(Debug, Args)]
#[command(
    after_help = "Answers 401 to a bad or missing signature, 413 to a body over \
--max-body (before hashing), 400 to a signed body that does not parse, 2xx otherwise (an \
unknown event type included).\n\n\
Example:\n  atoms-webhook listen --port 9000 --secret \"$SECRET\" --forward http://127.0.0.1:3000/atoms"
)]
pub struct ListenArgs {
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1", value_name = "HOST")]
    pub host: String,

    /// The port to listen on (0 picks a free one; the real one is printed).
    #[arg(long, default_value_t = 9000, value_name = "PORT")]
    pub port: u16,

    /// The webhook's signing secret (repeat it to accept several while rotating).
    #[arg(
        long = "secret",
        env = SECRET_ENV,
        hide_env_values = true,
        required = true,
        value_name = "SECRET"
    )]
    pub secrets: Vec<String>,

    /// POST every verified body, with its Content-Type and X-Signature, to this URL too.
    #[arg(long, value_name = "URL")]
    pub forward: Option<String>,

    /// The largest body accepted, in bytes; larger ones get 413.
    #[arg(long, default_value_t = DEFAULT_MAX_BODY, value_name = "BYTES")]
    pub max_body: usize,
}

/// `trigger`.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  atoms-webhook trigger --url http://127.0.0.1:9000/atoms \
--secret \"$SECRET\" --event post-conversation"
)]
pub struct TriggerArgs {
    /// Where to POST the deliveries.
    #[arg(long, value_name = "URL")]
    pub url: String,

    /// The secret to sign them with.
    #[arg(long, env = SECRET_ENV, hide_env_values = true, value_name = "SECRET")]
    pub secret: String,

    /// Which events of the sample call to send: pre-conversation, post-conversation,
    /// analytics-completed (or pre, post, analytics), or all.
    #[arg(
        long = "event",
        value_name = "EVENT",
        default_value = "all",
        value_delimiter = ',',
        value_parser = parse_events
    )]
    pub events: Vec<Events>,

    /// The agent id the sample call carries.
    #[arg(long, value_name = "AGENT")]
    pub agent: Option<String>,
}

/// `emulate`.
#[derive(Debug, Args)]
#[command(
    after_help = "The emulator accepts the key of --api-key (or SMALLEST_API_KEY) and \
otherwise `test-api-key`.\n\n\
Example:\n  atoms-webhook emulate --listen 127.0.0.1:8080 &\n  \
ATOMS_BASE_URL=http://127.0.0.1:8080 SMALLEST_API_KEY=test-api-key atoms-webhook webhooks list"
)]
pub struct EmulateArgs {
    /// The emulator's own arguments (shared with the `atoms-webhook-emulator` binary).
    #[command(flatten)]
    pub serve: atoms_webhook_emulator::run::ServeArgs,
}

/// `demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// How long to wait for the three deliveries, in seconds.
    #[arg(long, default_value = "5", value_name = "SECS", value_parser = parse_secs)]
    pub wait: Duration,

    /// Show a lost delivery recovered instead: the emulator drops the call's post-conversation
    /// and analytics-completed (as if the receiver had been down), and the inbox's
    /// reconciliation recovers them from the call logs.
    #[arg(long)]
    pub lost: bool,
}

/// One `--event` of `create`: an optional agent and one or more event types.
#[derive(Debug, Clone)]
pub struct AgentEvent {
    /// The agent, when the value had an `AGENT:` prefix.
    pub agent: Option<String>,
    /// The event types it names.
    pub events: Vec<EventType>,
}

/// One `--event` value: one event type, or the three of `all`.
#[derive(Debug, Clone)]
pub struct Events(pub Vec<EventType>);

/// Flattens `--event` values, keeping the first occurrence of each type.
pub fn flatten_events(values: &[Events]) -> Vec<EventType> {
    let mut out: Vec<EventType> = Vec::new();
    for e in values.iter().flat_map(|v| v.0.iter()) {
        if !out.contains(e) {
            out.push(e.clone());
        }
    }
    out
}

/// An event name (with short aliases) or `all`.
pub fn parse_events(s: &str) -> Result<Events, String> {
    let events = match s.trim().to_ascii_lowercase().as_str() {
        "all" => EventType::ALL.to_vec(),
        "pre" | "pre-conversation" => vec![EventType::PreConversation],
        "post" | "post-conversation" => vec![EventType::PostConversation],
        "analytics" | "analytics-completed" => vec![EventType::AnalyticsCompleted],
        _ => {
            return Err(
                "expected pre-conversation, post-conversation, analytics-completed \
                        (or pre, post, analytics), or all"
                    .to_owned(),
            )
        }
    };
    Ok(Events(events))
}

/// `[AGENT:]EVENT`.
fn parse_agent_event(s: &str) -> Result<AgentEvent, String> {
    match s.split_once(':') {
        Some((agent, event)) => {
            let agent = agent.trim();
            if agent.is_empty() {
                return Err("the AGENT before ':' is empty".to_owned());
            }
            Ok(AgentEvent {
                agent: Some(agent.to_owned()),
                events: parse_events(event)?.0,
            })
        }
        None => Ok(AgentEvent {
            agent: None,
            events: parse_events(s)?.0,
        }),
    }
}

/// `NAME=VALUE`, with a non-empty name.
fn parse_header(s: &str) -> Result<(String, String), String> {
    let (name, value) = s
        .split_once('=')
        .ok_or_else(|| "expected NAME=VALUE".to_owned())?;
    let name = name.trim();
    if name.is_empty() {
        return Err("the header NAME is empty".to_owned());
    }
    Ok((name.to_owned(), value.to_owned()))
}

/// A positive, finite number of seconds.
fn parse_secs(s: &str) -> Result<Duration, String> {
    let secs: f64 = s
        .trim()
        .parse()
        .map_err(|_| "expected a number of seconds, e.g. 5 or 0.5".to_owned())?;
    if !secs.is_finite() || secs <= 0.0 {
        return Err("must be more than 0 seconds".to_owned());
    }
    Duration::try_from_secs_f64(secs).map_err(|_| "too large".to_owned())
}

/// Like [`parse_secs`], but 0 is allowed.
fn parse_secs_or_zero(s: &str) -> Result<Duration, String> {
    match s.trim().parse::<f64>() {
        Ok(0.0) => Ok(Duration::ZERO),
        _ => parse_secs(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn grammar_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn events() {
        assert_eq!(parse_events("all").unwrap().0.len(), 3);
        assert_eq!(
            parse_events("Post").unwrap().0,
            vec![EventType::PostConversation]
        );
        assert!(parse_events("call-ended").is_err());
        let e = parse_agent_event("60d0fe4f5311236168a109ca:analytics").unwrap();
        assert_eq!(e.agent.as_deref(), Some("60d0fe4f5311236168a109ca"));
        assert_eq!(e.events, vec![EventType::AnalyticsCompleted]);
        assert!(parse_agent_event(":pre").is_err());
        assert_eq!(
            flatten_events(&[parse_events("pre").unwrap(), parse_events("all").unwrap()]).len(),
            3
        );
    }

    #[test]
    fn headers_and_seconds() {
        assert_eq!(
            parse_header("X-Token=a=b").unwrap(),
            ("X-Token".to_owned(), "a=b".to_owned())
        );
        assert!(parse_header("novalue").is_err());
        assert!(parse_header("=v").is_err());
        assert_eq!(parse_secs("0.5").unwrap(), Duration::from_millis(500));
        assert!(parse_secs("0").is_err());
        assert!(parse_secs("-1").is_err());
        assert!(parse_secs("x").is_err());
    }
}
