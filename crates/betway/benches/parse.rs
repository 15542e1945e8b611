//! Parse throughput of the Betway extractor against a plain JSON scan of the same bytes.
//!
//! Each input gets one group with a `scan` bench (`serde_json` into `IgnoredAny`, the
//! floor any parser pays) and a `parse` bench (the extractor's `parse` of every market
//! kind), so the report shows their ratio. The recordings of `XTR_REALDATA` are included
//! when present.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde::de::IgnoredAny;
use xtr_betway::fixtures::FIXTURES;
use xtr_core::MarketSet;
use xtr_core::conformance::read_realdata;

fn bench_input(criterion: &mut Criterion, name: &str, bodies: &[&[u8]]) {
    let bytes: usize = bodies.iter().map(|body| body.len()).sum();
    let mut group = criterion.benchmark_group(name);
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function("scan", |bencher| {
        bencher.iter(|| {
            for body in bodies {
                serde_json::from_slice::<IgnoredAny>(body).expect("input is JSON");
            }
        });
    });
    group.bench_function("parse", |bencher| {
        bencher.iter(|| xtr_betway::parse::parse(bodies, MarketSet::all()).expect("input parses"));
    });
    group.finish();
}

fn benches(criterion: &mut Criterion) {
    for fixture in FIXTURES {
        bench_input(
            criterion,
            &format!("fixture/{}", fixture.name),
            fixture.bodies,
        );
    }
    let dir = env!("CARGO_MANIFEST_DIR");
    if let Some(listing) = read_realdata(dir, "betway/getevents_jupiler.json") {
        bench_input(criterion, "realdata/getevents_jupiler", &[&listing]);
    }
}

criterion_group!(parse_benches, benches);
criterion_main!(parse_benches);
