//! Commands that talk to Redis: `enqueue`, `status` and `dead`.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::Subcommand;
use fred::prelude::*;
use fred::types::scripts::Script;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use xtr_core::MarketSet;
use xtr_core::telemetry::Console;
use xtr_worker::enqueue::{NewJob, enqueue as enqueue_jobs};
use xtr_worker::maintenance::{consumers, groups};
use xtr_worker::publish::Streams;

use crate::extract::{extractor, load};

/// Dead letters read per `XRANGE` page.
const PAGE: u64 = 500;

/// `xtr dead` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum DeadCommand {
    /// List dead letters, oldest first, as JSON lines.
    List {
        /// Only those of this bookmaker.
        #[arg(long)]
        bookmaker: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// Put dead-lettered jobs back on the job stream (after a fix). Each dead letter is
    /// removed in the same atomic step that re-adds its job.
    Retry {
        /// Only those of this bookmaker.
        #[arg(long)]
        bookmaker: Option<String>,
        /// Retry every dead letter (that matches --bookmaker).
        #[arg(long, conflicts_with = "ids")]
        all: bool,
        /// Dead-letter entry ids to retry.
        ids: Vec<String>,
    },
    /// Delete every dead letter of STREAM.
    Purge {
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
}

async fn connect(settings: &xtr_core::config::Settings) -> anyhow::Result<Client> {
    let client = xtr_worker::redis::client(&settings.redis, Duration::from_secs(10))?;
    // `init` connects and waits for that connection; `connect` followed by
    // `wait_for_connect` can miss a connection that completes in between.
    tokio::time::timeout(Duration::from_secs(10), client.init())
        .await
        .map_err(|_| {
            anyhow::anyhow!(
                "Redis at {} did not answer within 10 s; check REDIS_HOST, REDIS_PORT or REDIS_URL",
                xtr_worker::redis::address(&settings.redis)
            )
        })?
        .map_err(|error| {
            anyhow::anyhow!(
                "cannot connect to Redis at {}: {}",
                xtr_worker::redis::address(&settings.redis),
                xtr_worker::redis::describe_error(&error)
            )
        })?;
    Ok(client)
}

fn progress_bar(total: u64, what: &str) -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(total);
    if let Ok(style) = ProgressStyle::with_template("{msg} {bar:40} {pos}/{len} ({eta})") {
        bar.set_style(style);
    }
    bar.set_message(what.to_owned());
    Some(bar)
}

/// `xtr enqueue`: adds one job per event and prints the entry ids.
pub(crate) async fn enqueue(
    bookmaker: &str,
    events: &[String],
    markets: &[String],
) -> anyhow::Result<ExitCode> {
    let loaded = load(Console::Stderr)?;
    let extractor = extractor(&loaded.extractors, bookmaker)?;
    for event in events {
        extractor.validate_event_id(event)?;
    }
    let markets = if markets.is_empty() {
        None
    } else {
        let set = MarketSet::parse_list(&markets.join(","))?;
        xtr_core::extractor::check_markets(extractor.name(), extractor.capabilities(), set)?;
        Some(set.to_string())
    };
    let jobs: Vec<NewJob> = events
        .iter()
        .map(|event| NewJob {
            bookmaker: bookmaker.to_owned(),
            event: event.clone(),
            markets: markets.clone(),
        })
        .collect();

    let client = connect(&loaded.settings).await?;
    let bar = progress_bar(jobs.len() as u64, "enqueue");
    let ids = enqueue_jobs(&client, &loaded.settings.stream, &jobs, |done| {
        if let Some(bar) = &bar {
            bar.set_position(done as u64);
        }
    })
    .await?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for id in &ids {
        writeln!(out, "{id}")?;
    }
    let _ = client.quit().await;
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Serialize)]
struct ConsumerStatus {
    name: String,
    pending: u64,
    idle_ms: u64,
}

#[derive(Debug, Serialize)]
struct GroupStatus {
    name: String,
    pending: u64,
    lag: Option<u64>,
    last_delivered_id: String,
    consumers: Vec<ConsumerStatus>,
}

#[derive(Debug, Serialize)]
struct DeadLetter {
    id: String,
    job: Option<String>,
    bookmaker: Option<String>,
    event: Option<String>,
    error_kind: Option<String>,
    error: Option<String>,
    deliveries: Option<String>,
}

#[derive(Debug, Serialize)]
struct StreamStatus {
    stream: String,
    length: u64,
    groups: Vec<GroupStatus>,
    dead_letter_stream: String,
    dead_letters: u64,
    newest_dead_letters: Vec<DeadLetter>,
}

fn dead_letter(id: String, fields: &[(String, String)]) -> DeadLetter {
    let get = |name: &str| {
        fields
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    };
    DeadLetter {
        job: get("job"),
        bookmaker: get("bookmaker"),
        event: get("event"),
        error_kind: get("error_kind"),
        error: get("error"),
        deliveries: get("deliveries"),
        id,
    }
}

type RawEntries = Vec<(String, Vec<(String, String)>)>;

async fn read_range(
    client: &Client,
    stream: &str,
    start: &str,
    count: u64,
    reverse: bool,
) -> anyhow::Result<RawEntries> {
    let entries: RawEntries = if reverse {
        client.xrevrange(stream, "+", start, Some(count)).await?
    } else {
        client.xrange(stream, start, "+", Some(count)).await?
    };
    Ok(entries)
}

/// `xtr status`: the job stream, its groups and consumers, and its dead letters.
pub(crate) async fn status(json: bool, newest: usize) -> anyhow::Result<ExitCode> {
    let loaded = load(Console::Stderr)?;
    let client = connect(&loaded.settings).await?;
    let stream = loaded.settings.stream.clone();
    let dead_stream = Streams::dead_letter_stream(&stream);

    let length: u64 = client.xlen(&stream).await?;
    let mut group_statuses = Vec::new();
    for group in groups(&client, &stream).await? {
        let members = consumers(&client, &stream, &group.name)
            .await?
            .into_iter()
            .map(|consumer| ConsumerStatus {
                name: consumer.name,
                pending: consumer.pending,
                idle_ms: consumer.idle_ms,
            })
            .collect();
        group_statuses.push(GroupStatus {
            name: group.name,
            pending: group.pending,
            lag: group.lag,
            last_delivered_id: group.last_delivered_id,
            consumers: members,
        });
    }
    let dead_letters: u64 = client.xlen(&dead_stream).await?;
    let newest_dead_letters = read_range(&client, &dead_stream, "-", newest as u64, true)
        .await?
        .into_iter()
        .map(|(id, fields)| dead_letter(id, &fields))
        .collect();
    let status = StreamStatus {
        stream,
        length,
        groups: group_statuses,
        dead_letter_stream: dead_stream,
        dead_letters,
        newest_dead_letters,
    };
    let _ = client.quit().await;

    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if json {
        serde_json::to_writer_pretty(&mut out, &status)?;
        writeln!(out)?;
    } else {
        print_status(&mut out, &status)?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn print_status(out: &mut impl Write, status: &StreamStatus) -> std::io::Result<()> {
    writeln!(out, "stream {}: {} entries", status.stream, status.length)?;
    if status.groups.is_empty() {
        writeln!(
            out,
            "  no consumer groups (no worker has started on this stream)"
        )?;
    }
    for group in &status.groups {
        let lag = group
            .lag
            .map_or_else(|| "unknown".to_owned(), |lag| lag.to_string());
        writeln!(
            out,
            "  group {}: pending {}, lag {}, last delivered {}",
            group.name, group.pending, lag, group.last_delivered_id
        )?;
        for consumer in &group.consumers {
            writeln!(
                out,
                "    consumer {}: pending {}, idle {:.1} s",
                consumer.name,
                consumer.pending,
                consumer.idle_ms as f64 / 1000.0
            )?;
        }
    }
    writeln!(
        out,
        "dead letters {}: {}",
        status.dead_letter_stream, status.dead_letters
    )?;
    for letter in &status.newest_dead_letters {
        writeln!(
            out,
            "  {} job {} {} {}: {}",
            letter.id,
            letter.job.as_deref().unwrap_or("?"),
            letter.bookmaker.as_deref().unwrap_or("?"),
            letter.event.as_deref().unwrap_or("?"),
            letter.error.as_deref().unwrap_or("(no reason recorded)")
        )?;
    }
    Ok(())
}

/// Returns whether a dead letter's `bookmaker` field is `bookmaker`, or true without
/// a filter.
fn matches_bookmaker(fields: &[(String, String)], bookmaker: Option<&str>) -> bool {
    bookmaker.is_none_or(|wanted| {
        fields
            .iter()
            .any(|(key, value)| key == "bookmaker" && value == wanted)
    })
}

/// Reads up to `limit` dead letters (matching `bookmaker`), oldest first, page by page.
async fn all_dead_letters(
    client: &Client,
    dead_stream: &str,
    bookmaker: Option<&str>,
    limit: usize,
) -> anyhow::Result<RawEntries> {
    let mut selected = Vec::new();
    let mut start = String::from("-");
    while selected.len() < limit {
        let page = read_range(client, dead_stream, &start, PAGE, false).await?;
        let full = page.len() as u64 == PAGE;
        let last = page.last().map(|(id, _)| id.clone());
        for (id, fields) in page {
            if matches_bookmaker(&fields, bookmaker) {
                selected.push((id, fields));
                if selected.len() >= limit {
                    break;
                }
            }
        }
        match last {
            // An exclusive start (`(id`) continues after the last entry read.
            Some(last) if full => start = format!("({last}"),
            _ => break,
        }
    }
    Ok(selected)
}

/// Re-adds a dead letter's job and deletes the dead letter in one atomic step.
/// KEYS: the job stream and the dead-letter stream. ARGV: the dead letter's id, then
/// the job's field/value pairs. Returns the new job's id, or nil when the dead letter
/// is gone (retried or purged by another command), so that a job goes back only once.
const RETRY_LUA: &str = r"
if #redis.call('XRANGE', KEYS[2], ARGV[1], ARGV[1]) == 0 then return false end
local id = redis.call('XADD', KEYS[1], '*', unpack(ARGV, 2))
redis.call('XDEL', KEYS[2], ARGV[1])
return id
";

/// Deletes the dead-letter stream and returns how many entries it had, atomically, so
/// the count printed is the count deleted.
const PURGE_LUA: &str = r"
local count = redis.call('XLEN', KEYS[1])
redis.call('DEL', KEYS[1])
return count
";

/// The job fields a retry copies back; the dead letter's own fields stay behind.
const JOB_FIELDS: &[&str] = &["bookmaker", "event", "markets"];

/// `xtr dead ...`.
pub(crate) async fn dead(command: DeadCommand) -> anyhow::Result<ExitCode> {
    let loaded = load(Console::Stderr)?;
    let client = connect(&loaded.settings).await?;
    let stream = loaded.settings.stream.clone();
    let dead_stream = Streams::dead_letter_stream(&stream);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());

    match command {
        DeadCommand::List { bookmaker, limit } => {
            for (id, fields) in
                all_dead_letters(&client, &dead_stream, bookmaker.as_deref(), limit).await?
            {
                serde_json::to_writer(&mut out, &dead_letter(id, &fields))?;
                writeln!(out)?;
            }
        }
        DeadCommand::Retry {
            bookmaker,
            all,
            ids,
        } => {
            if !all && ids.is_empty() {
                bail!("name dead-letter ids to retry, or pass --all");
            }
            let letters = if all {
                all_dead_letters(&client, &dead_stream, bookmaker.as_deref(), usize::MAX).await?
            } else {
                named_dead_letters(&client, &dead_stream, &ids, bookmaker.as_deref()).await?
            };
            retry(&client, &stream, &dead_stream, &letters, &mut out).await?;
        }
        DeadCommand::Purge { yes } => {
            let count: u64 = client.xlen(&dead_stream).await?;
            if !yes {
                if !std::io::stdin().is_terminal() {
                    bail!(
                        "refusing to purge {count} dead letters without confirmation; pass --yes"
                    );
                }
                eprint!(
                    "Delete all {count} dead letters in {dead_stream}? Type 'yes' to confirm: "
                );
                let mut answer = String::new();
                std::io::stdin().read_line(&mut answer)?;
                if answer.trim() != "yes" {
                    eprintln!("not purged");
                    return Ok(ExitCode::FAILURE);
                }
            }
            let count: u64 = Script::from_lua(PURGE_LUA)
                .evalsha_with_reload(&client, vec![dead_stream.as_str()], Vec::<String>::new())
                .await?;
            writeln!(out, "purged {count} dead letters from {dead_stream}")?;
        }
    }
    out.flush()?;
    let _ = client.quit().await;
    Ok(ExitCode::SUCCESS)
}

/// Reads the dead letters named by `ids`, in that order, skipping those whose bookmaker
/// is not `bookmaker`.
///
/// # Errors
///
/// Returns an error when an id is not in the dead-letter stream, before anything is
/// retried.
async fn named_dead_letters(
    client: &Client,
    dead_stream: &str,
    ids: &[String],
    bookmaker: Option<&str>,
) -> anyhow::Result<RawEntries> {
    let mut letters = Vec::new();
    for id in ids {
        let found = client
            .xrange::<RawEntries, _, _, _>(dead_stream, id.as_str(), id.as_str(), Some(1))
            .await
            .with_context(|| {
                format!("cannot read dead letter {id:?}; ids look like 1733312345678-0")
            })?;
        let Some((found_id, fields)) = found.into_iter().next() else {
            bail!("dead letter {id} not found in {dead_stream}");
        };
        if matches_bookmaker(&fields, bookmaker) {
            letters.push((found_id, fields));
        } else {
            eprintln!(
                "skipped {found_id}: its bookmaker is not {}",
                bookmaker.unwrap_or_default()
            );
        }
    }
    Ok(letters)
}

/// Puts each dead letter's job back on `stream`, printing `<dead id> -> <job id>`.
async fn retry(
    client: &Client,
    stream: &str,
    dead_stream: &str,
    letters: &RawEntries,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let script = Script::from_lua(RETRY_LUA);
    let bar = progress_bar(letters.len() as u64, "retry");
    // Notes go around the bar, which would otherwise draw over them.
    let note = |message: String| match &bar {
        Some(bar) => bar.suspend(|| eprintln!("{message}")),
        None => eprintln!("{message}"),
    };
    let mut retried = 0;
    for (id, fields) in letters {
        if let Some(bar) = &bar {
            bar.inc(1);
        }
        let job: Vec<&(String, String)> = fields
            .iter()
            .filter(|(key, _)| JOB_FIELDS.contains(&key.as_str()))
            .collect();
        let has = |name: &str| job.iter().any(|(key, _)| key == name);
        if !has("bookmaker") || !has("event") {
            note(format!(
                "skipped {id}: the dead letter has no bookmaker or event field to retry"
            ));
            continue;
        }
        let mut args: Vec<&str> = vec![id.as_str()];
        for (key, value) in job {
            args.push(key);
            args.push(value);
        }
        let new_id: Option<String> = script
            .evalsha_with_reload(client, vec![stream, dead_stream], args)
            .await
            .with_context(|| format!("retrying dead letter {id} failed"))?;
        match new_id {
            Some(new_id) => {
                writeln!(out, "{id} -> {new_id}")?;
                retried += 1;
            }
            None => note(format!(
                "skipped {id}: another command retried or purged it meanwhile"
            )),
        }
    }
    // Like the bar, the summary is for a terminal: scripts read the lines on stdout.
    if let Some(bar) = bar {
        bar.finish_and_clear();
        eprintln!(
            "retried {retried} of {} dead letters onto {stream}",
            letters.len()
        );
    }
    Ok(())
}
