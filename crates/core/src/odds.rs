//! Conversions of American and fractional odds into decimal prices.
//!
//! Converted prices are rounded half-up to 4 decimal places, so -108 gives 1.9259 and
//! +150 gives 2.5. A bookmaker's native decimal price never passes through here: it is
//! kept exactly as sent.

use rust_decimal::{Decimal, RoundingStrategy};

use crate::decimal::Price;

/// Decimal places of a price converted from another format.
pub const CONVERTED_PRICE_SCALE: u32 = 4;

/// The error of converting odds that are not valid in their format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OddsError {
    /// The text is not a number.
    #[error("invalid American odds {0:?}: expected a number such as -110 or +150")]
    AmericanText(String),
    /// American odds strictly between -100 and +100 do not exist.
    #[error("invalid American odds {0}: the value must be at most -100 or at least +100")]
    AmericanRange(Decimal),
    /// A fractional price with a zero or negative part.
    #[error("invalid fractional odds {numerator}/{denominator}: both parts must be positive")]
    Fractional {
        /// Numerator as sent.
        numerator: i64,
        /// Denominator as sent.
        denominator: i64,
    },
}

fn round_converted(value: Decimal) -> Price {
    // Prices are positive, so "away from zero" at the midpoint is half-up.
    Price::new(value.round_dp_with_strategy(
        CONVERTED_PRICE_SCALE,
        RoundingStrategy::MidpointAwayFromZero,
    ))
}

/// Converts American odds to a decimal price.
///
/// +p is 1 + p/100 and -p is 1 + 100/p; both +100 and -100 are evens (2.0).
///
/// # Errors
///
/// Returns [`OddsError::AmericanRange`] for values strictly between -100 and +100.
pub fn american_to_decimal(american: Decimal) -> Result<Price, OddsError> {
    let hundred = Decimal::ONE_HUNDRED;
    if american >= hundred {
        Ok(round_converted(Decimal::ONE + american / hundred))
    } else if american <= -hundred {
        Ok(round_converted(Decimal::ONE + hundred / -american))
    } else {
        Err(OddsError::AmericanRange(american))
    }
}

/// Parses American odds text (`-108`, `+150`, `150`, or `−108` with the Unicode minus
/// sign U+2212 that some bookmakers print) and converts it to a decimal price.
///
/// # Errors
///
/// Returns an error when the text is not a number or the value is out of range.
pub fn parse_american(text: &str) -> Result<Price, OddsError> {
    let trimmed = text.trim();
    let (negative, digits) = if let Some(rest) = trimmed.strip_prefix('\u{2212}') {
        (true, rest)
    } else if let Some(rest) = trimmed.strip_prefix('-') {
        (true, rest)
    } else if let Some(rest) = trimmed.strip_prefix('+') {
        (false, rest)
    } else {
        (false, trimmed)
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return Err(OddsError::AmericanText(text.to_owned()));
    }
    let magnitude =
        Decimal::from_str_exact(digits).map_err(|_| OddsError::AmericanText(text.to_owned()))?;
    american_to_decimal(if negative { -magnitude } else { magnitude })
}

/// Converts fractional odds `numerator/denominator` to a decimal price.
///
/// # Errors
///
/// Returns an error when either part is zero or negative.
pub fn fractional_to_decimal(numerator: i64, denominator: i64) -> Result<Price, OddsError> {
    if numerator <= 0 || denominator <= 0 {
        return Err(OddsError::Fractional {
            numerator,
            denominator,
        });
    }
    Ok(round_converted(
        Decimal::ONE + Decimal::from(numerator) / Decimal::from(denominator),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn price(text: &str) -> Price {
        text.parse().unwrap()
    }

    #[test]
    fn american_negative_rounds_half_up() {
        assert_eq!(
            american_to_decimal(Decimal::from(-108)).unwrap(),
            price("1.9259")
        );
        // 1 + 100/107 = 1.934579..., rounds down.
        assert_eq!(
            american_to_decimal(Decimal::from(-107)).unwrap(),
            price("1.9346")
        );
        // 1 + 100/160 = 1.625 exactly: no rounding, trailing zeros dropped.
        assert_eq!(
            american_to_decimal(Decimal::from(-160)).unwrap(),
            price("1.625")
        );
    }

    #[test]
    fn american_midpoint_rounds_up() {
        // 1 + 100/400000 = 1.00025: banker's rounding would give 1.0002.
        assert_eq!(
            american_to_decimal(Decimal::from(-400_000)).unwrap(),
            price("1.0003")
        );
        // 1 + 100.005/100 = 2.00005: banker's rounding would give 2.
        assert_eq!(
            american_to_decimal(Decimal::new(100_005, 3)).unwrap(),
            price("2.0001")
        );
    }

    #[test]
    fn american_positive() {
        assert_eq!(
            american_to_decimal(Decimal::from(150)).unwrap(),
            price("2.5")
        );
        assert_eq!(
            american_to_decimal(Decimal::from(254)).unwrap(),
            price("3.54")
        );
    }

    #[test]
    fn american_boundary_is_evens() {
        assert_eq!(american_to_decimal(Decimal::from(100)).unwrap(), price("2"));
        assert_eq!(
            american_to_decimal(Decimal::from(-100)).unwrap(),
            price("2")
        );
        assert!(american_to_decimal(Decimal::from(99)).is_err());
        assert!(american_to_decimal(Decimal::from(-99)).is_err());
        assert!(american_to_decimal(Decimal::ZERO).is_err());
    }

    #[test]
    fn american_text_forms() {
        assert_eq!(parse_american("-108").unwrap(), price("1.9259"));
        assert_eq!(parse_american("\u{2212}108").unwrap(), price("1.9259"));
        assert_eq!(parse_american("+150").unwrap(), price("2.5"));
        assert_eq!(parse_american(" 150 ").unwrap(), price("2.5"));
        assert!(matches!(
            parse_american("EVS"),
            Err(OddsError::AmericanText(_))
        ));
        assert!(matches!(
            parse_american("-"),
            Err(OddsError::AmericanText(_))
        ));
        assert!(matches!(
            parse_american("+50"),
            Err(OddsError::AmericanRange(_))
        ));
    }

    #[test]
    fn fractional_conversions() {
        assert_eq!(fractional_to_decimal(5, 8).unwrap(), price("1.625"));
        assert_eq!(fractional_to_decimal(1, 3).unwrap(), price("1.3333"));
        assert_eq!(fractional_to_decimal(2, 3).unwrap(), price("1.6667"));
        assert_eq!(fractional_to_decimal(1, 1).unwrap(), price("2"));
        assert!(fractional_to_decimal(0, 1).is_err());
        assert!(fractional_to_decimal(1, 0).is_err());
        assert!(fractional_to_decimal(-1, 2).is_err());
    }
}
