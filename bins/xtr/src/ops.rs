//! Commands that talk to Redis: `enqueue`, `status` and `dead`.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::Subcommand;
use fred::prelude::*;
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
    client.connect();
    tokio::time::timeout(Duration::from_secs(5), client.wait_for_connect())
        .await
        .map_err(|_| {
            anyhow::anyhow!(
                "Redis did not answer within 5 s; check REDIS_HOST, REDIS_PORT or REDIS_URL"
            )
        })?
        .context("cannot connect to Redis")?;
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

/// Reads every dead letter (matching `bookmaker`), oldest first, page by page.
async fn all_dead_letters(
    client: &Client,
    dead_stream: &str,
    bookmaker: Option<&str>,
    limit: usize,
) -> anyhow::Result<RawEntries> {
    let mut selected = Vec::new();
    let mut start = String::from("-");
    loop {
        let page = read_range(client, dead_stream, &start, PAGE, false).await?;
        let full = page.len() as u64 == PAGE;
        let last = page.last().map(|(id, _)| id.clone());
        for (id, fields) in page {
            let matches = bookmaker.is_none_or(|wanted| {
                fields
                    .iter()
                    .any(|(key, value)| key == "bookmaker" && value == wanted)
            });
            if matches {
                selected.push((id, fields));
                if selected.len() >= limit {
                    return Ok(selected);
                }
            }
        }
        match last {
            // An exclusive start (`(id`) continues after the last entry read.
            Some(last) if full => start = format!("({last}"),
            _ => return Ok(selected),
        }
    }
}

/// Re-adds a dead letter's job and deletes the dead letter, atomically.
const RETRY_LUA: &str = r"
local fields = {}
for i = 3, #ARGV do fields[#fields + 1] = ARGV[i] end
local id = redis.call('XADD', ARGV[1], '*', unpack(fields))
redis.call('XDEL', ARGV[2], ARGV[3 + #fields])
return id
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
                let mut letters = Vec::new();
                for id in &ids {
                    let found = client
                        .xrange::<RawEntries, _, _, _>(
                            &dead_stream,
                            id.as_str(),
                            id.as_str(),
                            Some(1),
                        )
                        .await?;
                    match found.into_iter().next() {
                        Some(letter) => letters.push(letter),
                        None => bail!("dead letter {id} not found in {dead_stream}"),
                    }
                }
                letters
            };
            let bar = progress_bar(letters.len() as u64, "retry");
            let mut retried = 0;
            for (id, fields) in &letters {
                let job: Vec<&(String, String)> = fields
                    .iter()
                    .filter(|(key, _)| JOB_FIELDS.contains(&key.as_str()))
                    .collect();
                if !job.iter().any(|(key, _)| key == "event")
                    || !job.iter().any(|(key, _)| key == "bookmaker")
                {
                    eprintln!(
                        "skipped {id}: the dead letter has no bookmaker or event field to retry"
                    );
                    continue;
                }
                let mut args: Vec<String> = vec![stream.clone(), dead_stream.clone()];
                for (key, value) in job {
                    args.push(key.clone());
                    args.push(value.clone());
                }
                args.push(id.clone());
                let new_id: String = client.eval(RETRY_LUA, Vec::<String>::new(), args).await?;
                writeln!(out, "{id} -> {new_id}")?;
                retried += 1;
                if let Some(bar) = &bar {
                    bar.inc(1);
                }
            }
            if let Some(bar) = bar {
                bar.finish_and_clear();
            }
            eprintln!(
                "retried {retried} of {} dead letters onto {stream}",
                letters.len()
            );
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
            let _: i64 = client.del(&dead_stream).await?;
            writeln!(out, "purged {count} dead letters from {dead_stream}")?;
        }
    }
    out.flush()?;
    let _ = client.quit().await;
    Ok(ExitCode::SUCCESS)
}
