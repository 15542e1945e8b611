//! Hand-made SBTech sportsdata responses, compiled in so that the runner's
//! cross-extractor conformance suite can parse them. They cover the same cases as the
//! recorded responses: multi-line asian markets, look-alike market types, suspended
//! markets and selections, the `data` wrapper and markets of several events.

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
        name: "event_prematch",
        bodies: &[include_bytes!("../tests/fixtures/event_prematch.json")],
    },
    Fixture {
        name: "event_live_data",
        bodies: &[include_bytes!("../tests/fixtures/event_live_data.json")],
    },
    Fixture {
        name: "events_listing",
        bodies: &[include_bytes!("../tests/fixtures/events_listing.json")],
    },
];
