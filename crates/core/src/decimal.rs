//! Exact decimal values of the model: prices, lines and exchange sizes.
//!
//! All three wrap [`rust_decimal::Decimal`] and serialize as JSON numbers written with
//! exactly the digits they hold (1.63 is written `1.63`, never `1.6299999`). Trailing
//! zeros are dropped, so Kambi's 1630 thousandths and bwin's `1.63` give the same text.

use std::fmt::{self, Write as _};
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Decimal odds of an outcome: the total return per unit staked, always above 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Price(Decimal);

/// The line of a market: goals for totals, the home team's handicap for asian handicap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Line(Decimal);

/// Stake available at an exchange price level, in the exchange's currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Size(Decimal);

macro_rules! decimal_newtype {
    ($name:ident) => {
        impl $name {
            /// Wraps a decimal, dropping trailing zeros so equal values print alike.
            pub fn new(value: Decimal) -> Self {
                Self(value.normalize())
            }

            /// Builds the value `mantissa * 10^-scale`, for example `(1630, 3)` is 1.63.
            ///
            /// # Panics
            ///
            /// Panics when `scale` is above 28, the largest scale a decimal holds.
            pub fn from_scaled(mantissa: i64, scale: u32) -> Self {
                Self::new(Decimal::new(mantissa, scale))
            }

            /// Returns the exact decimal value.
            pub fn value(self) -> Decimal {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl FromStr for $name {
            type Err = rust_decimal::Error;

            /// Parses plain decimal text such as `2.5`, `-0.25` or `1.6153846`.
            fn from_str(text: &str) -> Result<Self, Self::Err> {
                Decimal::from_str_exact(text).map(Self::new)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serialize_decimal(self.0, serializer)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                deserializer.deserialize_any(DecimalVisitor).map(Self::new)
            }
        }
    };
}

decimal_newtype!(Price);
decimal_newtype!(Line);
decimal_newtype!(Size);

impl Line {
    /// Returns the line's text as used in Redis keys: `2.5`, `-0.25`, `0`.
    pub fn key_text(self) -> String {
        self.0.to_string()
    }

    /// Returns the same line seen from the other side (a home -0.25 is an away +0.25).
    pub fn negated(self) -> Self {
        Self::new(-self.0)
    }
}

/// Longest text a `Decimal` prints: 29 digits, a sign and a decimal point.
const DECIMAL_TEXT_MAX: usize = 32;

/// A fixed stack buffer, so writing a price allocates nothing.
struct StackText {
    bytes: [u8; DECIMAL_TEXT_MAX],
    len: usize,
}

impl fmt::Write for StackText {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        let end = self.len + text.len();
        let slot = self.bytes.get_mut(self.len..end).ok_or(fmt::Error)?;
        slot.copy_from_slice(text.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Writes `value` as a JSON number with its exact digits.
///
/// serde_json has no public way to emit a number from text without its
/// `arbitrary_precision` feature, which would slow every parser in the workspace. A
/// borrowed [`serde_json::value::RawValue`] is serialized verbatim by serde_json, and
/// parsing the digits into one borrows the stack buffer instead of allocating.
fn serialize_decimal<S: Serializer>(value: Decimal, serializer: S) -> Result<S::Ok, S::Error> {
    let mut text = StackText {
        bytes: [0; DECIMAL_TEXT_MAX],
        len: 0,
    };
    write!(text, "{value}").map_err(serde::ser::Error::custom)?;
    let digits = std::str::from_utf8(&text.bytes[..text.len]).map_err(serde::ser::Error::custom)?;
    let raw: &serde_json::value::RawValue =
        serde_json::from_str(digits).map_err(serde::ser::Error::custom)?;
    raw.serialize(serializer)
}

/// Reads a decimal from a JSON number or a decimal string.
///
/// A JSON number reaches a non-raw deserializer as an `f64`; its shortest round-trip text
/// is the decimal that was written whenever it had at most 15 significant digits, which
/// holds for every value this crate serializes from a bookmaker's price or line.
struct DecimalVisitor;

impl Visitor<'_> for DecimalVisitor {
    type Value = Decimal;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a decimal number")
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Decimal, E> {
        Ok(Decimal::from(value))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Decimal, E> {
        Ok(Decimal::from(value))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Decimal, E> {
        if !value.is_finite() {
            return Err(E::custom(format!("{value} is not a finite decimal")));
        }
        Decimal::from_str_exact(&value.to_string()).map_err(E::custom)
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Decimal, E> {
        Decimal::from_str_exact(value.trim()).map_err(E::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn price_serializes_exact_digits() {
        let price = Price::from_scaled(1630, 3);
        assert_eq!(serde_json::to_string(&price).unwrap(), "1.63");
    }

    #[test]
    fn price_keeps_long_native_decimals() {
        let price: Price = "1.615384615384615384".parse().unwrap();
        assert_eq!(
            serde_json::to_string(&price).unwrap(),
            "1.615384615384615384"
        );
    }

    #[test]
    fn line_negative_quarter() {
        let line = Line::from_scaled(-250, 3);
        assert_eq!(serde_json::to_string(&line).unwrap(), "-0.25");
        assert_eq!(line.key_text(), "-0.25");
        assert_eq!(line.negated().key_text(), "0.25");
    }

    #[test]
    fn whole_line_has_no_fraction() {
        assert_eq!(Line::from_scaled(3000, 3).key_text(), "3");
        assert_eq!(Line::from_scaled(0, 3).key_text(), "0");
    }

    #[test]
    fn price_round_trips_through_json() {
        for text in ["1.01", "1.9259", "2.5", "1000", "17.5"] {
            let price: Price = text.parse().unwrap();
            let json = serde_json::to_string(&price).unwrap();
            assert_eq!(json, text);
            let back: Price = serde_json::from_str(&json).unwrap();
            assert_eq!(back, price, "{text}");
        }
    }

    #[test]
    fn decimal_from_string_value() {
        let price: Price = serde_json::from_str("\"2.75\"").unwrap();
        assert_eq!(price, Price::from_scaled(275, 2));
    }
}
