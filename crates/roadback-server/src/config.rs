//! The whole configuration: flags, each with an environment variable, validated at start-up.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use roadback_store::{Limits, StoreConfig, StoreLocation};

/// Roadback: the reintegration timeline platform.
#[derive(Debug, Parser)]
#[command(name = "roadback", version, about)]
pub struct Cli {
    /// Where Roadback keeps and finds its data.
    #[command(flatten)]
    pub store: StoreArgs,
    /// The master keys of the personal-data vault.
    #[command(flatten)]
    pub keys: KeyArgs,
    /// How Roadback logs.
    #[arg(long, env = "ROADBACK_LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty, global = true)]
    pub log_format: LogFormat,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Runs the server: health checks now; the GraphQL API and web client as they land.
    Serve(ServeArgs),
    /// Brings the database schema up to date, then exits (the server also does this on start).
    Migrate,
    /// Rebuilds the read models (plans and caseload) from the event log, with a progress bar.
    /// The server need not stop: readers see the old read models until the rebuild commits
    /// (on SQLite, appends wait for it).
    Rebuild,
    /// Prints the GraphQL schema (SDL), as `schema.graphql` holds it.
    Schema,
    /// Manages organisations.
    #[command(subcommand)]
    Organisation(OrganisationCommand),
    /// Manages users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manages API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Manages the vault's master keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// The demo program.
    #[command(subcommand)]
    Demo(DemoCommand),
    /// Writes a research export and its codebook (only people whose consent to evaluation use
    /// is in force, under pseudonyms), with a progress bar; written to the access log.
    Export(ExportArgs),
}

/// Options of `roadback export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Which file: wide (a row per person), long (a row per fact), adtte (time to each outcome).
    #[arg(long, value_parser = ["wide", "long", "adtte"])]
    pub format: String,
    /// Who exports (an evaluator sees the program, a supervisor their organisation): the
    /// e-mail address of their account, for access and the access log.
    #[arg(long = "as")]
    pub as_user: String,
    /// The file to write (its codebook goes beside it, `<name>.codebook.csv`).
    #[arg(long)]
    pub out: std::path::PathBuf,
    /// Valid-time cut-off (YYYY-MM-DD; default: the recorded cut-off's day).
    #[arg(long)]
    pub valid_on: Option<chrono::NaiveDate>,
    /// Recorded-time cut-off (RFC 3339; default: now, printed so the export can be repeated).
    #[arg(long)]
    pub recorded_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Where follow-up starts: identification, intake or first_service.
    #[arg(long, default_value = "identification", value_parser = ["identification", "intake", "first_service"])]
    pub origin: String,
    /// How follow-up without an outcome is cut: last_contact or cut_off.
    #[arg(long, default_value = "last_contact", value_parser = ["last_contact", "cut_off"])]
    pub censoring: String,
}

/// `roadback demo ...`
#[derive(Debug, Subcommand)]
pub enum DemoCommand {
    /// Loads the demo program (a synthetic TVRP) into the configured store, with a progress
    /// bar, and prints the demo users' sign-in. Does nothing if it is loaded already.
    Load(DemoArgs),
}

/// Which demo program.
#[derive(Clone, Copy, Debug, Args)]
pub struct DemoArgs {
    /// The seed: the same seed loads the same program.
    #[arg(long, env = "ROADBACK_DEMO_SEED", default_value_t = 2015)]
    pub seed: u64,
    /// Copies of the program (1 = the TVRP's 2,890 beneficiaries), for benchmarks.
    #[arg(long, env = "ROADBACK_DEMO_SCALE", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub scale: u32,
}

/// `roadback organisation ...`
#[derive(Debug, Subcommand)]
pub enum OrganisationCommand {
    /// Adds an organisation and prints its id.
    Create {
        /// Its name (unique).
        #[arg(long)]
        name: String,
        /// Its country, ISO 3166-1 alpha-2 (e.g. AL, XK).
        #[arg(long)]
        country: String,
    },
    /// Lists the organisations.
    List,
}

/// `roadback user ...`
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Adds a user to an organisation and prints their id.
    Create {
        /// The organisation's name or id.
        #[arg(long)]
        organisation: String,
        /// Their e-mail address (their sign-in name).
        #[arg(long)]
        email: String,
        /// The name shown to colleagues.
        #[arg(long)]
        name: String,
        /// Their role.
        #[arg(long, value_parser = ["administrator", "supervisor", "caseworker", "evaluator", "integrator"])]
        role: String,
        /// Their password (at least 12 characters); leave unset for a token-only account.
        #[arg(long, env = "ROADBACK_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
}

/// `roadback token ...`
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Issues an API token for a user and prints its secret (shown only this once).
    Issue {
        /// The user's e-mail address.
        #[arg(long)]
        email: String,
        /// A name for people.
        #[arg(long)]
        name: String,
        /// Comma-separated scopes: read, write, personal_data.
        #[arg(long, value_delimiter = ',', value_parser = ["read", "write", "personal_data"], default_value = "read")]
        scopes: Vec<String>,
        /// Days until it stops working (unset: until revoked).
        #[arg(long)]
        expires_in_days: Option<u32>,
    },
}

/// Store selection, shared by every subcommand.
#[derive(Debug, Args)]
pub struct StoreArgs {
    /// PostgreSQL connection URL; when unset, Roadback uses SQLite in the data directory.
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,
    /// Directory for the embedded SQLite database and other local files.
    #[arg(long, env = "ROADBACK_DATA_DIR", default_value = "data", global = true)]
    pub data_dir: PathBuf,
    /// Database connections in the pool.
    #[arg(long, env = "ROADBACK_DB_CONNECTIONS", default_value_t = 8, global = true,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub db_connections: u32,
    /// Seconds to wait for a database connection before reporting the store unavailable.
    #[arg(long, env = "ROADBACK_DB_TIMEOUT", default_value_t = 5, global = true,
          value_parser = clap::value_parser!(u64).range(1..=600))]
    pub db_timeout: u64,
    /// Largest event payload accepted, in bytes.
    #[arg(long, env = "ROADBACK_MAX_PAYLOAD_BYTES", default_value_t = Limits::default().max_payload_bytes as u64, global = true,
          value_parser = clap::value_parser!(u64).range(256..=16 * 1024 * 1024))]
    pub max_payload_bytes: u64,
}

impl StoreArgs {
    /// The store configuration these arguments describe.
    pub fn store_config(&self) -> StoreConfig {
        let location = match &self.database_url {
            Some(url) => StoreLocation::Postgres(url.clone()),
            None => StoreLocation::Sqlite(self.data_dir.join("roadback.db")),
        };
        let mut config = StoreConfig::new(location);
        config.max_connections = self.db_connections;
        config.acquire_timeout = std::time::Duration::from_secs(self.db_timeout);
        config.limits.max_payload_bytes = self.max_payload_bytes as usize;
        config
    }
}

/// Development or production.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Environment {
    /// A laptop or a test: a master key is generated in the data directory when none is given.
    Development,
    /// Real people's data: Roadback refuses to start without a configured master key.
    Production,
}

/// The vault's master keys.
#[derive(Debug, Args)]
pub struct KeyArgs {
    /// Development or production.
    #[arg(long, env = "ROADBACK_ENV", value_enum, default_value_t = Environment::Development, global = true)]
    pub environment: Environment,
    /// The master key, 64 hexadecimal characters (prefer the key file or a secret store).
    #[arg(
        long,
        env = "ROADBACK_MASTER_KEY",
        hide_env_values = true,
        global = true
    )]
    pub master_key: Option<String>,
    /// A file holding the master key (64 hexadecimal characters).
    #[arg(long, env = "ROADBACK_MASTER_KEY_FILE", global = true)]
    pub master_key_file: Option<PathBuf>,
    /// Earlier master keys, comma-separated, still read until `roadback keys rotate` re-wrapped
    /// every data key under the current one.
    #[arg(
        long,
        env = "ROADBACK_PREVIOUS_MASTER_KEYS",
        value_delimiter = ',',
        hide_env_values = true,
        global = true
    )]
    pub previous_master_keys: Vec<String>,
}

/// `roadback keys ...`
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Prints a new random master key (64 hexadecimal characters).
    Generate,
    /// Re-wraps every data key under the current master key (configure the old one as a
    /// previous key first). Safe while servers run.
    Rotate,
    /// Shows how many data keys each master key wraps.
    Status,
}

/// Options of `roadback serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "ROADBACK_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// The web client's production bundle (what `npm run build` writes in `web/`).
    #[arg(long, env = "ROADBACK_WEB_DIR", default_value = "web/dist")]
    pub web_dir: PathBuf,
    /// Hours a sign-in lasts.
    #[arg(long, env = "ROADBACK_SESSION_HOURS", default_value_t = 12,
          value_parser = clap::value_parser!(i64).range(1..=720))]
    pub session_hours: i64,
    /// Mark the session cookie Secure (set this when served over HTTPS).
    #[arg(long, env = "ROADBACK_SECURE_COOKIES")]
    pub secure_cookies: bool,
    /// The origin the web client is served from, e.g. `https://roadback.example.org` (behind a
    /// proxy); requests carrying the session cookie must come from it. Default: the address
    /// the request was sent to.
    #[arg(long, env = "ROADBACK_PUBLIC_ORIGIN", value_parser = parse_origin)]
    pub public_origin: Option<String>,
    /// A secret a metrics collector sends (`Authorization: Bearer <secret>`) to read `/metrics`
    /// in production; administrators signed in may read it too. Open in development.
    #[arg(long, env = "ROADBACK_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
    /// Connections (WebSockets included) open at once; more clients wait to be accepted.
    /// Keep it below the process's file-descriptor limit (`ulimit -n`) less the database pool.
    #[arg(long, env = "ROADBACK_MAX_CONNECTIONS", default_value_t = 512,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_connections: u32,
    /// Seconds a client may take to send a request's headers, and between parts of its body;
    /// also how long an idle connection stays open.
    #[arg(long, env = "ROADBACK_HEADER_TIMEOUT", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=300))]
    pub header_timeout: u64,
    /// Reverse proxies in front of Roadback (IP addresses, comma-separated): from them the
    /// client's address is taken from `X-Forwarded-For` (sign-in throttling counts per client
    /// address). Unset: the connection's address, whatever a client claims.
    #[arg(long, env = "ROADBACK_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Load the demo program on first start (see `roadback demo load`).
    #[arg(long, env = "ROADBACK_DEMO")]
    pub demo: bool,
    /// The demo program, when loaded.
    #[command(flatten)]
    pub demo_args: DemoArgs,
}

/// An origin: scheme, host and optional port, nothing after.
fn parse_origin(value: &str) -> Result<String, String> {
    let value = value.trim_end_matches('/');
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"))
        .ok_or("an origin starts with http:// or https://")?;
    if rest.is_empty() || rest.contains(['/', '?', '#', ' ']) {
        return Err(
            "an origin is scheme, host and port only, e.g. https://roadback.example.org".into(),
        );
    }
    Ok(value.to_ascii_lowercase())
}

/// Log output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line, for log collectors.
    Json,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn sqlite_in_the_data_directory_by_default() {
        let cli = Cli::try_parse_from(["roadback", "--data-dir", "/tmp/x", "serve"]).unwrap();
        match cli.store.store_config().location {
            StoreLocation::Sqlite(path) => assert_eq!(path, PathBuf::from("/tmp/x/roadback.db")),
            other => panic!("{other:?}"),
        }
        let cli = Cli::try_parse_from(["roadback", "serve", "--database-url", "postgres://h/db"])
            .unwrap();
        assert!(matches!(
            cli.store.store_config().location,
            StoreLocation::Postgres(_)
        ));
    }

    #[test]
    fn bad_values_are_refused_at_start_up() {
        assert!(Cli::try_parse_from(["roadback", "serve", "--listen", "nowhere"]).is_err());
        assert!(Cli::try_parse_from(["roadback", "--db-connections", "0", "serve"]).is_err());
        assert!(Cli::try_parse_from(["roadback", "--max-payload-bytes", "10", "serve"]).is_err());
    }
}
