//! `xtr`: the runner binary. It links the bookmaker crates chosen by Cargo features and
//! wires them to the worker and the command-line tools.

mod extract;
mod http;
mod ops;
mod registry;
mod run_worker;

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

/// Extract betting odds from bookmakers and normalize them.
///
/// Settings come from the environment (and an optional TOML file named by XTR_CONFIG);
/// see the README for the full list.
#[derive(Debug, Parser)]
#[command(name = "xtr", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a worker: read jobs from STREAM through group XTRTYPE and publish snapshots.
    Worker,
    /// Fetch one event and print its snapshots as JSON lines (no Redis).
    Extract {
        /// Registered bookmaker name, such as unibet.
        bookmaker: String,
        /// The bookmaker's event id.
        event: String,
        #[command(flatten)]
        markets: MarketArgs,
    },
    /// Parse saved responses, exactly as the bookmaker sent them, and print snapshots.
    Parse {
        /// Registered bookmaker name.
        bookmaker: String,
        /// Response files; bookmakers that need several responses per event take them
        /// together (see `xtr extractors`).
        #[arg(required = true)]
        files: Vec<std::path::PathBuf>,
        #[command(flatten)]
        markets: MarketArgs,
    },
    /// List a bookmaker's events as JSON lines.
    Events {
        /// Registered bookmaker name.
        bookmaker: String,
        /// Sport, such as football (default: the bookmaker's first sport).
        #[arg(long)]
        sport: Option<String>,
    },
    /// Add jobs for events to the job stream.
    Enqueue {
        /// Registered bookmaker name.
        bookmaker: String,
        /// Event ids.
        #[arg(required = true)]
        events: Vec<String>,
        /// Market kinds for the jobs (default: the worker type's).
        #[arg(long = "market", value_delimiter = ',')]
        markets: Vec<String>,
    },
    /// List the extractors this build contains, with markets and settings.
    Extractors {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Check the local worker's /healthz; exit 0 when healthy, 1 otherwise.
    Health {
        /// Address of the worker's HTTP endpoints (default: XTR_HTTP_ADDR).
        #[arg(long)]
        addr: Option<String>,
    },
    /// Show the job streams, groups, consumers and dead letters.
    Status {
        /// Print JSON for scripts.
        #[arg(long)]
        json: bool,
        /// Newest dead letters to show.
        #[arg(long, default_value_t = 5)]
        dead: usize,
    },
    /// Inspect, retry or purge dead letters of STREAM.
    Dead {
        #[command(subcommand)]
        command: ops::DeadCommand,
    },
}

/// The `--market` option of `parse` and `extract`.
#[derive(Debug, Args)]
struct MarketArgs {
    /// Market kinds to print, comma-separated or repeated (default: every kind the
    /// extractor supports).
    #[arg(long = "market", value_delimiter = ',')]
    markets: Vec<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // A worker is bound by I/O and a fleet scales by processes, so one thread per
    // worker is the cheapest layout per job: on a multi-thread runtime every Redis reply
    // and body chunk crossed threads (docs/benchmarks.md has the measurements).
    let builder = match cli.command {
        Command::Worker => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
        _ => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build(),
    };
    let runtime = match builder {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Worker => run_worker::run().await,
        Command::Extract {
            bookmaker,
            event,
            markets,
        } => extract::extract(&bookmaker, &event, &markets.markets).await,
        Command::Parse {
            bookmaker,
            files,
            markets,
        } => extract::parse(&bookmaker, &files, &markets.markets),
        Command::Events { bookmaker, sport } => extract::events(&bookmaker, sport.as_deref()).await,
        Command::Enqueue {
            bookmaker,
            events,
            markets,
        } => ops::enqueue(&bookmaker, &events, &markets).await,
        Command::Extractors { json } => extract::extractors(json),
        Command::Health { addr } => http::health(addr.as_deref()).await,
        Command::Status { json, dead } => ops::status(json, dead).await,
        Command::Dead { command } => ops::dead(command).await,
    }
}
