//! Working-hours calendars: when a site's mailroom works, for computing due-by times ("urgent
//! within 2 working hours") and measuring how long an item has waited in working time.
//!
//! A calendar has a UTC offset (sites in mainland China, Hong Kong, Taiwan, Singapore, Japan and
//! Korea keep one offset all year), daily opening hours with an optional break, the weekly rest
//! days, public holidays, and make-up working days (调休: a weekend day worked in exchange for a
//! longer holiday). [`WorkingCalendar::china_mainland`] carries the State Council's published
//! schedules; years not yet published fall back to plain weekends and can be supplied by
//! configuration.

use crate::DomainError;
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc, Weekday};
use std::collections::BTreeSet;

/// How far ahead a due-by may be looked for (a calendar without working days has none).
const MAX_DAYS: i64 = 3 * 366;

/// When a site's mailroom works.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkingCalendar {
    /// The site's offset from UTC in minutes (Asia/Shanghai: 480).
    pub utc_offset_minutes: i32,
    pub opens: NaiveTime,
    pub closes: NaiveTime,
    /// A break inside opening hours (lunch), not counted as working time.
    pub break_time: Option<(NaiveTime, NaiveTime)>,
    /// Days of the week that are not worked unless listed as make-up days.
    pub rest_days: Vec<Weekday>,
    /// Days not worked although they fall on a working weekday.
    pub holidays: BTreeSet<NaiveDate>,
    /// Days worked although they fall on a rest day.
    pub makeup_days: BTreeSet<NaiveDate>,
}

fn t(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap_or(NaiveTime::MIN)
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap_or(NaiveDate::MIN)
}

/// Mainland China's public holidays and make-up working days as published by the State Council
/// (国务院办公厅关于部分节假日安排的通知): (year, holidays as inclusive ranges, make-up days).
type Schedule = (i32, &'static [((u32, u32), (u32, u32))], &'static [(u32, u32)]);
const CHINA_MAINLAND: &[Schedule] = &[
    (
        2025,
        &[
            ((1, 1), (1, 1)),   // 元旦
            ((1, 28), (2, 4)),  // 春节
            ((4, 4), (4, 6)),   // 清明节
            ((5, 1), (5, 5)),   // 劳动节
            ((5, 31), (6, 2)),  // 端午节
            ((10, 1), (10, 8)), // 国庆节、中秋节
        ],
        &[(1, 26), (2, 8), (4, 27), (9, 28), (10, 11)],
    ),
    (
        2026,
        &[
            ((1, 1), (1, 3)),   // 元旦
            ((2, 15), (2, 23)), // 春节
            ((4, 4), (4, 6)),   // 清明节
            ((5, 1), (5, 5)),   // 劳动节
            ((6, 19), (6, 21)), // 端午节
            ((9, 25), (9, 27)), // 中秋节
            ((10, 1), (10, 7)), // 国庆节
        ],
        &[(1, 4), (2, 14), (2, 28), (5, 9), (9, 20), (10, 10)],
    ),
];

/// The fixed UTC offset (minutes) of time zones that keep one offset all year; `None` for others.
pub fn fixed_offset_minutes(timezone: &str) -> Option<i32> {
    match timezone {
        "Asia/Shanghai" | "Asia/Chongqing" | "Asia/Harbin" | "Asia/Urumqi" | "PRC" | "Asia/Hong_Kong"
        | "Asia/Macau" | "Asia/Taipei" | "Asia/Singapore" | "Asia/Kuala_Lumpur" | "Asia/Manila" => Some(480),
        "Asia/Tokyo" | "Asia/Seoul" => Some(540),
        "Asia/Bangkok" | "Asia/Ho_Chi_Minh" | "Asia/Jakarta" => Some(420),
        "Asia/Kolkata" => Some(330),
        "Asia/Dubai" => Some(240),
        "UTC" | "Etc/UTC" => Some(0),
        _ => None,
    }
}

impl WorkingCalendar {
    /// Monday to Friday, 09:00–18:00 at Beijing time, with mainland China's public holidays and
    /// make-up working days.
    pub fn china_mainland() -> Self {
        let mut holidays = BTreeSet::new();
        let mut makeup_days = BTreeSet::new();
        for (year, ranges, makeups) in CHINA_MAINLAND {
            for ((m0, d0), (m1, d1)) in *ranges {
                let (first, last) = (d(*year, *m0, *d0), d(*year, *m1, *d1));
                holidays.extend(first.iter_days().take_while(|day| *day <= last));
            }
            makeup_days.extend(makeups.iter().map(|(m, day)| d(*year, *m, *day)));
        }
        WorkingCalendar {
            utc_offset_minutes: 480,
            opens: t(9, 0),
            closes: t(18, 0),
            break_time: None,
            rest_days: vec![Weekday::Sat, Weekday::Sun],
            holidays,
            makeup_days,
        }
    }

    /// Checks the hours: opening before closing, a break inside them, an offset within ±14 h.
    pub fn validate(&self) -> Result<(), DomainError> {
        if self.opens >= self.closes {
            return Err(DomainError::invalid("hours", "the mailroom must open before it closes"));
        }
        if let Some((a, b)) = self.break_time
            && (a >= b || a < self.opens || b > self.closes)
        {
            return Err(DomainError::invalid("break", "the break must lie inside opening hours"));
        }
        if self.utc_offset_minutes.abs() > 14 * 60 {
            return Err(DomainError::invalid("utc_offset", "the UTC offset must be within ±14 hours"));
        }
        Ok(())
    }

    /// Whether the mailroom works on this (local) day.
    pub fn is_working_day(&self, day: NaiveDate) -> bool {
        if self.makeup_days.contains(&day) {
            return true;
        }
        !self.holidays.contains(&day) && !self.rest_days.contains(&day.weekday())
    }

    /// The working periods of a working day, in local time.
    fn periods(&self) -> Vec<(NaiveTime, NaiveTime)> {
        match self.break_time {
            Some((a, b)) => vec![(self.opens, a), (a.max(b), self.closes)],
            None => vec![(self.opens, self.closes)],
        }
    }

    fn local(&self, at: DateTime<Utc>) -> NaiveDateTime {
        at.naive_utc() + Duration::minutes(i64::from(self.utc_offset_minutes))
    }

    fn utc(&self, local: NaiveDateTime) -> DateTime<Utc> {
        (local - Duration::minutes(i64::from(self.utc_offset_minutes))).and_utc()
    }

    /// The moment `work` of working time after `start`: the due-by of an item that must be dealt
    /// with within `work`. `None` when the calendar has no working time within three years.
    pub fn add_working(&self, start: DateTime<Utc>, work: Duration) -> Option<DateTime<Utc>> {
        if work <= Duration::zero() {
            return Some(start);
        }
        let mut left = work;
        let now = self.local(start);
        let mut day = now.date();
        for _ in 0..MAX_DAYS {
            if self.is_working_day(day) {
                for (a, b) in self.periods() {
                    let (from, to) = (day.and_time(a).max(now), day.and_time(b));
                    if from >= to {
                        continue;
                    }
                    let available = to - from;
                    if left <= available {
                        return Some(self.utc(from + left));
                    }
                    left -= available;
                }
            }
            day = day.succ_opt()?;
        }
        None
    }

    /// Working time between two moments (zero when `to` is not after `from`).
    pub fn working_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Duration {
        let (from, to) = (self.local(from), self.local(to));
        let mut total = Duration::zero();
        let mut day = from.date();
        while day <= to.date() {
            if self.is_working_day(day) {
                for (a, b) in self.periods() {
                    let (s, e) = (day.and_time(a).max(from), day.and_time(b).min(to));
                    if s < e {
                        total += e - s;
                    }
                }
            }
            match day.succ_opt() {
                Some(next) => day = next,
                None => break,
            }
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Beijing local time as UTC.
    fn bj(y: i32, m: u32, day: u32, h: u32, min: u32) -> DateTime<Utc> {
        (d(y, m, day).and_time(t(h, min)) - Duration::hours(8)).and_utc()
    }

    #[test]
    fn working_days_of_china() {
        let c = WorkingCalendar::china_mainland();
        let cases = [
            (d(2026, 1, 1), false),  // 元旦
            (d(2026, 1, 4), true),   // Sunday, make-up day
            (d(2026, 2, 14), true),  // Saturday, make-up day before 春节
            (d(2026, 2, 16), false), // Monday in 春节
            (d(2026, 2, 23), false), // last day of 春节
            (d(2026, 2, 24), true),  // back to work
            (d(2026, 2, 28), true),  // Saturday, make-up day
            (d(2026, 3, 7), false),  // an ordinary Saturday
            (d(2026, 4, 6), false),  // 清明节 Monday
            (d(2026, 5, 9), true),   // Saturday, make-up day
            (d(2026, 6, 19), false), // 端午节
            (d(2026, 9, 20), true),  // Sunday, make-up day
            (d(2026, 9, 25), false), // 中秋节
            (d(2026, 10, 7), false), // 国庆节
            (d(2026, 10, 8), true),  // Thursday after 国庆节
            (d(2026, 10, 10), true), // Saturday, make-up day
            (d(2026, 11, 27), true), // an ordinary Friday
            (d(2025, 1, 26), true),  // Sunday, make-up day
            (d(2025, 2, 4), false),  // 春节
            (d(2025, 9, 28), true),  // Sunday, make-up day
            (d(2025, 10, 8), false), // 国庆节、中秋节
            (d(2025, 10, 11), true), // Saturday, make-up day
            (d(2027, 1, 2), false),  // a Saturday of an unpublished year: plain weekend
            (d(2027, 1, 4), true),
        ];
        for (day, working) in cases {
            assert_eq!(c.is_working_day(day), working, "{day}");
        }
    }

    #[test]
    fn due_by_in_working_hours() {
        let c = WorkingCalendar::china_mainland();
        let h = Duration::hours;
        let cases = [
            // start (Beijing), working time → due (Beijing)
            (bj(2026, 11, 27, 10, 0), h(2), bj(2026, 11, 27, 12, 0)),
            // Friday 17:00 + 2 h: 1 h left on Friday, then Monday 09:00 + 1 h.
            (bj(2026, 11, 27, 17, 0), h(2), bj(2026, 11, 30, 10, 0)),
            // Before opening: the clock starts at 09:00.
            (bj(2026, 11, 26, 6, 30), Duration::minutes(60), bj(2026, 11, 26, 10, 0)),
            // After closing: the next working day.
            (bj(2026, 11, 26, 20, 0), h(1), bj(2026, 11, 27, 10, 0)),
            // Friday before 春节 + 2 h: Saturday 14 Feb is a make-up working day.
            (bj(2026, 2, 13, 17, 0), h(2), bj(2026, 2, 14, 10, 0)),
            // Saturday 14 Feb 17:30 + 1 h: nine days of 春节, back on Tuesday 24 Feb.
            (bj(2026, 2, 14, 17, 30), h(1), bj(2026, 2, 24, 9, 30)),
            // Eve of 国庆节 2025 + 2 h: 1–8 Oct off, Thursday 9 Oct.
            (bj(2025, 9, 30, 17, 0), h(2), bj(2025, 10, 9, 10, 0)),
            // A whole working day and a bit.
            (bj(2026, 11, 23, 9, 0), h(10), bj(2026, 11, 24, 10, 0)),
            // Zero: now.
            (bj(2026, 11, 28, 3, 0), Duration::zero(), bj(2026, 11, 28, 3, 0)),
        ];
        for (start, work, due) in cases {
            assert_eq!(c.add_working(start, work), Some(due), "{start} + {work}");
            if work > Duration::zero() {
                assert_eq!(c.working_between(start, due), work, "{start} → {due}");
            }
        }
    }

    #[test]
    fn lunch_breaks_are_not_working_time() {
        let mut c = WorkingCalendar::china_mainland();
        c.break_time = Some((t(12, 0), t(13, 0)));
        assert!(c.validate().is_ok());
        assert_eq!(c.add_working(bj(2026, 11, 27, 11, 30), Duration::hours(1)), Some(bj(2026, 11, 27, 13, 30)));
        assert_eq!(c.working_between(bj(2026, 11, 27, 9, 0), bj(2026, 11, 27, 18, 0)), Duration::hours(8));
    }

    #[test]
    fn other_offsets_and_bad_hours() {
        let mut c = WorkingCalendar::china_mainland();
        c.utc_offset_minutes = fixed_offset_minutes("Asia/Tokyo").unwrap_or_default();
        // 09:00 in Tokyo is 00:00 UTC.
        let start = d(2026, 11, 27).and_time(t(0, 0)).and_utc();
        assert_eq!(c.add_working(start, Duration::hours(1)), Some(d(2026, 11, 27).and_time(t(1, 0)).and_utc()));
        assert_eq!(fixed_offset_minutes("Europe/Berlin"), None);
        c.closes = t(8, 0);
        assert!(c.validate().is_err());
        let mut c = WorkingCalendar::china_mainland();
        c.break_time = Some((t(19, 0), t(20, 0)));
        assert!(c.validate().is_err());
        // No working days at all: no due-by.
        let mut c = WorkingCalendar::china_mainland();
        c.rest_days =
            vec![Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri, Weekday::Sat, Weekday::Sun];
        c.makeup_days.clear();
        assert_eq!(c.add_working(bj(2026, 1, 1, 9, 0), Duration::hours(1)), None);
    }

    #[test]
    fn every_holiday_day_is_listed() {
        let c = WorkingCalendar::china_mainland();
        // 2025: 1 + 8 + 3 + 5 + 3 + 8 days; 2026: 3 + 9 + 3 + 5 + 3 + 3 + 7 days.
        assert_eq!(c.holidays.iter().filter(|d| d.year() == 2025).count(), 28);
        assert_eq!(c.holidays.iter().filter(|d| d.year() == 2026).count(), 33);
        assert_eq!(c.makeup_days.len(), 11);
        assert!(c.makeup_days.iter().all(|d| matches!(d.weekday(), Weekday::Sat | Weekday::Sun)));
    }
}
