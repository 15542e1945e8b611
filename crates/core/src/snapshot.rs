//! The published snapshot: one JSON record per market key of an event.

use compact_str::CompactString;
use serde::{Deserialize, Serialize};

use crate::decimal::Line;
use crate::model::{
    Event, EventMarkets, Market, MarketKind, MarketSet, MarketStatus, Outcome, Period, Timestamp,
};

/// Version of the snapshot format; it changes only when a field changes meaning.
pub const SCHEMA_VERSION: u32 = 1;

/// The market part of a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarketRef<'a> {
    /// Market kind.
    pub kind: MarketKind,
    /// Period.
    pub period: Period,
    /// Line, `null` for kinds without one.
    pub line: Option<Line>,
    /// The bookmaker's market id.
    #[serde(borrow)]
    pub id: Option<&'a str>,
}

/// One snapshot record, borrowing the parsed event and market so that publishing
/// serializes without copying.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SnapshotRecord<'a> {
    /// Format version, [`SCHEMA_VERSION`].
    pub schema: u32,
    /// The job's stream entry id; `null` outside the worker.
    pub job: Option<&'a str>,
    /// Registered bookmaker name.
    pub bookmaker: &'a str,
    /// The event.
    pub event: &'a Event,
    /// Kind, period, line and id.
    pub market: MarketRef<'a>,
    /// Whether the event offers the market.
    pub status: MarketStatus,
    /// Outcomes, empty when not offered.
    pub outcomes: &'a [Outcome],
    /// The bookmaker's change time, when given.
    pub changed_at: Option<Timestamp>,
    /// When xtr observed the prices.
    pub observed_at: Timestamp,
}

impl SnapshotRecord<'_> {
    /// Returns the latest-value key suffix `{kind}:{period}:{line}`, `-` for no line.
    pub fn key_suffix(&self) -> String {
        let line = self
            .market
            .line
            .map_or_else(|| "-".to_owned(), Line::key_text);
        format!("{}:{}:{line}", self.market.kind, self.market.period)
    }
}

/// An owned snapshot, as downstream readers and tests deserialize it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Format version.
    pub schema: u32,
    /// Job entry id.
    pub job: Option<String>,
    /// Bookmaker name.
    pub bookmaker: String,
    /// The event.
    pub event: Event,
    /// Kind, period, line and id.
    pub market: OwnedMarketRef,
    /// Whether the event offers the market.
    pub status: MarketStatus,
    /// Outcomes.
    pub outcomes: Vec<Outcome>,
    /// The bookmaker's change time.
    pub changed_at: Option<Timestamp>,
    /// When xtr observed the prices.
    pub observed_at: Timestamp,
}

/// The market part of an owned snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnedMarketRef {
    /// Market kind.
    pub kind: MarketKind,
    /// Period.
    pub period: Period,
    /// Line.
    pub line: Option<Line>,
    /// The bookmaker's market id.
    pub id: Option<CompactString>,
}

/// An empty outcome list for not-offered records.
const NO_OUTCOMES: &[Outcome] = &[];

/// Returns the records of one event: one per market whose kind was requested, then one
/// `not_offered` record (full time, no line) for each requested kind the event lacks.
pub fn snapshot_records<'a>(
    bookmaker: &'a str,
    job: Option<&'a str>,
    event: &'a EventMarkets,
    requested: MarketSet,
    observed_at: Timestamp,
) -> Vec<SnapshotRecord<'a>> {
    let mut offered = MarketSet::EMPTY;
    let mut records = Vec::with_capacity(event.markets.len() + 1);
    for market in event
        .markets
        .iter()
        .filter(|market| requested.contains(market.key.kind))
    {
        offered = offered.with(market.key.kind);
        records.push(offered_record(
            bookmaker,
            job,
            &event.event,
            market,
            observed_at,
        ));
    }
    for kind in requested.difference(offered).iter() {
        records.push(SnapshotRecord {
            schema: SCHEMA_VERSION,
            job,
            bookmaker,
            event: &event.event,
            market: MarketRef {
                kind,
                period: Period::FullTime,
                line: None,
                id: None,
            },
            status: MarketStatus::NotOffered,
            outcomes: NO_OUTCOMES,
            changed_at: None,
            observed_at,
        });
    }
    records
}

fn offered_record<'a>(
    bookmaker: &'a str,
    job: Option<&'a str>,
    event: &'a Event,
    market: &'a Market,
    observed_at: Timestamp,
) -> SnapshotRecord<'a> {
    SnapshotRecord {
        schema: SCHEMA_VERSION,
        job,
        bookmaker,
        event,
        market: MarketRef {
            kind: market.key.kind,
            period: market.key.period,
            line: market.key.line,
            id: market.id.as_deref(),
        },
        status: MarketStatus::Offered,
        outcomes: &market.outcomes,
        changed_at: market.changed_at,
        observed_at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decimal::Price;
    use crate::model::{MarketKey, OutcomeName, OutcomeStatus};

    fn event() -> EventMarkets {
        EventMarkets {
            event: Event {
                id: "1007519027".into(),
                sport: Some("football".into()),
                competition: Some("Eliteserien".into()),
                home: Some("Mjøndalen".into()),
                away: Some("Molde".into()),
                start: Some(Timestamp::parse("2021-05-30T13:00:00Z").unwrap()),
                live: false,
            },
            markets: vec![Market {
                key: MarketKey::new(MarketKind::Btts, Period::FullTime),
                id: Some("2265745367".into()),
                outcomes: vec![
                    Outcome::new(
                        OutcomeName::Yes,
                        Some(Price::from_scaled(1630, 3)),
                        OutcomeStatus::Open,
                        Some("2923349982".into()),
                    ),
                    Outcome::new(
                        OutcomeName::No,
                        Some(Price::from_scaled(2230, 3)),
                        OutcomeStatus::Open,
                        Some("2923350002".into()),
                    ),
                ],
                changed_at: Some(Timestamp::parse("2021-05-30T07:08:09Z").unwrap()),
            }],
        }
    }

    #[test]
    fn record_matches_the_documented_format() {
        let event = event();
        let observed = Timestamp::parse("2026-12-04T10:00:00.123Z").unwrap();
        let records = snapshot_records(
            "unibet",
            Some("1733312345678-0"),
            &event,
            MarketSet::from_kinds(&[MarketKind::Btts]),
            observed,
        );
        assert_eq!(records.len(), 1);
        let json = serde_json::to_string(&records[0]).unwrap();
        let expected = concat!(
            r#"{"schema":1,"job":"1733312345678-0","bookmaker":"unibet","#,
            r#""event":{"id":"1007519027","sport":"football","competition":"Eliteserien","#,
            r#""home":"Mjøndalen","away":"Molde","start":"2021-05-30T13:00:00Z","live":false},"#,
            r#""market":{"kind":"btts","period":"ft","line":null,"id":"2265745367"},"#,
            r#""status":"offered","#,
            r#""outcomes":[{"outcome":"yes","price":1.63,"status":"open","id":"2923349982"},"#,
            r#"{"outcome":"no","price":2.23,"status":"open","id":"2923350002"}],"#,
            r#""changed_at":"2021-05-30T07:08:09Z","observed_at":"2026-12-04T10:00:00.123Z"}"#
        );
        assert_eq!(json, expected);
        assert_eq!(records[0].key_suffix(), "btts:ft:-");
        let owned: Snapshot = serde_json::from_str(&json).unwrap();
        assert_eq!(owned.outcomes, event.markets[0].outcomes);
    }

    #[test]
    fn missing_kind_gets_not_offered_record() {
        let event = event();
        let records = snapshot_records(
            "unibet",
            None,
            &event,
            MarketSet::from_kinds(&[MarketKind::Btts, MarketKind::AsianHandicap]),
            Timestamp::now(),
        );
        assert_eq!(records.len(), 2);
        let gap = &records[1];
        assert_eq!(gap.status, MarketStatus::NotOffered);
        assert_eq!(gap.market.kind, MarketKind::AsianHandicap);
        assert_eq!(gap.market.period, Period::FullTime);
        assert!(gap.outcomes.is_empty());
        let json = serde_json::to_value(gap).unwrap();
        assert_eq!(json["status"], "not_offered");
        assert_eq!(json["market"]["line"], serde_json::Value::Null);
        assert_eq!(json["outcomes"], serde_json::json!([]));
    }

    #[test]
    fn unrequested_kinds_are_left_out() {
        let event = event();
        let records = snapshot_records(
            "unibet",
            None,
            &event,
            MarketSet::from_kinds(&[MarketKind::MatchResult]),
            Timestamp::now(),
        );
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].market.kind, MarketKind::MatchResult);
        assert_eq!(records[0].status, MarketStatus::NotOffered);
    }
}
