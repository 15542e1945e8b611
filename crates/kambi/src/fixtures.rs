//! Hand-made Kambi bodies, shared with the runner's cross-extractor conformance suite.

/// One fixture: the bodies `parse` takes, in order.
#[derive(Debug, Clone, Copy)]
pub struct Fixture {
    /// Name of the fixture, the file name without `.json`.
    pub name: &'static str,
    /// The bodies, in the order `parse` expects them.
    pub bodies: &'static [&'static [u8]],
}

/// Every fixture of `tests/fixtures`.
pub const FIXTURES: &[Fixture] = &[
    Fixture {
        name: "event_full",
        bodies: &[include_bytes!("../tests/fixtures/event_full.json")],
    },
    Fixture {
        name: "several_events",
        bodies: &[include_bytes!("../tests/fixtures/several_events.json")],
    },
    Fixture {
        name: "offers_without_events",
        bodies: &[include_bytes!(
            "../tests/fixtures/offers_without_events.json"
        )],
    },
    Fixture {
        name: "listview_football",
        bodies: &[include_bytes!("../tests/fixtures/listview_football.json")],
    },
    Fixture {
        name: "listing_flat",
        bodies: &[include_bytes!("../tests/fixtures/listing_flat.json")],
    },
];

/// Returns the bodies of the fixture named `name`.
///
/// # Panics
///
/// Panics when no fixture has that name, which is a mistake in the calling test.
pub fn bodies(name: &str) -> &'static [&'static [u8]] {
    FIXTURES
        .iter()
        .find(|fixture| fixture.name == name)
        .unwrap_or_else(|| panic!("no Kambi fixture named {name:?}"))
        .bodies
}
