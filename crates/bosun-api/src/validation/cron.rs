//! CronJob schedules, checked as upstream checks them: with `robfig/cron/v3`'s `ParseStandard`,
//! whose error text becomes the `FieldValueInvalid` detail on `spec.schedule`.
//!
//! # Accepted syntax
//!
//! * Five fields separated by whitespace: minute (0–59), hour (0–23), day of month (1–31),
//!   month (1–12 or `jan`…`dec`), day of week (0–6 or `sun`…`sat`; names in any case).
//! * Each field is a comma-separated list of `*` or `?` (the whole range), `N`, `N-M`, each with
//!   an optional `/step`; `N/step` means `N-max/step`.
//! * Or a descriptor: `@yearly`, `@annually`, `@monthly`, `@weekly`, `@daily`, `@midnight`,
//!   `@hourly`, or `@every <Go duration>` (`@every 1h30m`).
//! * An optional `TZ=<zone> ` or `CRON_TZ=<zone> ` prefix (CronJob validation then refuses it in
//!   favour of `spec.timeZone`, see `workloads`).
//!
//! The parser only answers "valid or not, and why"; the CronJob controller computes run times.

/// One field's bounds and names.
struct Bounds {
    min: u64,
    max: u64,
    names: &'static [(&'static str, u64)],
}

const MINUTES: Bounds = Bounds { min: 0, max: 59, names: &[] };
const HOURS: Bounds = Bounds { min: 0, max: 23, names: &[] };
const DAYS_OF_MONTH: Bounds = Bounds { min: 1, max: 31, names: &[] };
const MONTHS: Bounds = Bounds {
    min: 1,
    max: 12,
    names: &[
        ("jan", 1),
        ("feb", 2),
        ("mar", 3),
        ("apr", 4),
        ("may", 5),
        ("jun", 6),
        ("jul", 7),
        ("aug", 8),
        ("sep", 9),
        ("oct", 10),
        ("nov", 11),
        ("dec", 12),
    ],
};
const DAYS_OF_WEEK: Bounds = Bounds {
    min: 0,
    max: 6,
    names: &[("sun", 0), ("mon", 1), ("tue", 2), ("wed", 3), ("thu", 4), ("fri", 5), ("sat", 6)],
};

/// Parses a schedule as `cron.ParseStandard` does; the error is robfig's message, e.g.
/// `expected exactly 5 fields, found 4: [* * * *]` or
/// `end of range (60) above maximum (59): 0-60`.
pub fn parse_standard(spec: &str) -> Result<(), String> {
    if spec.is_empty() {
        return Err("empty spec string".to_string());
    }
    let mut spec = spec;
    if spec.starts_with("TZ=") || spec.starts_with("CRON_TZ=") {
        let equals = spec.find('=').unwrap_or(0);
        let Some(space) = spec.find(' ') else {
            return Err(format!(
                "provided bad location {}: unknown time zone {}",
                &spec[equals + 1..],
                &spec[equals + 1..]
            ));
        };
        let zone = &spec[equals + 1..space];
        if !plausible_time_zone(zone) {
            return Err(format!("provided bad location {zone}: unknown time zone {zone}"));
        }
        spec = spec[space..].trim();
    }
    if spec.starts_with('@') {
        return parse_descriptor(spec);
    }
    let fields: Vec<&str> = spec.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(format!("expected exactly 5 fields, found {}: [{}]", fields.len(), fields.join(" ")));
    }
    for (field, bounds) in fields.iter().zip([&MINUTES, &HOURS, &DAYS_OF_MONTH, &MONTHS, &DAYS_OF_WEEK]) {
        for expression in field.split(',').filter(|e| !e.is_empty()) {
            parse_range(expression, bounds)?;
        }
    }
    Ok(())
}

/// A zone name we can accept without a time-zone database: `UTC`, `Local`, or an IANA-shaped
/// `Area/City` name. Upstream loads the zone; Bosun does not ship the database.
fn plausible_time_zone(zone: &str) -> bool {
    !zone.is_empty()
        && zone.split('/').all(|part| {
            !part.is_empty()
                && part != "."
                && part != ".."
                && !part.starts_with('-')
                && part.len() <= 14
                && part.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'+'))
        })
}

fn parse_descriptor(descriptor: &str) -> Result<(), String> {
    match descriptor {
        "@yearly" | "@annually" | "@monthly" | "@weekly" | "@daily" | "@midnight" | "@hourly" => Ok(()),
        _ => match descriptor.strip_prefix("@every ") {
            Some(duration) => parse_go_duration(duration)
                .map(|_| ())
                .map_err(|e| format!("failed to parse duration {descriptor}: {e}")),
            None => Err(format!("unrecognized descriptor: {descriptor}")),
        },
    }
}

/// robfig's `getRange` for one comma-separated entry.
fn parse_range(expression: &str, bounds: &Bounds) -> Result<(), String> {
    let range_and_step: Vec<&str> = expression.split('/').collect();
    let low_and_high: Vec<&str> = range_and_step[0].split('-').collect();
    let single = low_and_high.len() == 1;
    let (start, mut end) = if low_and_high[0] == "*" || low_and_high[0] == "?" {
        (bounds.min, bounds.max)
    } else {
        let start = parse_int_or_name(low_and_high[0], bounds)?;
        match low_and_high.len() {
            1 => (start, start),
            2 => (start, parse_int_or_name(low_and_high[1], bounds)?),
            _ => return Err(format!("too many hyphens: {expression}")),
        }
    };
    let step = match range_and_step.len() {
        1 => 1,
        2 => {
            let step = parse_uint(range_and_step[1])?;
            if single {
                end = bounds.max;
            }
            step
        }
        _ => return Err(format!("too many slashes: {expression}")),
    };
    if start < bounds.min {
        return Err(format!("beginning of range ({start}) below minimum ({}): {expression}", bounds.min));
    }
    if end > bounds.max {
        return Err(format!("end of range ({end}) above maximum ({}): {expression}", bounds.max));
    }
    if start > end {
        return Err(format!("beginning of range ({start}) beyond end of range ({end}): {expression}"));
    }
    if step == 0 {
        return Err(format!("step of range should be a positive number: {expression}"));
    }
    Ok(())
}

fn parse_int_or_name(expression: &str, bounds: &Bounds) -> Result<u64, String> {
    let lower = expression.to_ascii_lowercase();
    match bounds.names.iter().find(|(name, _)| *name == lower) {
        Some((_, value)) => Ok(*value),
        None => parse_uint(expression),
    }
}

/// robfig's `mustParseInt`: Go's `strconv.Atoi`, then refuse negatives.
fn parse_uint(expression: &str) -> Result<u64, String> {
    let number: i64 = expression.parse().map_err(|e: std::num::ParseIntError| {
        let why = match e.kind() {
            std::num::IntErrorKind::PosOverflow | std::num::IntErrorKind::NegOverflow => "value out of range",
            _ => "invalid syntax",
        };
        format!("failed to parse int from {expression}: strconv.Atoi: parsing \"{expression}\": {why}")
    })?;
    u64::try_from(number).map_err(|_| format!("negative number ({number}) not allowed: {expression}"))
}

/// Go's `time.ParseDuration`, returning nanoseconds; errors are Go's texts.
fn parse_go_duration(text: &str) -> Result<f64, String> {
    let invalid = || format!("time: invalid duration \"{text}\"");
    let mut rest = text;
    let negative = rest.starts_with('-');
    if rest.starts_with('-') || rest.starts_with('+') {
        rest = &rest[1..];
    }
    if rest == "0" {
        return Ok(0.0);
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total = 0.0_f64;
    while !rest.is_empty() {
        let digits_end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let number = &rest[..digits_end];
        if number.is_empty() || number == "." || number.matches('.').count() > 1 {
            return Err(invalid());
        }
        let value: f64 = number.parse().map_err(|_| invalid())?;
        rest = &rest[digits_end..];
        let unit_end = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let unit = &rest[..unit_end];
        if unit.is_empty() {
            return Err(format!("time: missing unit in duration \"{text}\""));
        }
        let scale = match unit {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return Err(format!("time: unknown unit \"{unit}\" in duration \"{text}\"")),
        };
        total += value * scale;
        rest = &rest[unit_end..];
    }
    Ok(if negative { -total } else { total })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cron_accepts_the_standard_forms() {
        for spec in [
            "*/1 * * * *",
            "0 0 * * *",
            "5,10-20/5 1-3 1 jan-MAR mon-fri",
            "0 12 * * SUN",
            "? * * * ?",
            "5/15 * * * *",
            "@hourly",
            "@every 1h30m",
            "  0   0 * *  *  ",
        ] {
            assert_eq!(parse_standard(spec), Ok(()), "{spec}");
        }
    }

    #[test]
    fn cron_rejects_with_robfigs_messages() {
        let cases = [
            ("", "empty spec string"),
            ("* * * *", "expected exactly 5 fields, found 4: [* * * *]"),
            ("0 0 0 * * *", "expected exactly 5 fields, found 6: [0 0 0 * * *]"),
            ("60 * * * *", "end of range (60) above maximum (59): 60"),
            ("* * 0 * *", "beginning of range (0) below minimum (1): 0"),
            ("5-2 * * * *", "beginning of range (5) beyond end of range (2): 5-2"),
            ("*/0 * * * *", "step of range should be a positive number: */0"),
            ("1-2-3 * * * *", "too many hyphens: 1-2-3"),
            ("*/2/3 * * * *", "too many slashes: */2/3"),
            ("x * * * *", "failed to parse int from x: strconv.Atoi: parsing \"x\": invalid syntax"),
            ("* * * * 7", "end of range (7) above maximum (6): 7"),
            ("*/-1 * * * *", "negative number (-1) not allowed: -1"),
            ("@often", "unrecognized descriptor: @often"),
            ("@every 5", "failed to parse duration @every 5: time: missing unit in duration \"5\""),
            ("@every 5y", "failed to parse duration @every 5y: time: unknown unit \"y\" in duration \"5y\""),
        ];
        for (spec, message) in cases {
            assert_eq!(parse_standard(spec), Err(message.to_string()), "{spec}");
        }
    }

    proptest::proptest! {
        #[test]
        fn cron_parsing_never_panics(spec in "(TZ=|@every |@)?[0-9a-zA-Z*?/,. -]{0,30}") {
            let _ = parse_standard(&spec);
        }
    }

    #[test]
    fn cron_time_zone_prefix_is_parsed() {
        assert_eq!(parse_standard("TZ=UTC 0 0 * * *"), Ok(()));
        assert!(parse_standard("CRON_TZ=../x 0 0 * * *").is_err());
    }
}
