//! Parse throughput of the bwin extractor against a bare JSON scan of the same bytes,
//! for each fixture and, when `XTR_REALDATA` contains it, the recorded listing.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use xtr_core::config::Settings;
use xtr_core::{Extractor, MarketSet, Registry};

fn extractor() -> Arc<dyn Extractor> {
    let mut registry = Registry::new();
    xtr_bwin::register(&mut registry);
    let settings = Settings::from_env(Vec::new(), &registry.specs()).expect("default settings");
    let extractors = registry.build(&settings).expect("bwin builds");
    Arc::clone(extractors.get(xtr_bwin::NAME).expect("bwin is registered"))
}

fn bench_input(c: &mut Criterion, extractor: &dyn Extractor, name: &str, body: &[u8]) {
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function("scan", |b| {
        b.iter(|| serde_json::from_slice::<serde::de::IgnoredAny>(black_box(body)).unwrap());
    });
    group.bench_function("parse", |b| {
        b.iter(|| {
            extractor
                .parse(&[black_box(body)], MarketSet::all())
                .unwrap()
        });
    });
    group.finish();
}

fn bench_parse(c: &mut Criterion) {
    let extractor = extractor();
    for fixture in xtr_bwin::fixtures::FIXTURES {
        for body in fixture.bodies {
            bench_input(c, extractor.as_ref(), fixture.name, body);
        }
    }
    let recording = xtr_core::conformance::read_realdata(
        env!("CARGO_MANIFEST_DIR"),
        "bwin/cds_fixtures_jupiler.json",
    );
    if let Some(body) = recording {
        bench_input(
            c,
            extractor.as_ref(),
            "realdata_cds_fixtures_jupiler",
            &body,
        );
    }
}

criterion_group!(benches, bench_parse);
criterion_main!(benches);
