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

/// Every fixture in `matchups`, `markets` order.
pub const FIXTURES: &[Fixture] = &[
    Fixture {
        name: "prematch",
        bodies: &[
            include_bytes!("../tests/fixtures/prematch_matchups.json"),
            include_bytes!("../tests/fixtures/prematch_markets.json"),
        ],
    },
    Fixture {
        name: "live",
        bodies: &[
            include_bytes!("../tests/fixtures/live_matchups.json"),
            include_bytes!("../tests/fixtures/live_markets.json"),
        ],
    },
    Fixture {
        name: "league_matchups",
        bodies: &[include_bytes!("../tests/fixtures/league_matchups.json")],
    },
];
