//! The NSLog prefix that `defaults` puts before its error messages, and the small civil-date
//! arithmetic it (and the emulated `defaults` date printer) needs.
//!
//! NSLog writes `YYYY-MM-DD HH:MM:SS.mmm program[PID:TID] ` (note the trailing space) and then
//! the message, adding a newline only when the message does not end with one. Apple's
//! `defaults` format strings start with `\n`, so most of its errors show the prefix alone on
//! the first line (reference/macos-commands.md section 0; fixtures
//! `defaults-read-missing-key-elcapitan.txt`, `defaults-read-missing-key.txt`). A few are
//! one-line messages with no leading newline (`defaults-write-could-not-write-domain.txt`).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The whole stderr text of one `NSLog(message)` call made by `program`, stamped now.
pub fn nslog(program: &str, message: &str) -> String {
    nslog_at(
        program,
        message,
        SystemTime::now(),
        std::process::id(),
        thread_id(),
    )
}

/// [`nslog`] with the clock, process id and thread id given, for tests.
pub fn nslog_at(program: &str, message: &str, now: SystemTime, pid: u32, tid: u64) -> String {
    let mut text = format!("{} {program}[{pid}:{tid}] {message}", timestamp(now));
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

/// `YYYY-MM-DD HH:MM:SS.mmm`. Real NSLog uses the local time zone; the emulated Mac runs in
/// UTC, which no caller can tell apart (nothing parses this stamp).
pub fn timestamp(now: SystemTime) -> String {
    let (seconds, millis) = split_unix_time(now);
    let t = CivilTime::from_unix_seconds(seconds);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{millis:03}",
        t.year, t.month, t.day, t.hour, t.minute, t.second
    )
}

/// A plausible Mach thread id (captures show 5-7 digit numbers such as `5667979`); it only
/// has to look right and stay stable within one process.
fn thread_id() -> u64 {
    u64::from(std::process::id()) * 61 + 250_000
}

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

#[cfg(test)]
mod tests {
    use super::*;

    /// Shape of the first line in `defaults-read-missing-key-elcapitan.txt`:
    /// `2016-08-03 12:31:39.782 defaults[90896:5643237] ` then the message on the next line.
    #[test]
    fn prefix_line_then_message_as_in_elcapitan_capture() {
        let when = system_time(1_470_227_499) + Duration::from_millis(782);
        let text = nslog_at(
            "defaults",
            "\nThe domain/default pair of (a, b) does not exist\n",
            when,
            90896,
            5_643_237,
        );
        assert_eq!(
            text,
            "2016-08-03 12:31:39.782 defaults[90896:5643237] \n\
             The domain/default pair of (a, b) does not exist\n"
        );
    }

    /// `defaults-write-could-not-write-domain.txt`: one-line messages get a newline added.
    #[test]
    fn one_line_message_gets_a_newline() {
        let text = nslog_at(
            "defaults",
            "Could not write domain x; exiting",
            UNIX_EPOCH,
            1,
            2,
        );
        assert_eq!(
            text,
            "1970-01-01 00:00:00.000 defaults[1:2] Could not write domain x; exiting\n"
        );
    }

    #[test]
    fn live_prefix_has_trailing_space_before_message() {
        let text = nslog("defaults", "\nmessage\n");
        let (first, rest) = text.split_once('\n').unwrap();
        assert!(first.ends_with("] "), "{first:?}");
        assert!(first.contains(&format!("defaults[{}:", std::process::id())));
        assert_eq!(rest, "message\n");
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
