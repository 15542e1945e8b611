//! Parse throughput of the Betfair bodies against a plain JSON scan of the same bytes.
//!
//! For each fixture, and each real recording present under `XTR_REALDATA`, one group
//! contains a `scan` bench (`serde_json` into `IgnoredAny`, the floor any parser pays) and
//! a `parse` bench of [`xtr_betfair::parse::parse`], both in bytes per second.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde::de::IgnoredAny;
use xtr_betfair::fixtures::FIXTURES;
use xtr_core::MarketSet;

/// Real catalogue and book pairs, relative to `XTR_REALDATA`.
const RECORDINGS: &[(&str, &[&str])] = &[
    (
        "real_catalogue_book",
        &[
            "betfair/list_market_catalogue.json",
            "betfair/list_market_book.json",
        ],
    ),
    (
        "real_catalogue_no_ero",
        &["betfair/list_market_catalogue_no_ero.json"],
    ),
];

fn bench_bodies(c: &mut Criterion, name: &str, bodies: &[&[u8]]) {
    let bytes: usize = bodies.iter().map(|body| body.len()).sum();
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function("scan", |b| {
        b.iter(|| {
            for body in bodies {
                let scanned: IgnoredAny = serde_json::from_slice(black_box(body)).unwrap();
                black_box(scanned);
            }
        });
    });
    group.bench_function("parse", |b| {
        b.iter(|| xtr_betfair::parse::parse(black_box(bodies), MarketSet::all()).unwrap());
    });
    group.finish();
}

fn parse_benches(c: &mut Criterion) {
    for fixture in FIXTURES {
        bench_bodies(c, fixture.name, fixture.bodies);
    }
    for (name, files) in RECORDINGS {
        let read: Option<Vec<Vec<u8>>> = files
            .iter()
            .map(|file| xtr_core::conformance::read_realdata(env!("CARGO_MANIFEST_DIR"), file))
            .collect();
        let Some(read) = read else {
            continue;
        };
        let bodies: Vec<&[u8]> = read.iter().map(Vec::as_slice).collect();
        bench_bodies(c, name, &bodies);
    }
}

criterion_group!(benches, parse_benches);
criterion_main!(benches);
