//! A UTC timestamp in milliseconds since the Unix epoch, with a small, allocation-free parser for
//! the layouts found in CloudTrail, Kubernetes audit, IAM reports and log shippers.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Milliseconds since 1970-01-01T00:00:00Z.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

/// Days from 1970-01-01 to the given proleptic Gregorian civil date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i64::from(m);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        // Leap years: every 4th, except centuries not divisible by 400.
        2 if matches!((year % 400, year % 100, year % 4), (0, _, _) | (_, 1.., 0)) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn digits(b: &[u8], start: usize, len: usize) -> Option<u32> {
    let s = b.get(start..start + len)?;
    let mut v: u32 = 0;
    for c in s {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(c - b'0');
    }
    Some(v)
}

impl Timestamp {
    pub const MS_PER_SEC: i64 = 1000;
    pub const MS_PER_HOUR: i64 = 3_600_000;
    pub const MS_PER_DAY: i64 = 86_400_000;

    /// Strict RFC 3339 date-time: `YYYY-MM-DD(T|t| )HH:MM:SS[.fraction](Z|z|±HH:MM)`, with a
    /// real calendar date and offset. `None` for anything else, including a missing zone.
    pub fn parse_rfc3339(s: &str) -> Option<Self> {
        let b = s.as_bytes();
        let zone = b.len().checked_sub(1).and_then(|i| b.get(i)).copied();
        let has_zone = matches!(zone, Some(b'Z' | b'z'))
            || (b.len() >= 25
                && matches!(b.get(b.len() - 6), Some(b'+' | b'-'))
                && b.get(b.len() - 3) == Some(&b':'));
        if !has_zone || b.len() < 20 || b.get(16) != Some(&b':') || s.trim() != s {
            return None;
        }
        Self::parse(s)
    }

    /// Parses `YYYY-MM-DD[T ]HH:MM:SS[.fraction][Z|±HH:MM|±HHMM]`; a missing zone means UTC
    /// (the layouts of the logs and reports read, some of which omit it); see
    /// [`parse_rfc3339`](Self::parse_rfc3339) for the strict form. Returns `None` for anything
    /// else, including out-of-range fields, a day the month does not have (`2024-02-31`) and
    /// offsets beyond ±23:59 (`+99:99`).
    pub fn parse(s: &str) -> Option<Self> {
        let b = s.trim().as_bytes();
        let year = digits(b, 0, 4)?;
        if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
            return None;
        }
        let month = digits(b, 5, 2)?;
        let day = digits(b, 8, 2)?;
        if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
            return None;
        }
        let days = days_from_civil(i64::from(year), month, day);
        if b.len() == 10 {
            return Some(Timestamp(days * Self::MS_PER_DAY));
        }
        if !matches!(b.get(10), Some(b'T' | b't' | b' ')) {
            return None;
        }
        let hour = digits(b, 11, 2)?;
        if b.get(13) != Some(&b':') {
            return None;
        }
        let min = digits(b, 14, 2)?;
        let (sec, mut i) = if b.get(16) == Some(&b':') {
            (digits(b, 17, 2)?, 19)
        } else {
            (0, 16)
        };
        if hour > 23 || min > 59 || sec > 60 {
            return None;
        }
        let mut millis: i64 = 0;
        if b.get(i) == Some(&b'.') {
            i += 1;
            let mut scale = 100;
            let start = i;
            while let Some(c) = b.get(i).filter(|c| c.is_ascii_digit()) {
                millis += i64::from(c - b'0') * scale;
                scale /= 10;
                i += 1;
            }
            if i == start {
                return None;
            }
        }
        let offset_min: i64 = match b.get(i) {
            None | Some(b'Z' | b'z') => {
                if b.len() > i + 1 {
                    return None;
                }
                0
            }
            Some(sign @ (b'+' | b'-')) => {
                let oh = digits(b, i + 1, 2)?;
                let om = if b.get(i + 3) == Some(&b':') {
                    digits(b, i + 4, 2)?
                } else {
                    digits(b, i + 3, 2)?
                };
                // RFC 3339 offsets: hours 00-23, minutes 00-59, and nothing after them.
                let end = if b.get(i + 3) == Some(&b':') {
                    i + 6
                } else {
                    i + 5
                };
                if oh > 23 || om > 59 || b.len() != end {
                    return None;
                }
                let v = i64::from(oh * 60 + om);
                if *sign == b'+' {
                    v
                } else {
                    -v
                }
            }
            Some(_) => return None,
        };
        let secs = days * 86_400 + i64::from(hour) * 3600 + i64::from(min) * 60 + i64::from(sec)
            - offset_min * 60;
        Some(Timestamp(secs * 1000 + millis))
    }

    pub fn from_secs(secs: i64) -> Self {
        Timestamp(secs * 1000)
    }

    pub fn millis(self) -> i64 {
        self.0
    }

    /// Whole days between two instants (`later - self`), floored, never negative.
    pub fn days_until(self, later: Timestamp) -> i64 {
        ((later.0 - self.0) / Self::MS_PER_DAY).max(0)
    }

    /// `YYYY-MM-DD` (UTC), as used in CloudTrail's S3 key layout.
    pub fn date_parts(self) -> (i64, u32, u32) {
        civil_from_days(self.0.div_euclid(Self::MS_PER_DAY))
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339 in UTC with second precision, the CloudTrail `eventTime` layout.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let day = self.0.div_euclid(Self::MS_PER_DAY);
        let ms_of_day = self.0.rem_euclid(Self::MS_PER_DAY);
        let (y, m, d) = civil_from_days(day);
        let s = ms_of_day / 1000;
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
            s / 3600,
            (s / 60) % 60,
            s % 60
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_layouts_seen_in_real_logs() {
        let base = Timestamp::parse("2024-07-30T21:31:10Z").unwrap();
        assert_eq!(base.to_string(), "2024-07-30T21:31:10Z");
        assert_eq!(
            Timestamp::parse("2024-07-30T21:31:10.250Z").unwrap().0,
            base.0 + 250
        );
        assert_eq!(Timestamp::parse("2024-07-30 21:31:10+00:00").unwrap(), base);
        assert_eq!(Timestamp::parse("2024-07-30T23:31:10+02:00").unwrap(), base);
        assert_eq!(
            Timestamp::parse("2024-07-30T21:31:10.123456Z").unwrap().0,
            base.0 + 123
        );
        assert_eq!(
            Timestamp::parse("2022-11-29 00:09:04.38")
                .unwrap()
                .to_string(),
            "2022-11-29T00:09:04Z"
        );
        assert_eq!(Timestamp::parse("1970-01-01T00:00:00Z").unwrap().0, 0);
        assert_eq!(
            Timestamp::parse("2000-03-01").unwrap().to_string(),
            "2000-03-01T00:00:00Z"
        );
    }

    #[test]
    fn rejects_garbage() {
        for s in [
            "",
            "N/A",
            "no_information",
            "2024-13-01T00:00:00Z",
            "2024-07-30T25:00:00Z",
            "2024-07-30T21:31:10Zjunk",
            "2024/07/30",
            // Issue 11: impossible dates and offsets.
            "2024-02-31T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2024-04-31T00:00:00Z",
            "2024-07-30T21:31:10+99:99",
            "2024-07-30T21:31:10+24:00",
            "2024-07-30T21:31:10+00:60",
            "2024-07-30T21:31:10+00:00junk",
        ] {
            assert_eq!(Timestamp::parse(s), None, "{s}");
        }
        assert!(Timestamp::parse("2024-02-29T00:00:00Z").is_some());
        assert!(Timestamp::parse("2000-02-29T00:00:00Z").is_some());
        assert!(Timestamp::parse("1900-02-29T00:00:00Z").is_none());
    }

    #[test]
    fn rfc3339_is_strict() {
        for s in [
            "2024-07-30T21:31:10Z",
            "2024-07-30t21:31:10.5z",
            "2024-07-30 21:31:10+02:00",
            "2024-07-30T21:31:10.123456-05:30",
        ] {
            assert_eq!(Timestamp::parse_rfc3339(s), Timestamp::parse(s), "{s}");
            assert!(Timestamp::parse_rfc3339(s).is_some(), "{s}");
        }
        for s in [
            "2024-07-30T21:31:10",
            "2022-11-29 00:09:04.38",
            "2024-07-30",
            "2024-07-30T21:31Z",
            "2024-07-30T21:31:10+0200",
            "2024-07-30T21:31:10+99:99",
            "2024-02-31T00:00:00Z",
            " 2024-07-30T21:31:10Z",
        ] {
            assert_eq!(Timestamp::parse_rfc3339(s), None, "{s}");
        }
    }

    #[test]
    fn round_trips_across_leap_years_and_negative_days() {
        for ms in [
            -86_400_001_i64,
            0,
            951_782_400_000,
            1_709_164_800_000,
            4_102_444_799_000,
        ] {
            let t = Timestamp(ms - ms.rem_euclid(1000));
            assert_eq!(Timestamp::parse(&t.to_string()), Some(t));
        }
    }
}
