//! Hand-made CDS responses, compiled in so that the runner's cross-extractor
//! conformance suite can parse them. They cover the same cases as the recorded
//! responses: mapped games, games that share their words, suspensions and both
//! response shapes.

/// One test input: the bodies that [`Extractor::parse`](xtr_core::Extractor::parse)
/// takes, in order.
#[derive(Debug, Clone, Copy)]
pub struct Fixture {
    /// Short name of the case.
    pub name: &'static str,
    /// The response bodies.
    pub bodies: &'static [&'static [u8]],
}

/// Every fixture of this crate.
pub const FIXTURES: &[Fixture] = &[
    Fixture {
        name: "fixture_view_prematch",
        bodies: &[include_bytes!(
            "../tests/fixtures/fixture_view_prematch.json"
        )],
    },
    Fixture {
        name: "fixture_view_live",
        bodies: &[include_bytes!("../tests/fixtures/fixture_view_live.json")],
    },
    Fixture {
        name: "fixtures_listing",
        bodies: &[include_bytes!("../tests/fixtures/fixtures_listing.json")],
    },
];
