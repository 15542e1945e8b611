//! Parse throughput of the SBTech extractor against a bare JSON scan of the same bytes,
//! for each fixture and, when `XTR_REALDATA` contains them, the recorded responses.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use xtr_core::config::Settings;
use xtr_core::{Extractor, MarketSet, Registry};

const RECORDINGS: &[&str] = &[
    "sbtech/sbtech_betoffers_genk_standard.json",
    "sbtech/sbtech_events_jupiler.json",
];

fn extractor() -> Arc<dyn Extractor> {
    let mut registry = Registry::new();
    xtr_sbtech::register(&mut registry);
    let settings = Settings::from_env(Vec::new(), &registry.specs()).expect("default settings");
    let extractors = registry.build(&settings).expect("sbtech builds");
    Arc::clone(
        extractors
            .get(xtr_sbtech::NAME)
            .expect("sbtech is registered"),
    )
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
    for fixture in xtr_sbtech::fixtures::FIXTURES {
        for body in fixture.bodies {
            bench_input(c, extractor.as_ref(), fixture.name, body);
        }
    }
    for recording in RECORDINGS {
        let Some(bytes) =
            xtr_core::conformance::read_realdata(env!("CARGO_MANIFEST_DIR"), recording)
        else {
            continue;
        };
        let name = recording
            .trim_start_matches("sbtech/")
            .trim_end_matches(".json");
        for body in xtr_core::conformance::unwrap_recording(&bytes) {
            bench_input(c, extractor.as_ref(), &format!("realdata_{name}"), &body);
        }
    }
}

criterion_group!(benches, bench_parse);
criterion_main!(benches);
