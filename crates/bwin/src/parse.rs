//! The Entain CDS betting-offer schema and its mapping into xtr's markets.
//!
//! A body is either a `fixture-view` response (`{"fixture": {...}}`) or a `fixtures`
//! listing (`{"fixtures": [...], "totalCount": n}`); both carry fixtures of one shape.
//! A fixture's `games` are its markets and a game's `results` are its outcomes. The
//! results are parsed only for games whose name xtr maps, so the dozens of other games
//! of a fixture cost only a scan.
//!
//! Games map by exact English name (ASCII case ignored) and, where the recorded
//! responses show one, `categoryId`:
//!
//! | Game name                         | categoryId | Kind, period                    |
//! |-----------------------------------|------------|---------------------------------|
//! | `Match Result`                    | 25         | 1x2 ft                          |
//! | `Half Time result`                | 30         | 1x2 1h                          |
//! | `Both Teams to Score`             | 261        | btts ft                         |
//! | `Both Teams to Score 1st Half`    | any        | btts 1h                         |
//! | `Both Teams to Score in 2nd Half` | any        | btts 2h                         |
//! | `Total Goals - Over/Under`        | 31         | total_goals or asian_total ft   |
//! | `Total Goals O/U - 1st Half`      | 31         | total_goals or asian_total 1h   |
//! | `Total Goals O/U - 2nd Half`      | 31         | total_goals or asian_total 2h   |
//! | `Double Chance`                   | 190        | double_chance ft                |
//! | `Draw No Bet`                     | 359        | draw_no_bet ft                  |
//!
//! Each totals game has one line (`attr`): half goals are `total_goals`, quarter and
//! whole goals `asian_total`. Match-result labels are read through the `sourceName`
//! marker (`1`, `X`, `2`) where sent, and else against the teams' full and short names.
//! A game with any result that cannot be mapped with certainty is left out whole.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use std::str::FromStr;

use compact_str::CompactString;
use rust_decimal::Decimal;
use serde::de::{self, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;
use xtr_core::error::Context;
use xtr_core::{
    Error, Event, EventMarkets, Line, Market, MarketKey, MarketKind, MarketSet, Outcome,
    OutcomeName, OutcomeStatus, Period, Price, Result, Timestamp,
};

use crate::NAME;

/// Entain's sport id of football.
pub const FOOTBALL_SPORT_ID: i64 = 4;

/// The `visibility` of a game or result that can be backed now; every other value
/// (`Suspended`, `Hidden`) is treated as suspended.
const VISIBLE: &str = "Visible";

/// A fixture-view response or a fixtures listing.
#[derive(Deserialize)]
struct Body<'a, G> {
    /// `Some(None)` when the key is present but `null`, which CDS returns for an
    /// unknown fixture.
    #[serde(borrow, default, deserialize_with = "present")]
    fixture: Option<Option<Fixture<'a, G>>>,
    #[serde(borrow, default)]
    fixtures: Option<Vec<Fixture<'a, G>>>,
    #[serde(default, rename = "totalCount")]
    total_count: Option<u64>,
}

/// Deserializes a field that is present, so that a present `null` differs from a
/// missing key.
fn present<'de, D, T>(deserializer: D) -> std::result::Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// One fixture; `G` is its games, or [`IgnoredAny`] where only the event is needed.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Fixture<'a, G> {
    /// A string such as `"11248701"` or `"2:6036063"`; some brands send a number.
    #[serde(borrow)]
    id: &'a RawValue,
    #[serde(borrow, default)]
    participants: Vec<Participant<'a>>,
    #[serde(default)]
    start_date: Option<Timestamp>,
    #[serde(borrow, default)]
    stage: Option<Str<'a>>,
    #[serde(borrow, default)]
    competition: Option<Named<'a>>,
    #[serde(default)]
    sport: Option<Sport>,
    #[serde(default)]
    games: Option<G>,
}

/// A string that borrows from the body unless it contains escapes. serde borrows a
/// `Cow<str>` field marked `borrow`, but not one inside an `Option`; this newtype does.
#[derive(Deserialize)]
struct Str<'a>(#[serde(borrow)] Cow<'a, str>);

impl Str<'_> {
    fn as_str(&self) -> &str {
        &self.0
    }
}

fn as_str<'s>(text: &'s Option<Str<'_>>) -> Option<&'s str> {
    text.as_ref().map(Str::as_str)
}

#[derive(Deserialize)]
struct Text<'a> {
    #[serde(borrow)]
    value: Cow<'a, str>,
}

#[derive(Deserialize)]
struct Named<'a> {
    #[serde(borrow)]
    name: Text<'a>,
}

#[derive(Deserialize, Clone, Copy)]
struct Sport {
    #[serde(default)]
    id: Option<i64>,
}

#[derive(Deserialize)]
struct Participant<'a> {
    #[serde(borrow)]
    name: ParticipantName<'a>,
}

/// A team's full name and the short name that results are labelled with.
#[derive(Deserialize)]
struct ParticipantName<'a> {
    #[serde(borrow)]
    value: Cow<'a, str>,
    #[serde(borrow, default)]
    short: Option<Str<'a>>,
}

impl ParticipantName<'_> {
    fn matches(&self, label: &str) -> bool {
        self.value.eq_ignore_ascii_case(label)
            || self
                .short
                .as_ref()
                .map(Str::as_str)
                .is_some_and(|short| short.eq_ignore_ascii_case(label))
    }
}

/// One game (market). CDS sends the name before the results, so the results are parsed
/// while the game is read when the name is one xtr maps, and skipped when it is not.
struct Game<'a> {
    id: &'a RawValue,
    name: Text<'a>,
    category_id: Option<i64>,
    /// The line of a totals game, with a decimal comma: `"2,5"`.
    attr: Option<Str<'a>>,
    visibility: Option<Str<'a>>,
    results: GameResults<'a>,
}

enum GameResults<'a> {
    Parsed(Vec<GameResult<'a>>),
    /// Results that came before the name, parsed once the game maps.
    Deferred(&'a RawValue),
    /// Results of a game whose name maps to nothing.
    Skipped,
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "camelCase")]
enum GameField {
    Id,
    Name,
    CategoryId,
    Attr,
    Visibility,
    Results,
    #[serde(other)]
    Other,
}

impl<'de: 'a, 'a> Deserialize<'de> for Game<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        deserializer.deserialize_map(GameVisitor(PhantomData))
    }
}

struct GameVisitor<'a>(PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for GameVisitor<'a> {
    type Value = Game<'a>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a CDS game object")
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> std::result::Result<Game<'a>, M::Error> {
        let mut id = None;
        let mut name: Option<Text<'a>> = None;
        let mut category_id = None;
        let mut attr = None;
        let mut visibility = None;
        let mut results = None;
        while let Some(field) = map.next_key::<GameField>()? {
            match field {
                GameField::Id => id = Some(map.next_value()?),
                GameField::Name => name = Some(map.next_value()?),
                GameField::CategoryId => category_id = map.next_value()?,
                GameField::Attr => attr = map.next_value()?,
                GameField::Visibility => visibility = map.next_value()?,
                GameField::Results => {
                    results = Some(match &name {
                        None => GameResults::Deferred(map.next_value()?),
                        Some(name) if is_mapped_name(&name.value) => {
                            GameResults::Parsed(map.next_value()?)
                        }
                        Some(_) => {
                            map.next_value::<IgnoredAny>()?;
                            GameResults::Skipped
                        }
                    });
                }
                GameField::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Game {
            id: id.ok_or_else(|| de::Error::missing_field("id"))?,
            name: name.ok_or_else(|| de::Error::missing_field("name"))?,
            category_id,
            attr,
            visibility,
            results: results.ok_or_else(|| de::Error::missing_field("results"))?,
        })
    }
}

/// One result (outcome) of a game.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GameResult<'a> {
    #[serde(borrow)]
    id: &'a RawValue,
    /// Decimal odds as a JSON number, read as text so no digit is lost.
    #[serde(borrow, default)]
    odds: Option<&'a RawValue>,
    #[serde(borrow)]
    name: Text<'a>,
    /// `1`, `X` or `2` on the main match result; absent elsewhere.
    #[serde(borrow, default)]
    source_name: Option<Text<'a>>,
    /// `Over` or `Under` on totals.
    #[serde(borrow, default)]
    totals_prefix: Option<Str<'a>>,
    #[serde(borrow, default)]
    visibility: Option<Str<'a>>,
}

/// The outcome layout of a mapped game.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    MatchResult,
    Btts,
    Totals,
    DoubleChance,
    DrawNoBet,
}

/// A game name that maps to a kind, with the `categoryId` it must carry where the
/// recorded responses show one.
struct GameSpec {
    name: &'static str,
    category: Option<i64>,
    shape: Shape,
    period: Period,
}

const fn spec(name: &'static str, category: Option<i64>, shape: Shape, period: Period) -> GameSpec {
    GameSpec {
        name,
        category,
        shape,
        period,
    }
}

/// The games xtr maps, by exact English name. Team totals ("Total Goals O/U - Team
/// 1"), time windows ("Total Goals between 0 min. and 15:00 min."), exact goals, BTTS
/// combinations and the three-way "Handicap 0:1" share words with these names and are
/// left out because only exact names match.
const GAME_SPECS: &[GameSpec] = &[
    spec(
        "Match Result",
        Some(25),
        Shape::MatchResult,
        Period::FullTime,
    ),
    spec(
        "Half Time result",
        Some(30),
        Shape::MatchResult,
        Period::FirstHalf,
    ),
    spec(
        "Both Teams to Score",
        Some(261),
        Shape::Btts,
        Period::FullTime,
    ),
    // NOTE: the half-time BTTS names are documented for CDS but absent from the
    // recording, so their categoryId is not checked.
    spec(
        "Both Teams to Score 1st Half",
        None,
        Shape::Btts,
        Period::FirstHalf,
    ),
    spec(
        "Both Teams to Score in 2nd Half",
        None,
        Shape::Btts,
        Period::SecondHalf,
    ),
    spec(
        "Total Goals - Over/Under",
        Some(31),
        Shape::Totals,
        Period::FullTime,
    ),
    spec(
        "Total Goals O/U - 1st Half",
        Some(31),
        Shape::Totals,
        Period::FirstHalf,
    ),
    spec(
        "Total Goals O/U - 2nd Half",
        Some(31),
        Shape::Totals,
        Period::SecondHalf,
    ),
    spec(
        "Double Chance",
        Some(190),
        Shape::DoubleChance,
        Period::FullTime,
    ),
    spec("Draw No Bet", Some(359), Shape::DrawNoBet, Period::FullTime),
];

fn is_mapped_name(name: &str) -> bool {
    let name = name.trim();
    GAME_SPECS
        .iter()
        .any(|spec| spec.name.eq_ignore_ascii_case(name))
}

fn game_spec(game: &Game<'_>) -> Option<&'static GameSpec> {
    let name = game.name.value.trim();
    GAME_SPECS.iter().find(|spec| {
        spec.name.eq_ignore_ascii_case(name)
            && spec
                .category
                .is_none_or(|category| game.category_id == Some(category))
    })
}

/// The side of the match a result label names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Home,
    Draw,
    Away,
}

/// The two teams, home first, as CDS lists them (and as the fixture name
/// "Home - Away" shows).
struct Teams<'p, 'a> {
    home: Option<&'p ParticipantName<'a>>,
    away: Option<&'p ParticipantName<'a>>,
}

impl Teams<'_, '_> {
    /// Returns the side a label names, or `None` when it names none or several.
    fn side(&self, label: &str) -> Option<Side> {
        let label = label.trim();
        let home = self.home.is_some_and(|team| team.matches(label));
        let away = self.away.is_some_and(|team| team.matches(label));
        let draw = label.eq_ignore_ascii_case("X") || label.eq_ignore_ascii_case("Draw");
        match (home, draw, away) {
            (true, false, false) => Some(Side::Home),
            (false, true, false) => Some(Side::Draw),
            (false, false, true) => Some(Side::Away),
            _ => None,
        }
    }
}

fn context() -> Context {
    Context::new(NAME, "parse fixture")
}

/// Parses a fixture-view response or a fixtures listing into one entry per fixture,
/// keeping only markets of the kinds in `markets`.
///
/// A fixture-view response whose `fixture` is `null` gives no entry.
///
/// # Errors
///
/// Returns [`Error::Malformed`] when the body is not CDS JSON with a `fixture` or
/// `fixtures` key.
pub fn parse_body(body: &[u8], markets: MarketSet) -> Result<Vec<EventMarkets>> {
    let body: Body<'_, Vec<Game<'_>>> =
        serde_json::from_slice(body).map_err(|error| Error::malformed(context(), &error))?;
    let fixtures = match (body.fixture, body.fixtures) {
        (Some(fixture), _) => fixture.into_iter().collect(),
        (None, Some(fixtures)) => fixtures,
        (None, None) => return Err(missing_fixture_key()),
    };
    fixtures
        .iter()
        .map(|fixture| map_fixture(fixture, markets))
        .collect()
}

/// Returns whether a fixture-view response says the fixture does not exist: its
/// `fixture` is `null`. Bodies that are not CDS JSON return `false`, so that parsing
/// reports them as malformed.
pub fn is_missing_fixture(body: &[u8]) -> bool {
    match serde_json::from_slice::<Body<'_, IgnoredAny>>(body) {
        Ok(body) => matches!(body.fixture, Some(None)) && body.fixtures.is_none(),
        Err(_) => false,
    }
}

/// One page of a fixtures listing.
#[derive(Debug)]
pub struct ListingPage {
    /// The listed events.
    pub events: Vec<Event>,
    /// The listing's `totalCount`, when sent: fixtures across all pages.
    pub total_count: Option<u64>,
}

/// Parses a fixtures listing into events, skipping the games.
///
/// # Errors
///
/// Returns [`Error::Malformed`] when the body is not a CDS listing.
pub fn parse_listing(body: &[u8]) -> Result<ListingPage> {
    let body: Body<'_, IgnoredAny> = serde_json::from_slice(body)
        .map_err(|error| Error::malformed(Context::new(NAME, "parse listing"), &error))?;
    let fixtures = match (body.fixtures, body.fixture) {
        (Some(fixtures), _) => fixtures,
        (None, Some(fixture)) => fixture.into_iter().collect(),
        (None, None) => return Err(missing_fixture_key()),
    };
    let events = fixtures.iter().map(event).collect::<Result<_>>()?;
    Ok(ListingPage {
        events,
        total_count: body.total_count,
    })
}

fn missing_fixture_key() -> Error {
    Error::Malformed {
        context: context(),
        detail: "expected a `fixture` or `fixtures` key".into(),
    }
}

fn map_fixture(fixture: &Fixture<'_, Vec<Game<'_>>>, markets: MarketSet) -> Result<EventMarkets> {
    let event = event(fixture)?;
    let teams = teams(fixture);
    let mut mapped: Vec<Market> = Vec::new();
    for game in fixture.games.iter().flatten() {
        let Some(spec) = game_spec(game) else {
            continue;
        };
        let Some(market) = map_game(game, spec, &teams, markets)? else {
            continue;
        };
        // Two games with one key would publish two snapshots for one market; the
        // first one listed wins.
        if mapped.iter().all(|existing| existing.key != market.key) {
            mapped.push(market);
        }
    }
    Ok(EventMarkets {
        event,
        markets: mapped,
    })
}

fn teams<'p, 'a, G>(fixture: &'p Fixture<'a, G>) -> Teams<'p, 'a> {
    match fixture.participants.as_slice() {
        [home, away] => Teams {
            home: Some(&home.name),
            away: Some(&away.name),
        },
        _ => Teams {
            home: None,
            away: None,
        },
    }
}

fn event<G>(fixture: &Fixture<'_, G>) -> Result<Event> {
    let id = id_text(fixture.id)?;
    let (home, away) = match fixture.participants.as_slice() {
        [home, away] if home.name.value != away.name.value => (
            Some(home.name.value.clone().into_owned()),
            Some(away.name.value.clone().into_owned()),
        ),
        _ => (None, None),
    };
    let football = fixture
        .sport
        .is_some_and(|sport| sport.id == Some(FOOTBALL_SPORT_ID));
    Ok(Event {
        id,
        sport: football.then(|| CompactString::const_new("football")),
        competition: fixture
            .competition
            .as_ref()
            .map(|competition| competition.name.value.clone().into_owned()),
        home,
        away,
        start: fixture.start_date,
        live: as_str(&fixture.stage) == Some("Live"),
    })
}

/// Returns the text of an id sent as a JSON string or number.
fn id_text(raw: &RawValue) -> Result<CompactString> {
    let text = raw.get();
    let Some(quoted) = text
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
    else {
        return Ok(CompactString::from(text));
    };
    if !quoted.contains('\\') {
        return Ok(CompactString::from(quoted));
    }
    let id: Cow<'_, str> =
        serde_json::from_str(text).map_err(|error| Error::malformed(context(), &error))?;
    Ok(CompactString::from(id.as_ref()))
}

/// Reads decimal odds exactly; odds of 1 or less (CDS sends 1 on suspended results)
/// are no price.
fn price(raw: Option<&RawValue>) -> Option<Price> {
    let text = raw?.get().trim_matches('"');
    let price = Price::from_str(text).ok()?;
    (price > Price::from_scaled(1, 0)).then_some(price)
}

/// Parses `attr`'s decimal-comma line (`"2,5"`) and returns it with the totals kind it
/// belongs to: half goals are `total_goals`, quarter and whole goals `asian_total`.
fn totals_line(attr: &str) -> Option<(MarketKind, Line)> {
    let text: CompactString = attr
        .trim()
        .chars()
        .map(|c| if c == ',' { '.' } else { c })
        .collect();
    let line = Line::from_str(&text).ok()?;
    let value = line.value();
    if value.is_sign_negative() {
        return None;
    }
    if value.fract() == Decimal::new(5, 1) {
        Some((MarketKind::TotalGoals, line))
    } else if (value * Decimal::from(4)).fract().is_zero() {
        Some((MarketKind::AsianTotal, line))
    } else {
        None
    }
}

fn kind_of(shape: Shape) -> MarketKind {
    match shape {
        Shape::MatchResult => MarketKind::MatchResult,
        Shape::Btts => MarketKind::Btts,
        Shape::Totals => MarketKind::TotalGoals,
        Shape::DoubleChance => MarketKind::DoubleChance,
        Shape::DrawNoBet => MarketKind::DrawNoBet,
    }
}

/// Maps one game, or returns `None` when its kind is not requested or any result
/// cannot be mapped with certainty.
fn map_game(
    game: &Game<'_>,
    spec: &GameSpec,
    teams: &Teams<'_, '_>,
    markets: MarketSet,
) -> Result<Option<Market>> {
    let key = if spec.shape == Shape::Totals {
        let Some((kind, line)) = as_str(&game.attr).and_then(totals_line) else {
            return Ok(None);
        };
        MarketKey::with_line(kind, spec.period, line)
    } else {
        MarketKey::new(kind_of(spec.shape), spec.period)
    };
    if !markets.contains(key.kind) {
        return Ok(None);
    }

    let deferred;
    let results: &[GameResult<'_>] = match &game.results {
        GameResults::Parsed(results) => results,
        GameResults::Deferred(raw) => {
            deferred = serde_json::from_str::<Vec<GameResult<'_>>>(raw.get())
                .map_err(|error| Error::malformed(context(), &error))?;
            &deferred
        }
        GameResults::Skipped => return Ok(None),
    };
    let game_open = as_str(&game.visibility) == Some(VISIBLE);
    let mut outcomes = Vec::with_capacity(results.len());
    for result in results {
        let Some(name) = outcome_name(spec.shape, result, teams) else {
            return Ok(None);
        };
        let open = game_open && as_str(&result.visibility) == Some(VISIBLE);
        let price = price(result.odds);
        if open && price.is_none() {
            return Ok(None);
        }
        let status = if open {
            OutcomeStatus::Open
        } else {
            OutcomeStatus::Suspended
        };
        outcomes.push(Outcome::new(name, price, status, Some(id_text(result.id)?)));
    }

    let expected = key.kind.outcomes();
    let complete = outcomes.len() == expected.len()
        && expected
            .iter()
            .all(|name| outcomes.iter().filter(|o| o.outcome == *name).count() == 1);
    if !complete {
        return Ok(None);
    }
    let mut market = Market {
        key,
        id: Some(id_text(game.id)?),
        outcomes,
        changed_at: None,
    };
    market.sort_outcomes();
    Ok(Some(market))
}

fn outcome_name(
    shape: Shape,
    result: &GameResult<'_>,
    teams: &Teams<'_, '_>,
) -> Option<OutcomeName> {
    let label = result.name.value.trim();
    match shape {
        Shape::MatchResult => match_result_side(result, teams).map(|side| match side {
            Side::Home => OutcomeName::Home,
            Side::Draw => OutcomeName::Draw,
            Side::Away => OutcomeName::Away,
        }),
        Shape::Btts => {
            if label.eq_ignore_ascii_case("Yes") {
                Some(OutcomeName::Yes)
            } else if label.eq_ignore_ascii_case("No") {
                Some(OutcomeName::No)
            } else {
                None
            }
        }
        Shape::Totals => {
            let prefix = match as_str(&result.totals_prefix) {
                Some(prefix) => prefix,
                None => label.split_whitespace().next()?,
            };
            if prefix.eq_ignore_ascii_case("Over") {
                Some(OutcomeName::Over)
            } else if prefix.eq_ignore_ascii_case("Under") {
                Some(OutcomeName::Under)
            } else {
                None
            }
        }
        Shape::DrawNoBet => match teams.side(label)? {
            Side::Home => Some(OutcomeName::Home),
            Side::Away => Some(OutcomeName::Away),
            Side::Draw => None,
        },
        Shape::DoubleChance => double_chance(label, teams),
    }
}

/// Reads a match-result label through the `sourceName` marker (`1`, `X`, `2`) and the
/// result name against the teams; when both are present they must agree.
fn match_result_side(result: &GameResult<'_>, teams: &Teams<'_, '_>) -> Option<Side> {
    let marker = result
        .source_name
        .as_ref()
        .and_then(|source| match source.value.trim() {
            "1" => Some(Side::Home),
            "X" | "x" => Some(Side::Draw),
            "2" => Some(Side::Away),
            _ => None,
        });
    let by_name = teams.side(&result.name.value);
    match (marker, by_name) {
        (Some(marker), Some(by_name)) => (marker == by_name).then_some(marker),
        (Some(side), None) | (None, Some(side)) => Some(side),
        (None, None) => None,
    }
}

/// Reads a double-chance label such as "Genk or X". A team name may itself contain
/// " or ", so every split point is tried and exactly one must name two sides.
fn double_chance(label: &str, teams: &Teams<'_, '_>) -> Option<OutcomeName> {
    let mut found = None;
    for (at, separator) in label.match_indices(" or ") {
        let left = teams.side(&label[..at]);
        let right = teams.side(&label[at + separator.len()..]);
        let (Some(left), Some(right)) = (left, right) else {
            continue;
        };
        let name = match (left, right) {
            (Side::Home, Side::Draw) | (Side::Draw, Side::Home) => OutcomeName::HomeOrDraw,
            (Side::Draw, Side::Away) | (Side::Away, Side::Draw) => OutcomeName::DrawOrAway,
            (Side::Home, Side::Away) | (Side::Away, Side::Home) => OutcomeName::HomeOrAway,
            _ => continue,
        };
        if found.replace(name).is_some() {
            return None;
        }
    }
    found
}
