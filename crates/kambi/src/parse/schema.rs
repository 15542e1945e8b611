//! Kambi's offering schema, read in one pass with borrowed fields.
//!
//! `betOffers` is read by seeded visitors that know the requested kinds. Each offer's
//! criterion and type are classified when its `outcomes` key arrives. The outcomes of an
//! offer that maps to no requested kind are then skipped without being parsed, and those
//! of the others are parsed in place into one shared list. Kambi sends `criterion` and
//! `betOfferType` before `outcomes`; for a body that does not, the outcomes are kept as
//! a [`RawValue`] and parsed once the offer's last key is read.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use xtr_core::MarketSet;

use super::criteria::{CriterionSpec, Family, classify};

/// The maximum number of outcomes of a mapped market (1x2 and double chance have 3). An
/// offer with more is not one of the mapped markets.
pub(super) const MAX_OUTCOMES: usize = 3;

/// A JSON string, borrowed from the body unless it has escapes.
///
/// serde borrows a `Cow<str>` only when it is a struct field of its own. Inside an
/// `Option` or a list, serde reads it into a new `String` every time.
pub(super) struct Text<'a>(Cow<'a, str>);

impl Text<'_> {
    pub(super) fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;

        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;

            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("a string")
            }

            fn visit_borrowed_str<E: de::Error>(self, value: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(value)))
            }

            fn visit_str<E: de::Error>(self, value: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(value.to_owned())))
            }
        }

        deserializer.deserialize_str(TextVisitor)
    }
}

/// A bet-offer body (`{betOffers, events}`), or a listing body when it has only
/// `events`.
pub(super) struct Body<'a> {
    /// Whether the body has a `betOffers` list.
    pub(super) has_offers: bool,
    pub(super) offers: Offers<'a>,
    pub(super) events: Option<Vec<EventEntry<'a>>>,
    pub(super) error: Option<ApiError<'a>>,
}

/// Kambi's error object, `{"error": {"status": 404, "message": "..."}}`.
#[derive(Deserialize)]
pub(super) struct ApiError<'a> {
    pub(super) status: Option<u16>,
    #[serde(borrow)]
    pub(super) message: Option<Text<'a>>,
}

/// The bet offers of a body, reduced to what the mapping needs.
#[derive(Default)]
pub(super) struct Offers<'a> {
    /// Offers whose criterion maps to a requested kind, in body order.
    pub(super) kept: Vec<KeptOffer>,
    /// The outcomes of the kept offers, each offer referring to its range. One list
    /// serves all offers, so that an outcome is stored once and never moved with its
    /// offer.
    pub(super) outcomes: Vec<RawOutcome<'a>>,
    /// The `eventId` of every offer in body order, without consecutive repeats.
    pub(super) event_ids: Vec<u64>,
}

impl<'a> Offers<'a> {
    /// Returns the outcomes of a kept offer.
    pub(super) fn outcomes_of(&self, offer: &KeptOffer) -> &[RawOutcome<'a>] {
        &self.outcomes[offer.outcomes.clone()]
    }
}

/// A bet offer whose criterion maps to a requested kind.
pub(super) struct KeptOffer {
    pub(super) id: u64,
    pub(super) event_id: u64,
    pub(super) criterion_id: Option<u64>,
    pub(super) spec: &'static CriterionSpec,
    /// Kambi's offer-level suspension, which suspends every outcome.
    pub(super) suspended: bool,
    /// The range of [`Offers::outcomes`] that contains the offer's first outcomes.
    outcomes: Range<usize>,
    /// Whether the offer had more than [`MAX_OUTCOMES`] outcomes.
    pub(super) overflow: bool,
}

/// One outcome of a bet offer, with the fields its market family needs.
#[derive(Default)]
pub(super) struct RawOutcome<'a> {
    pub(super) id: Option<u64>,
    /// Decimal odds in thousandths; absent on some suspended outcomes.
    pub(super) odds: Option<i64>,
    /// The outcome's line in thousandths: goals for totals, this side's own handicap for
    /// asian handicap. Read only for kinds with a line.
    pub(super) line: Option<i64>,
    /// Read for every family but asian handicap, whose sides are untyped.
    pub(super) kind: OutcomeType,
    /// Read only for asian handicap.
    pub(super) participant: Option<Text<'a>>,
    /// Read only for asian handicap.
    pub(super) participant_id: Option<u64>,
    /// Whether `status` is `OPEN`.
    pub(super) open: bool,
    pub(super) changed_date: Option<Text<'a>>,
}

/// Kambi's outcome `type`, for the types the mapped markets use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) enum OutcomeType {
    One,
    Cross,
    Two,
    Over,
    Under,
    Yes,
    No,
    OneOrCross,
    CrossOrTwo,
    OneOrTwo,
    /// `OT_UNTYPED` (asian handicap sides), or any type the mapping does not use.
    #[default]
    Other,
}

impl<'de> Deserialize<'de> for OutcomeType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TypeVisitor;

        impl Visitor<'_> for TypeVisitor {
            type Value = OutcomeType;

            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("an outcome type such as OT_ONE")
            }

            fn visit_str<E: de::Error>(self, value: &str) -> Result<OutcomeType, E> {
                Ok(match value {
                    "OT_ONE" => OutcomeType::One,
                    "OT_CROSS" => OutcomeType::Cross,
                    "OT_TWO" => OutcomeType::Two,
                    "OT_OVER" => OutcomeType::Over,
                    "OT_UNDER" => OutcomeType::Under,
                    "OT_YES" => OutcomeType::Yes,
                    "OT_NO" => OutcomeType::No,
                    "OT_ONE_OR_CROSS" => OutcomeType::OneOrCross,
                    "OT_CROSS_OR_TWO" => OutcomeType::CrossOrTwo,
                    "OT_ONE_OR_TWO" => OutcomeType::OneOrTwo,
                    _ => OutcomeType::Other,
                })
            }

            fn visit_unit<E: de::Error>(self) -> Result<OutcomeType, E> {
                Ok(OutcomeType::Other)
            }
        }

        deserializer.deserialize_any(TypeVisitor)
    }
}

/// Whether an outcome's `status` is `OPEN`; `null` is not.
struct OpenStatus(bool);

impl<'de> Deserialize<'de> for OpenStatus {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct StatusVisitor;

        impl Visitor<'_> for StatusVisitor {
            type Value = OpenStatus;

            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("an outcome status such as OPEN")
            }

            fn visit_str<E: de::Error>(self, value: &str) -> Result<OpenStatus, E> {
                Ok(OpenStatus(value == "OPEN"))
            }

            fn visit_unit<E: de::Error>(self) -> Result<OpenStatus, E> {
                Ok(OpenStatus(false))
            }
        }

        deserializer.deserialize_any(StatusVisitor)
    }
}

/// Reads an `outcomes` list into the outcome arena, keeping the first
/// [`MAX_OUTCOMES`]; returns whether there were more.
struct OutcomesSeed<'s, 'a> {
    family: Family,
    arena: &'s mut Vec<RawOutcome<'a>>,
}

impl<'de> DeserializeSeed<'de> for OutcomesSeed<'_, 'de> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for OutcomesSeed<'_, 'de> {
    type Value = bool;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a list of outcomes")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        let family = self.family;
        for _ in 0..MAX_OUTCOMES {
            match seq.next_element_seed(OutcomeSeed { family })? {
                Some(outcome) => self.arena.push(outcome),
                None => return Ok(false),
            }
        }
        let mut overflow = false;
        while seq.next_element::<IgnoredAny>()?.is_some() {
            overflow = true;
        }
        Ok(overflow)
    }
}

#[derive(Deserialize)]
#[serde(field_identifier)]
enum OutcomeField {
    #[serde(rename = "id")]
    Id,
    #[serde(rename = "odds")]
    Odds,
    #[serde(rename = "line")]
    Line,
    #[serde(rename = "type")]
    Type,
    #[serde(rename = "participant")]
    Participant,
    #[serde(rename = "participantId")]
    ParticipantId,
    #[serde(rename = "status")]
    Status,
    #[serde(rename = "changedDate")]
    ChangedDate,
    #[serde(other)]
    Other,
}

/// Reads one outcome. Fields the family does not use are skipped unparsed, which is
/// cheaper than parsing them.
struct OutcomeSeed {
    family: Family,
}

impl<'de> DeserializeSeed<'de> for OutcomeSeed {
    type Value = RawOutcome<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for OutcomeSeed {
    type Value = RawOutcome<'de>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("an outcome")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let handicap = self.family == Family::AsianHandicap;
        let lined = self.family.kind().has_line();
        let mut outcome = RawOutcome::default();
        while let Some(field) = map.next_key::<OutcomeField>()? {
            match field {
                OutcomeField::Id => outcome.id = map.next_value()?,
                OutcomeField::Odds => outcome.odds = map.next_value()?,
                OutcomeField::Line if lined => outcome.line = map.next_value()?,
                OutcomeField::Type if !handicap => outcome.kind = map.next_value()?,
                OutcomeField::Participant if handicap => {
                    outcome.participant = map.next_value()?;
                }
                OutcomeField::ParticipantId if handicap => {
                    outcome.participant_id = map.next_value()?;
                }
                OutcomeField::Status => outcome.open = map.next_value::<OpenStatus>()?.0,
                OutcomeField::ChangedDate => outcome.changed_date = map.next_value()?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(outcome)
    }
}

/// An item of `events[]`: a flat event, or `{event, betOffers}` in listings. One struct
/// reads both, because the wrapped form's keys (`event`, `betOffers`) never occur in a
/// flat event.
#[derive(Deserialize)]
pub(super) struct EventEntry<'a> {
    pub(super) id: Option<u64>,
    #[serde(borrow, rename = "homeName")]
    pub(super) home_name: Option<Text<'a>>,
    #[serde(borrow, rename = "awayName")]
    pub(super) away_name: Option<Text<'a>>,
    #[serde(borrow)]
    pub(super) start: Option<Text<'a>>,
    #[serde(borrow)]
    pub(super) group: Option<Text<'a>>,
    #[serde(borrow)]
    pub(super) sport: Option<Text<'a>>,
    #[serde(borrow)]
    pub(super) state: Option<Text<'a>>,
    /// Whether `tags` contains `COMPETITION`, Kambi's mark of an outright.
    #[serde(default, rename = "tags", deserialize_with = "has_competition_tag")]
    pub(super) outright: bool,
    #[serde(default)]
    pub(super) participants: Participants,
    #[serde(borrow)]
    pub(super) event: Option<Box<EventEntry<'a>>>,
    /// The offers of a listing item, read by [`read_offers`] when markets are parsed.
    #[serde(borrow, rename = "betOffers")]
    pub(super) bet_offers: Option<&'a RawValue>,
}

impl<'a> EventEntry<'a> {
    /// Returns the event itself: the inner `event` of a wrapped item, else the item.
    pub(super) fn event(&self) -> &EventEntry<'a> {
        self.event.as_deref().unwrap_or(self)
    }

    /// Returns whether the entry is a match: not tagged `COMPETITION`, with two teams.
    pub(super) fn is_match(&self) -> bool {
        !self.outright && self.home_name.is_some() && self.away_name.is_some()
    }
}

/// The participant ids of an event's home and away teams, by their `home` flag.
#[derive(Default)]
pub(super) struct Participants {
    pub(super) home: Option<u64>,
    pub(super) away: Option<u64>,
}

/// A team of an event.
#[derive(Deserialize)]
struct Participant {
    #[serde(rename = "participantId")]
    id: Option<u64>,
    #[serde(default)]
    home: bool,
}

impl<'de> Deserialize<'de> for Participants {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ParticipantsVisitor;

        impl<'de> Visitor<'de> for ParticipantsVisitor {
            type Value = Participants;

            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("a list of participants")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Participants, A::Error> {
                let mut teams = Participants::default();
                while let Some(participant) = seq.next_element::<Participant>()? {
                    let side = if participant.home {
                        &mut teams.home
                    } else {
                        &mut teams.away
                    };
                    *side = side.or(participant.id);
                }
                Ok(teams)
            }
        }

        deserializer.deserialize_seq(ParticipantsVisitor)
    }
}

/// A listing body: `{events: [...]}`.
#[derive(Deserialize)]
pub(super) struct Listing<'a> {
    #[serde(borrow)]
    pub(super) events: Vec<EventEntry<'a>>,
}

/// Reads `tags` as whether it contains `COMPETITION`, without collecting the tags.
fn has_competition_tag<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    struct TagsVisitor;

    impl<'de> Visitor<'de> for TagsVisitor {
        type Value = bool;

        fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
            formatter.write_str("a list of tags")
        }

        fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
            Ok(false)
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
            let mut found = false;
            while let Some(tag) = seq.next_element::<Text<'de>>()? {
                found |= tag.as_str() == "COMPETITION";
            }
            Ok(found)
        }
    }

    deserializer.deserialize_any(TagsVisitor)
}

/// Reads a whole bet-offer body for the kinds in `markets`.
pub(super) struct BodySeed {
    pub(super) markets: MarketSet,
}

#[derive(Deserialize)]
#[serde(field_identifier)]
enum BodyField {
    #[serde(rename = "betOffers")]
    BetOffers,
    #[serde(rename = "events")]
    Events,
    #[serde(rename = "error")]
    Error,
    #[serde(other)]
    Other,
}

impl<'de> DeserializeSeed<'de> for BodySeed {
    type Value = Body<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for BodySeed {
    type Value = Body<'de>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a Kambi body with betOffers or events")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut body = Body {
            has_offers: false,
            offers: Offers::default(),
            events: None,
            error: None,
        };
        while let Some(field) = map.next_key::<BodyField>()? {
            match field {
                BodyField::BetOffers => {
                    map.next_value_seed(OffersSeed {
                        markets: self.markets,
                        offers: &mut body.offers,
                    })?;
                    body.has_offers = true;
                }
                BodyField::Events => body.events = Some(map.next_value()?),
                BodyField::Error => body.error = Some(map.next_value()?),
                BodyField::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(body)
    }
}

/// Reads a `betOffers` list held as text, such as a listing item's, into `offers`.
pub(super) fn read_offers<'a>(
    text: &'a str,
    markets: MarketSet,
    offers: &mut Offers<'a>,
) -> Result<(), serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    OffersSeed { markets, offers }.deserialize(&mut deserializer)?;
    deserializer.end()
}

/// Reads a `betOffers` list, appending to `offers`.
struct OffersSeed<'s, 'a> {
    markets: MarketSet,
    offers: &'s mut Offers<'a>,
}

impl<'de> DeserializeSeed<'de> for OffersSeed<'_, 'de> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for OffersSeed<'_, 'de> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a list of bet offers")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let OffersSeed { markets, offers } = self;
        while seq
            .next_element_seed(OfferSeed {
                markets,
                offers: &mut *offers,
            })?
            .is_some()
        {}
        Ok(())
    }
}

/// Reads one bet offer, appending it to `offers` when it maps to a requested kind.
struct OfferSeed<'s, 'a> {
    markets: MarketSet,
    offers: &'s mut Offers<'a>,
}

#[derive(Deserialize)]
#[serde(field_identifier)]
enum OfferField {
    #[serde(rename = "id")]
    Id,
    #[serde(rename = "eventId")]
    EventId,
    #[serde(rename = "criterion")]
    Criterion,
    #[serde(rename = "betOfferType")]
    BetOfferType,
    #[serde(rename = "outcomes")]
    Outcomes,
    #[serde(rename = "suspended")]
    Suspended,
    #[serde(other)]
    Other,
}

/// The market identity of a bet offer.
#[derive(Deserialize)]
struct Criterion<'a> {
    id: Option<u64>,
    #[serde(borrow, rename = "englishLabel")]
    english_label: Option<Text<'a>>,
}

/// The shape of a bet offer (2 match, 6 over/under, 7 asian handicap, ...).
#[derive(Deserialize)]
struct OfferType {
    id: Option<u32>,
}

/// The state of an offer's `outcomes` while its keys are read.
enum Outcomes<'a> {
    Absent,
    Skipped,
    /// Read into the arena from this index on.
    Read {
        start: usize,
        overflow: bool,
    },
    /// Held unparsed because `outcomes` came before `criterion` or `betOfferType`.
    Deferred(&'a RawValue),
}

impl<'de> DeserializeSeed<'de> for OfferSeed<'_, 'de> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for OfferSeed<'_, 'de> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a bet offer")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut id: Option<u64> = None;
        let mut event_id: Option<u64> = None;
        let mut criterion: Option<Criterion<'de>> = None;
        let mut offer_type: Option<u32> = None;
        let mut suspended = false;
        let mut outcomes = Outcomes::Absent;
        let spec_of = |criterion: &Option<Criterion<'de>>, offer_type: Option<u32>| {
            let criterion = criterion.as_ref()?;
            classify(
                criterion.id,
                criterion.english_label.as_ref().map(Text::as_str),
                offer_type,
                self.markets,
            )
        };

        while let Some(field) = map.next_key::<OfferField>()? {
            match field {
                OfferField::Id => id = Some(map.next_value()?),
                OfferField::EventId => event_id = Some(map.next_value()?),
                OfferField::Criterion => criterion = Some(map.next_value()?),
                OfferField::BetOfferType => offer_type = map.next_value::<OfferType>()?.id,
                OfferField::Suspended => {
                    suspended = map.next_value::<Option<bool>>()?.unwrap_or(false);
                }
                OfferField::Outcomes if criterion.is_none() || offer_type.is_none() => {
                    outcomes = Outcomes::Deferred(map.next_value()?);
                }
                OfferField::Outcomes => {
                    outcomes = if let Some(spec) = spec_of(&criterion, offer_type) {
                        let start = self.offers.outcomes.len();
                        let overflow = map.next_value_seed(OutcomesSeed {
                            family: spec.family,
                            arena: &mut self.offers.outcomes,
                        })?;
                        Outcomes::Read { start, overflow }
                    } else {
                        map.next_value::<IgnoredAny>()?;
                        Outcomes::Skipped
                    };
                }
                OfferField::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }

        let id = id.ok_or_else(|| de::Error::missing_field("id"))?;
        let event_id = event_id.ok_or_else(|| de::Error::missing_field("eventId"))?;
        if self.offers.event_ids.last() != Some(&event_id) {
            self.offers.event_ids.push(event_id);
        }
        let spec = spec_of(&criterion, offer_type);
        let (spec, start, overflow) = match (spec, outcomes) {
            (Some(spec), Outcomes::Read { start, overflow }) => (spec, start, overflow),
            (Some(spec), Outcomes::Deferred(raw)) => {
                let start = self.offers.outcomes.len();
                let mut deserializer = serde_json::Deserializer::from_str(raw.get());
                let overflow = OutcomesSeed {
                    family: spec.family,
                    arena: &mut self.offers.outcomes,
                }
                .deserialize(&mut deserializer)
                .and_then(|overflow| deserializer.end().map(|()| overflow))
                .map_err(de::Error::custom)?;
                (spec, start, overflow)
            }
            (None, Outcomes::Read { start, .. }) => {
                // A later duplicate key changed the criterion: the outcomes are not needed.
                self.offers.outcomes.truncate(start);
                return Ok(());
            }
            _ => return Ok(()),
        };
        self.offers.kept.push(KeptOffer {
            id,
            event_id,
            criterion_id: criterion.and_then(|criterion| criterion.id),
            spec,
            suspended,
            outcomes: start..self.offers.outcomes.len(),
            overflow,
        });
        Ok(())
    }
}
