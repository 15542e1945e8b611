//! The hand-made fixtures of `tests/fixtures`, compiled in so that the runner's
//! cross-extractor conformance suite can parse them.

/// One fixture: a name and the bodies `parse` takes, in order.
#[derive(Debug, Clone, Copy)]
pub struct Fixture {
    /// Short name, unique within this crate.
    pub name: &'static str,
    /// The bodies, in the order `parse` takes them.
    pub bodies: &'static [&'static [u8]],
}

/// Every fixture: GetEventDetails bodies and one GetEvents body.
pub const FIXTURES: &[Fixture] = &[
    Fixture {
        name: "details_prematch",
        bodies: &[include_bytes!("../tests/fixtures/details_prematch.json")],
    },
    Fixture {
        name: "details_live",
        bodies: &[include_bytes!("../tests/fixtures/details_live.json")],
    },
    Fixture {
        name: "details_event_suspended",
        bodies: &[include_bytes!(
            "../tests/fixtures/details_event_suspended.json"
        )],
    },
    Fixture {
        name: "getevents_listing",
        bodies: &[include_bytes!("../tests/fixtures/getevents_listing.json")],
    },
];
