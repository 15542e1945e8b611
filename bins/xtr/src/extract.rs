//! Commands that need no Redis: `extract`, `parse`, `events`, `extractors`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use serde::Serialize;
use xtr_core::config::{Settings, bookmaker_variables};
use xtr_core::extractor::check_markets;
use xtr_core::registry::Extractors;
use xtr_core::snapshot::snapshot_records;
use xtr_core::telemetry::{self, Console, TelemetryGuard};
use xtr_core::{Extractor, MarketSet, Timestamp};

use crate::registry::registry;

/// Settings, built extractors and the logging guard of one command.
pub(crate) struct Loaded {
    pub(crate) settings: Settings,
    pub(crate) extractors: Extractors,
    _telemetry: TelemetryGuard,
}

/// Loads settings, starts logging on `console` and builds every extractor.
pub(crate) fn load(console: Console) -> anyhow::Result<Loaded> {
    let registry = registry();
    let settings = Settings::load(&registry.specs())?;
    let telemetry = telemetry::init(&settings.log, console)?;
    for name in &settings.unknown_variables {
        tracing::warn!(variable = %name, "Ignoring unknown XTR_ variable; check its spelling");
    }
    let extractors = registry.build(&settings)?;
    Ok(Loaded {
        settings,
        extractors,
        _telemetry: telemetry,
    })
}

pub(crate) fn extractor<'a>(
    extractors: &'a Extractors,
    bookmaker: &str,
) -> anyhow::Result<&'a Arc<dyn Extractor>> {
    extractors.get(bookmaker).with_context(|| {
        let names: Vec<_> = extractors.names().collect();
        format!(
            "unknown bookmaker {bookmaker:?}; this build has: {}",
            if names.is_empty() {
                "none".to_owned()
            } else {
                names.join(", ")
            }
        )
    })
}

/// Returns the requested kinds, or every kind the extractor supports.
fn requested_markets(extractor: &dyn Extractor, markets: &[String]) -> anyhow::Result<MarketSet> {
    if markets.is_empty() {
        return Ok(extractor.capabilities().markets);
    }
    let set = MarketSet::parse_list(&markets.join(","))?;
    check_markets(extractor.name(), extractor.capabilities(), set)?;
    Ok(set)
}

fn print_records(
    extractor: &dyn Extractor,
    events: &[xtr_core::EventMarkets],
    markets: MarketSet,
) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let observed_at = Timestamp::now();
    for event in events {
        for record in snapshot_records(extractor.name(), None, event, markets, observed_at) {
            serde_json::to_writer(&mut out, &record)?;
            out.write_all(b"\n")?;
        }
    }
    out.flush()?;
    Ok(())
}

/// `xtr extract`: one fetch, snapshots as JSON lines.
pub(crate) async fn extract(
    bookmaker: &str,
    event: &str,
    markets: &[String],
) -> anyhow::Result<ExitCode> {
    let loaded = load(Console::Stderr)?;
    let extractor = extractor(&loaded.extractors, bookmaker)?;
    let markets = requested_markets(extractor.as_ref(), markets)?;
    let events = extractor.extract(event, markets).await?;
    let own: Vec<_> = events.into_iter().filter(|e| e.event.id == event).collect();
    let own = if own.is_empty() {
        vec![xtr_core::EventMarkets {
            event: xtr_core::Event::with_id(event),
            markets: Vec::new(),
        }]
    } else {
        own
    };
    print_records(extractor.as_ref(), &own, markets)?;
    Ok(ExitCode::SUCCESS)
}

/// `xtr parse`: saved responses, snapshots as JSON lines.
pub(crate) fn parse(
    bookmaker: &str,
    files: &[PathBuf],
    markets: &[String],
) -> anyhow::Result<ExitCode> {
    let loaded = load(Console::Stderr)?;
    let extractor = extractor(&loaded.extractors, bookmaker)?;
    let markets = requested_markets(extractor.as_ref(), markets)?;
    for (index, file) in files.iter().enumerate() {
        if files[..index].contains(file) {
            bail!(
                "{} is given twice; each response file may appear once",
                file.display()
            );
        }
    }
    let mut bodies = Vec::with_capacity(files.len());
    for file in files {
        let body =
            std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
        bodies.push(body);
    }
    let slices: Vec<&[u8]> = bodies.iter().map(Vec::as_slice).collect();
    let needed = extractor.capabilities().responses.len();
    if needed > 1 && !slices.len().is_multiple_of(needed) {
        bail!(
            "{bookmaker} needs {needed} responses per event ({}); got {} files",
            extractor.capabilities().responses.join(", "),
            slices.len()
        );
    }
    let events = extractor.parse(&slices, markets).with_context(|| {
        let names: Vec<_> = files
            .iter()
            .map(|file| file.display().to_string())
            .collect();
        format!("cannot parse {}", names.join(", "))
    })?;
    print_records(extractor.as_ref(), &events, markets)?;
    Ok(ExitCode::SUCCESS)
}

/// `xtr events`: a bookmaker's events as JSON lines.
pub(crate) async fn events(bookmaker: &str, sport: Option<&str>) -> anyhow::Result<ExitCode> {
    let loaded = load(Console::Stderr)?;
    let extractor = extractor(&loaded.extractors, bookmaker)?;
    if let Some(sport) = sport {
        let sports = extractor.capabilities().sports;
        if !sports.contains(&sport) {
            bail!(
                "{bookmaker} does not list sport {sport:?}; it lists: {}",
                sports.join(", ")
            );
        }
    }
    let events = extractor.list_events(sport).await?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for event in &events {
        serde_json::to_writer(&mut out, event)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

#[derive(Serialize)]
struct ExtractorInfo {
    bookmaker: &'static str,
    platform: &'static str,
    markets: Vec<&'static str>,
    periods: Vec<&'static str>,
    sports: &'static [&'static str],
    responses: &'static [&'static str],
    exchange: bool,
    default_base_url: Option<&'static str>,
    variables: Vec<String>,
}

/// `xtr extractors`: what this build contains.
pub(crate) fn extractors(json: bool) -> anyhow::Result<ExitCode> {
    let registry = registry();
    let settings = Settings::load(&registry.specs())?;
    let extractors = registry.build(&settings)?;
    let mut infos = Vec::new();
    for registration in registry.registrations() {
        let Some(extractor) = extractors.get(registration.spec.name) else {
            continue;
        };
        let capabilities = extractor.capabilities();
        infos.push(ExtractorInfo {
            bookmaker: registration.spec.name,
            platform: registration.platform,
            markets: capabilities
                .markets
                .iter()
                .map(|kind| kind.as_str())
                .collect(),
            periods: capabilities
                .periods
                .iter()
                .map(|period| period.as_str())
                .collect(),
            sports: capabilities.sports,
            responses: capabilities.responses,
            exchange: capabilities.exchange,
            default_base_url: registration.spec.default_base_url,
            variables: bookmaker_variables(registration.spec.name, registration.spec.settings),
        });
    }

    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if json {
        serde_json::to_writer_pretty(&mut out, &infos)?;
        out.write_all(b"\n")?;
    } else if infos.is_empty() {
        writeln!(
            out,
            "This build contains no extractors (built without bookmaker features)."
        )?;
    } else {
        writeln!(
            out,
            "{:<10} {:<9} {:<70} {:<9} responses",
            "bookmaker", "platform", "markets", "periods"
        )?;
        for info in &infos {
            writeln!(
                out,
                "{:<10} {:<9} {:<70} {:<9} {}",
                info.bookmaker,
                info.platform,
                info.markets.join(","),
                info.periods.join(","),
                info.responses.join("+")
            )?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
