//! The NSLog prefix that `defaults` puts before its error messages.
//!
//! NSLog writes `YYYY-MM-DD HH:MM:SS.mmm program[PID:TID] ` (note the trailing space) and then
//! the message, adding a newline only when the message does not end with one. Apple's
//! `defaults` format strings start with `\n`, so most of its errors show the prefix alone on
//! the first line (reference/macos-commands.md section 0; fixtures
//! `defaults-read-missing-key-elcapitan.txt`, `defaults-read-missing-key.txt`). A few are
//! one-line messages with no leading newline (`defaults-write-could-not-write-domain.txt`).

use std::time::SystemTime;

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
    time::OffsetDateTime::from(now)
        .format(time::macros::format_description!(
            "[year]-[month]-[day] [hour]:[minute]:[second].[subsecond digits:3]"
        ))
        .unwrap_or_default()
}

/// A plausible Mach thread id (captures show 5-7 digit numbers such as `5667979`); it only
/// has to look right and stay stable within one process.
fn thread_id() -> u64 {
    u64::from(std::process::id()) * 61 + 250_000
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    /// Shape of the first line in `defaults-read-missing-key-elcapitan.txt`:
    /// `2016-08-03 12:31:39.782 defaults[90896:5643237] ` then the message on the next line.
    #[test]
    fn prefix_line_then_message_as_in_elcapitan_capture() {
        let when = UNIX_EPOCH + Duration::from_millis(1_470_227_499_782);
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
}
