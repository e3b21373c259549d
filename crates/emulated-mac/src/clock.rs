//! Wall-clock and calendar arithmetic without a date-time crate: UTC only, which is all macllm
//! and the emulated Mac print.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Whole seconds since 1970 (floored, also before 1970) and the milliseconds past them.
pub fn split_unix_time(time: SystemTime) -> (i64, u32) {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => (after.as_secs() as i64, after.subsec_millis()),
        Err(before) => {
            let before = before.duration();
            let mut seconds = -(before.as_secs() as i64);
            let mut nanos = before.subsec_nanos();
            if nanos > 0 {
                seconds -= 1;
                nanos = 1_000_000_000 - nanos;
            }
            (seconds, nanos / 1_000_000)
        }
    }
}

/// The instant `seconds` after (or before, when negative) 1970-01-01 00:00:00 UTC.
pub fn system_time(seconds: i64) -> SystemTime {
    if seconds >= 0 {
        UNIX_EPOCH + Duration::from_secs(seconds as u64)
    } else {
        UNIX_EPOCH - Duration::from_secs(seconds.unsigned_abs())
    }
}

/// A UTC calendar date and time of day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CivilTime {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
}

impl CivilTime {
    pub fn from_unix_seconds(seconds: i64) -> CivilTime {
        let days = seconds.div_euclid(86_400);
        let of_day = seconds.rem_euclid(86_400) as u32;
        let (year, month, day) = civil_from_days(days);
        CivilTime {
            year,
            month,
            day,
            hour: of_day / 3600,
            minute: of_day / 60 % 60,
            second: of_day % 60,
        }
    }

    pub fn to_unix_seconds(self) -> i64 {
        days_from_civil(self.year, self.month, self.day) * 86_400
            + i64::from(self.hour) * 3600
            + i64::from(self.minute) * 60
            + i64::from(self.second)
    }

    /// Whether the fields name a real date and time (no 31 April, no hour 24).
    pub fn is_valid(self) -> bool {
        (1..=12).contains(&self.month)
            && self.day >= 1
            && self.day <= days_in_month(self.year, self.month)
            && self.hour < 24
            && self.minute < 60
            && self.second < 60
    }
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Proleptic Gregorian (year, month, day) of a day count since 1970-01-01
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The inverse of [`civil_from_days`].
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let mp = i64::from((month + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

pub fn rfc3339(time: SystemTime) -> String {
    let t = CivilTime::from_unix_seconds(split_unix_time(time).0);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year, t.month, t.day, t.hour, t.minute, t.second
    )
}

pub fn rfc3339_now() -> String {
    rfc3339(SystemTime::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        // 2024-02-29T12:34:56Z, a leap day.
        let leap = UNIX_EPOCH + Duration::from_secs(1_709_210_096);
        assert_eq!(rfc3339(leap), "2024-02-29T12:34:56Z");
    }

    #[test]
    fn civil_dates_round_trip_across_eras_and_leap_days() {
        for seconds in [
            -62_135_596_800, // 0001-01-01
            -86_401,
            -1,
            0,
            951_782_400, // 2000-02-29
            1_700_000_000,
            4_102_444_800, // 2100-01-01
        ] {
            let civil = CivilTime::from_unix_seconds(seconds);
            assert!(civil.is_valid(), "{civil:?}");
            assert_eq!(civil.to_unix_seconds(), seconds, "{civil:?}");
        }
        let leap = CivilTime::from_unix_seconds(951_782_400);
        assert_eq!((leap.year, leap.month, leap.day), (2000, 2, 29));
        let before = CivilTime::from_unix_seconds(-1);
        assert_eq!(
            (
                before.year,
                before.month,
                before.day,
                before.hour,
                before.second
            ),
            (1969, 12, 31, 23, 59)
        );
    }

    #[test]
    fn invalid_civil_dates_are_rejected() {
        let april_31 = CivilTime {
            year: 2024,
            month: 4,
            day: 31,
            hour: 0,
            minute: 0,
            second: 0,
        };
        assert!(!april_31.is_valid());
        let feb_29_2100 = CivilTime {
            month: 2,
            day: 29,
            year: 2100,
            ..april_31
        };
        assert!(!feb_29_2100.is_valid());
    }

    #[test]
    fn split_before_epoch_floors() {
        let t = UNIX_EPOCH - Duration::from_millis(1500);
        assert_eq!(split_unix_time(t), (-2, 500));
    }
}
