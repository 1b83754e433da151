//! The Roadback server: configuration, the HTTP application and the command line.
//!
//! `main.rs` only parses the command line; everything is wired here so tests can start the same app.

pub mod config;
pub mod demo;
pub mod graphql;
pub mod http;
pub mod listen;
pub mod metrics;
mod telemetry;
pub mod web;

use anyhow::Context;
use roadback_store::projector::{self, Projector};
use roadback_store::{EventStore, StoreLocation};

use config::{
    Cli, Command, DemoArgs, DemoCommand, Environment, KeyArgs, KeysCommand, OrganisationCommand,
    ServeArgs, TokenCommand, UserCommand,
};
use roadback_domain::access::{Role, Scope};
use roadback_graphql::error::ApiError;
use roadback_store::vault::{Keyring, MasterKey, Vault};

/// Events per projector transaction.
const PROJECTOR_BATCH: usize = 500;
/// How long requests in flight may take to finish after SIGTERM.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// Runs one command of the command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    telemetry::init(cli.log_format);
    let config = cli.store.store_config();
    let keys = || keyring(&cli.keys, &cli.store.data_dir);
    match cli.command {
        Command::Migrate => {
            open_store(&config).await?;
            tracing::info!("the database schema is up to date");
            Ok(())
        }
        Command::Serve(args) => {
            let keys = keys()?;
            let production = cli.keys.environment == config::Environment::Production;
            serve(open_store(&config).await?, keys, &args, production).await
        }
        Command::Demo(DemoCommand::Load(args)) => {
            let store = open_store(&config).await?;
            let vault = Vault::new(store.clone(), keys()?);
            load_demo(&store, &vault, args).await?;
            Ok(store.close().await?)
        }
        Command::Keys(KeysCommand::Generate) => {
            println!("{}", MasterKey::generate().to_hex());
            Ok(())
        }
        Command::Keys(KeysCommand::Rotate) => {
            let vault = Vault::new(open_existing(&config).await?, keys()?);
            let rotated = vault
                .rotate(|n| tracing::info!(rotated = n, "re-wrapping data keys"))
                .await
                .context("the rotation stopped; run it again to finish")?;
            println!(
                "re-wrapped {rotated} data keys under master key {}",
                vault.current_key_id()
            );
            Ok(())
        }
        Command::Keys(KeysCommand::Status) => {
            let vault = Vault::new(open_existing(&config).await?, keys()?);
            println!("current master key: {}", vault.current_key_id());
            for (id, count) in vault.key_usage().await? {
                println!("{id}\t{count} data keys");
            }
            Ok(())
        }
        Command::Rebuild => {
            let store = open_existing(&config).await?;
            rebuild(&store).await?;
            Ok(store.close().await?)
        }
        Command::Schema => {
            print!("{}", roadback_graphql::sdl());
            Ok(())
        }
        Command::Organisation(command) => {
            organisation(&open_existing(&config).await?, command).await
        }
        Command::User(command) => user(&open_existing(&config).await?, command).await,
        Command::Token(command) => token(&open_existing(&config).await?, command).await,
        Command::Export(args) => {
            let store = open_existing(&config).await?;
            let vault = Vault::new(store.clone(), keys()?);
            export(&store, vault, args).await?;
            Ok(store.close().await?)
        }
    }
}

/// `roadback export`: the same file as the `evaluationExport` query, written to disk.
async fn export(store: &EventStore, vault: Vault, args: config::ExportArgs) -> anyhow::Result<()> {
    use roadback_graphql::evaluation::{self, ExportFormat, analysis};
    let (user, _) = store
        .user_credentials(&args.as_user)
        .await?
        .with_context(|| format!("no user with the e-mail address {}", args.as_user))?;
    let session = roadback_graphql::auth::Session {
        principal: roadback_graphql::auth::session_principal(&user),
        user,
        credential: None,
    };
    if roadback_domain::access::authorize(
        &session.principal,
        roadback_domain::access::Action::ReadEvaluation,
        None,
    ) != roadback_domain::access::Access::Allowed
    {
        anyhow::bail!(
            "{} may not read evaluation data (evaluators and supervisors may)",
            args.as_user
        );
    }
    let format = match args.format.as_str() {
        "wide" => ExportFormat::Wide,
        "long" => ExportFormat::Long,
        _ => ExportFormat::Adtte,
    };
    fn parse<T: serde::de::DeserializeOwned>(code: &str) -> anyhow::Result<T> {
        Ok(serde_json::from_value(serde_json::Value::String(
            code.into(),
        ))?)
    }
    let spec = roadback_domain::evaluation::FollowUpSpec {
        origin: parse(&args.origin)?,
        censoring: parse(&args.censoring)?,
    };
    let cut = analysis::CutOffInput::resolve(
        Some(analysis::CutOffInput {
            valid_on: args.valid_on,
            recorded_at: args.recorded_at,
        }),
        chrono::Utc::now(),
    )
    .map_err(cli_error)?;
    let state = roadback_graphql::ApiState::new(store.clone(), vault);
    let bar = indicatif::ProgressBar::new(0).with_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} reading the records [{bar:40}] {human_pos}/{human_len} events, {eta} left",
        )?
        .progress_chars("=> "),
    );
    let shown = bar.clone();
    let (people, _turn) = analysis::load_cases(&state, &session, cut, move |read, head| {
        shown.set_length(head);
        shown.set_position(read);
    })
    .await
    .map_err(cli_error)?;
    bar.finish_and_clear();
    let secret = state.secret().await.map_err(cli_error)?;
    let file = evaluation::make_export(secret, &people, format, spec, cut);
    std::fs::write(&args.out, &file.csv)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    let codebook = args.out.with_extension("codebook.csv");
    std::fs::write(&codebook, &file.codebook_csv)
        .with_context(|| format!("cannot write {}", codebook.display()))?;
    evaluation::log_evaluation(
        store,
        &session,
        "EXPORT_EVALUATION",
        &format!(
            "{} by the command line ({} rows, SHA-256 {}), cut-off {}",
            file.file_name,
            file.rows,
            file.digest,
            file.cut_off.describe()
        ),
    )
    .await
    .map_err(cli_error)?;
    println!(
        "wrote {} ({} rows, SHA-256 {}) and its codebook {}, at the cut-off valid on {} as recorded at {} (give these to repeat it: --valid-on {} --recorded-at {})",
        args.out.display(),
        file.rows,
        file.digest,
        codebook.display(),
        file.cut_off.valid_on,
        file.cut_off.recorded_at.to_rfc3339(),
        file.cut_off.valid_on,
        file.cut_off.recorded_at.to_rfc3339(),
    );
    Ok(())
}

/// Loads the demo program with a progress bar and prints what it did and how to sign in.
async fn load_demo(store: &EventStore, vault: &Vault, args: DemoArgs) -> anyhow::Result<()> {
    let bar = indicatif::ProgressBar::new(0).with_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} loading the demo program [{bar:40}] {human_pos}/{human_len} beneficiaries, {per_sec}, {eta} left",
        )?
        .progress_chars("=> "),
    );
    let started = std::time::Instant::now();
    let shown = bar.clone();
    let loaded = demo::load(
        store,
        vault,
        roadback_demo::Config {
            seed: args.seed,
            scale: args.scale,
        },
        move |done, total| {
            shown.set_length(total);
            if done > 0 {
                shown.set_position(done);
            }
        },
    )
    .await
    .context("the demo program could not be loaded")?;
    bar.finish_and_clear();
    if loaded.already {
        println!("the demo program (seed {}) is loaded already", args.seed);
    } else {
        println!(
            "loaded the demo program (seed {}, scale {}): {} beneficiaries, {} events in {:.1} s",
            args.seed,
            args.scale,
            loaded.beneficiaries,
            loaded.events,
            started.elapsed().as_secs_f64()
        );
    }
    print!("{}", demo::sign_ins(args.seed));
    Ok(())
}

/// The vault's keyring from the configuration. In development without a key, one is generated
/// in the data directory (with a warning); in production a configured key is required.
fn keyring(args: &KeyArgs, data_dir: &std::path::Path) -> anyhow::Result<Keyring> {
    let parse = |hex: &str, what: &str| {
        MasterKey::from_hex(hex).map_err(|e| anyhow::anyhow!("{what}: {e}"))
    };
    let current = match (&args.master_key, &args.master_key_file) {
        (Some(hex), _) => parse(hex, "ROADBACK_MASTER_KEY")?,
        (None, Some(path)) => {
            let hex = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the master key file {}", path.display()))?;
            parse(&hex, "the master key file")?
        }
        (None, None) if args.environment == Environment::Production => anyhow::bail!(
            "production needs a master key for the personal-data vault: set ROADBACK_MASTER_KEY_FILE \
             (or ROADBACK_MASTER_KEY); `roadback keys generate` makes one"
        ),
        (None, None) => development_key(data_dir)?,
    };
    let previous = args
        .previous_master_keys
        .iter()
        .filter(|k| !k.trim().is_empty())
        .map(|hex| parse(hex, "ROADBACK_PREVIOUS_MASTER_KEYS"))
        .collect::<anyhow::Result<_>>()?;
    Ok(Keyring { current, previous })
}

/// The development master key in `<data dir>/master.key`, created on first use.
fn development_key(data_dir: &std::path::Path) -> anyhow::Result<MasterKey> {
    let path = data_dir.join("master.key");
    if let Ok(hex) = std::fs::read_to_string(&path) {
        return MasterKey::from_hex(&hex).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()));
    }
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create the data directory {}", data_dir.display()))?;
    let key = MasterKey::generate();
    {
        use std::io::Write;
        #[cfg(unix)]
        use std::os::unix::fs::OpenOptionsExt;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        options.mode(0o600);
        let mut file = options
            .open(&path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        writeln!(file, "{}", key.to_hex())?;
    }
    tracing::warn!(
        path = %path.display(),
        "DEVELOPMENT MASTER KEY generated next to the data: personal data is encrypted with a key \
         stored beside it. Never use this for real people's data; set ROADBACK_ENV=production and \
         ROADBACK_MASTER_KEY_FILE"
    );
    Ok(key)
}

/// An API error as a command-line error.
fn cli_error(e: ApiError) -> anyhow::Error {
    anyhow::anyhow!("{}", e.message())
}

async fn organisation(store: &EventStore, command: OrganisationCommand) -> anyhow::Result<()> {
    match command {
        OrganisationCommand::Create { name, country } => {
            if roadback_domain::vocabulary::CountryCode::new(&country).is_none() {
                anyhow::bail!("--country takes a two-letter ISO 3166 code, e.g. AL or XK");
            }
            if name.trim().is_empty() {
                anyhow::bail!("--name must not be empty");
            }
            let o = store
                .create_organisation(&name, &country)
                .await
                .map_err(|e| cli_error(e.into()))?;
            println!("{}", o.id);
        }
        OrganisationCommand::List => {
            for o in store.organisations().await? {
                println!("{}\t{}\t{}", o.id, o.country, o.name);
            }
        }
    }
    Ok(())
}

async fn user(store: &EventStore, command: UserCommand) -> anyhow::Result<()> {
    let UserCommand::Create {
        organisation,
        email,
        name,
        role,
        password,
    } = command;
    let organisations = store.organisations().await?;
    let org = organisations
        .iter()
        .find(|o| o.name == organisation || o.id.to_string() == organisation)
        .with_context(|| {
            format!("no organisation named {organisation:?}; see `roadback organisation list`")
        })?;
    let role = Role::from_code(&role).context("unknown role")?;
    let user = roadback_graphql::auth::create_user(
        store,
        org.id,
        &email,
        &name,
        role,
        password.as_deref(),
    )
    .await
    .map_err(cli_error)?;
    println!("{}", user.id);
    Ok(())
}

async fn token(store: &EventStore, command: TokenCommand) -> anyhow::Result<()> {
    let TokenCommand::Issue {
        email,
        name,
        scopes,
        expires_in_days,
    } = command;
    let (user, _) = store
        .user_credentials(&email)
        .await?
        .with_context(|| format!("no user with the e-mail address {email}"))?;
    let scopes: Vec<Scope> = scopes.iter().filter_map(|s| Scope::from_code(s)).collect();
    let (_, secret) =
        roadback_graphql::auth::issue_token(store, user.id, &name, &scopes, expires_in_days)
            .await
            .map_err(cli_error)?;
    println!("{secret}");
    Ok(())
}

/// Rebuilds the read models with a progress bar on the terminal (hidden when not a terminal).
async fn rebuild(store: &EventStore) -> anyhow::Result<()> {
    let bar = indicatif::ProgressBar::new(0).with_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} rebuilding read models [{bar:40}] {human_pos}/{human_len} positions, {per_sec}, {eta} left",
        )?
        .progress_chars("=> "),
    );
    let report = projector::rebuild(store, |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    })
    .await
    .context("the rebuild failed; the read models are unchanged")?;
    bar.finish_and_clear();
    let seconds = report.elapsed.as_secs_f64();
    println!(
        "rebuilt the read models from {} events ({} beneficiaries) up to position {} in {:.2} s ({:.0} events/s)",
        report.events,
        report.beneficiaries,
        report.position,
        seconds,
        report.events as f64 / seconds.max(1e-9),
    );
    Ok(())
}

/// Opens a store that exists already: commands other than `serve`, `migrate` and `demo load`
/// never create one (run in the wrong directory, they would otherwise work on an empty store
/// of their own and answer "no such user"). On SQLite the file must exist.
async fn open_existing(config: &roadback_store::StoreConfig) -> anyhow::Result<EventStore> {
    let exists = EventStore::exists(config)
        .await
        .with_context(|| format!("cannot reach the event store on {}", place(config)))?;
    if !exists {
        anyhow::bail!(
            "there is no Roadback store on {}: run this where the server runs, or give --data-dir (ROADBACK_DATA_DIR) or --database-url (DATABASE_URL); `roadback migrate` creates an empty one",
            place(config)
        );
    }
    open_store(config).await
}

/// Where a store configuration points, in words.
fn place(config: &roadback_store::StoreConfig) -> String {
    match &config.location {
        StoreLocation::Postgres(_) => "PostgreSQL (DATABASE_URL)".to_string(),
        StoreLocation::Sqlite(path) => format!("SQLite at {}", path.display()),
    }
}

/// Opens the store (applying migrations), saying where.
async fn open_store(config: &roadback_store::StoreConfig) -> anyhow::Result<EventStore> {
    let place = place(config);
    let store = EventStore::open(config)
        .await
        .with_context(|| format!("cannot open the event store on {place}"))?;
    tracing::info!(store = %place, "event store open");
    Ok(store)
}

/// Serves HTTP until SIGTERM or Ctrl-C, then finishes the requests in flight.
/// In `production`, `/metrics` and introspection are not open to anonymous callers.
pub async fn serve(
    store: EventStore,
    keys: Keyring,
    args: &ServeArgs,
    production: bool,
) -> anyhow::Result<()> {
    // Reads may work where writes cannot (SQLite's file locked by another process): say so
    // now rather than fail every change later.
    store.ping().await.context(
        "the event store cannot take writes (on SQLite: is another program, such as a backup or a sqlite3 shell, holding its write lock?)",
    )?;
    let vault = Vault::new(store.clone(), keys);
    // A server that cannot open some people's data must not start (two instances that each
    // made up a development key would otherwise split the vault between them).
    let missing = vault.missing_keys().await?;
    if !missing.is_empty() {
        let lacking: Vec<String> = missing
            .iter()
            .map(|(id, count)| format!("{id} ({count} data keys)"))
            .collect();
        anyhow::bail!(
            "the vault holds data keys wrapped by master keys this server does not have: {}; configure that key (ROADBACK_MASTER_KEY_FILE, or as a previous key with --previous-master-keys) — this server's key is {}",
            lacking.join(", "),
            vault.current_key_id()
        );
    }
    tracing::info!(
        master_key = vault.current_key_id(),
        "personal-data vault open"
    );
    if args.demo {
        // Before listening, so nobody meets a half-loaded program.
        load_demo(&store, &vault, args.demo_args).await?;
    }
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    tracing::info!(address = %listener.local_addr()?, "listening");
    let (stop_projector, stopped) = tokio::sync::oneshot::channel::<()>();
    let projector = tokio::spawn(Projector::new(store.clone(), PROJECTOR_BATCH).run(async {
        let _ = stopped.await;
    }));
    let mut api = roadback_graphql::ApiState::new(store.clone(), vault);
    api.session_hours = args.session_hours;
    api.secure_cookies = args.secure_cookies;
    let api_stop = api.clone();
    let mut state = http::AppState::new(store.clone(), api);
    state.body_timeout = std::time::Duration::from_secs(args.header_timeout);
    state.trusted_proxies = args.trusted_proxies.clone();
    state.public_origin = args.public_origin.clone();
    state.secure = args.secure_cookies;
    state.production = production;
    state.metrics_token = args.metrics_token.clone();
    state.web_dir = args.web_dir.clone();
    let app = http::app(state);
    let limits = listen::Connections {
        max: args.max_connections as usize,
        header_timeout: std::time::Duration::from_secs(args.header_timeout),
    };
    let (stopping, stop) = tokio::sync::oneshot::channel::<()>();
    let serving = listen::serve(listener, app, limits, async move {
        shutdown_signal().await;
        // Subscriptions end (each with `complete`, then a 1001 close) while requests in
        // flight finish.
        api_stop.stop();
        let _ = stopping.send(());
    });
    // Requests in flight get a grace period, then the server stops whatever clients do (a
    // client that never finishes its headers, a subscription left open).
    tokio::select! {
        () = serving => {}
        () = async {
            if stop.await.is_ok() {
                tokio::time::sleep(SHUTDOWN_GRACE).await;
            } else {
                std::future::pending::<()>().await;
            }
        } => {
            tracing::warn!(
                grace_seconds = SHUTDOWN_GRACE.as_secs(),
                "connections still open after the grace period; stopping anyway"
            );
        }
    }
    let _ = stop_projector.send(());
    let _ = projector.await;
    store.close().await?;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
