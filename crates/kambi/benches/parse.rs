//! Parse rate of the Kambi extractor against a plain scan of the same bytes.
//!
//! Each fixture, and each recording found under `XTR_REALDATA`, gets one group of three
//! benches, all reported in bytes per second. `scan` reads the body into `IgnoredAny`,
//! the floor of any JSON parse. `parse` is the extractor's `parse` with every market
//! kind, and `parse_btts` requests btts alone, as the default worker type does.
//!
//! NOTE: with every kind requested, `parse` of `pvt_betoffer_jupiler_match.json` runs at
//! about 55% of the scan rate (about 60% and more for any single worker type's kinds),
//! because nearly all of its offers are requested markets whose outcomes must be parsed.
//! Measured as the best of 80 alternating batches of release builds on a shared 2-core
//! machine; criterion's separate windows vary by 20 points there.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde::de::IgnoredAny;
use std::hint::black_box;
use xtr_core::config::Settings;
use xtr_core::conformance::{read_realdata, unwrap_recording};
use xtr_core::{Extractor, MarketKind, MarketSet, Registry};
use xtr_kambi::fixtures::FIXTURES;

/// Recordings benchmarked when present, relative to `XTR_REALDATA`.
const RECORDINGS: &[&str] = &[
    "kambi/pvt_betoffer_event_molde_mjondalen_wrapped.json",
    "kambi/pvt_betoffer_jupiler_match.json",
    "kambi/pvt_betoffer_jupiler_ou_wrapped.json",
    "kambi/pvt_betoffer_small_handicap_total.json",
];

fn bench_input(c: &mut Criterion, extractor: &dyn Extractor, name: &str, bodies: &[&[u8]]) {
    let bytes: usize = bodies.iter().map(|body| body.len()).sum();
    let markets = MarketSet::all();
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function("scan", |b| {
        b.iter(|| {
            for body in bodies {
                let scanned: IgnoredAny = serde_json::from_slice(black_box(body)).expect("JSON");
                black_box(scanned);
            }
        });
    });
    group.bench_function("parse", |b| {
        b.iter(|| {
            let events = extractor
                .parse(black_box(bodies), markets)
                .expect("Kambi body");
            black_box(events);
        });
    });
    // The default worker type (btts-worker) requests btts alone.
    let btts = MarketSet::from_kinds(&[MarketKind::Btts]);
    group.bench_function("parse_btts", |b| {
        b.iter(|| {
            let events = extractor
                .parse(black_box(bodies), btts)
                .expect("Kambi body");
            black_box(events);
        });
    });
    group.finish();
}

fn parse_benches(c: &mut Criterion) {
    let mut registry = Registry::new();
    xtr_kambi::register(&mut registry);
    let settings = Settings::from_env(Vec::new(), &registry.specs()).expect("default settings");
    let extractors = registry.build(&settings).expect("Kambi extractors build");
    let extractor = extractors
        .get("unibet")
        .expect("unibet is registered")
        .as_ref();

    for fixture in FIXTURES {
        bench_input(c, extractor, fixture.name, fixture.bodies);
    }
    for recording in RECORDINGS {
        let Some(bytes) = read_realdata(env!("CARGO_MANIFEST_DIR"), recording) else {
            continue;
        };
        let bodies = unwrap_recording(&bytes);
        let slices: Vec<&[u8]> = bodies.iter().map(Vec::as_slice).collect();
        let name = recording
            .trim_start_matches("kambi/")
            .trim_end_matches(".json");
        bench_input(c, extractor, name, &slices);
    }
}

criterion_group!(benches, parse_benches);
criterion_main!(benches);
