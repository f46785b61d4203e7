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
use serde::{Deserialize, Serialize};
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
    /// Opening hours that differ from `opens`–`closes` on some weekdays (e.g. a short Friday).
    /// Make-up working days keep the standard hours.
    pub day_hours: Vec<(Weekday, NaiveTime, NaiveTime)>,
    /// Open around the clock, every day (hospital wards): every moment is working time.
    pub always_open: bool,
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
            day_hours: Vec::new(),
            always_open: false,
        }
    }

    /// Open around the clock, every day of the year, at this UTC offset.
    pub fn always_open(utc_offset_minutes: i32) -> Self {
        WorkingCalendar {
            utc_offset_minutes,
            opens: NaiveTime::MIN,
            closes: t(23, 59),
            break_time: None,
            rest_days: Vec::new(),
            holidays: BTreeSet::new(),
            makeup_days: BTreeSet::new(),
            day_hours: Vec::new(),
            always_open: true,
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
        for (day, a, b) in &self.day_hours {
            if a >= b {
                return Err(DomainError::invalid("hours", format!("on {day} the mailroom must open before it closes")));
            }
        }
        if self.utc_offset_minutes.abs() > 14 * 60 {
            return Err(DomainError::invalid("utc_offset", "the UTC offset must be within ±14 hours"));
        }
        Ok(())
    }

    /// Whether the mailroom works on this (local) day.
    pub fn is_working_day(&self, day: NaiveDate) -> bool {
        if self.always_open || self.makeup_days.contains(&day) {
            return true;
        }
        !self.holidays.contains(&day) && !self.rest_days.contains(&day.weekday())
    }

    /// The working periods of a working day, in local time.
    fn periods(&self, day: NaiveDate) -> Vec<(NaiveTime, NaiveTime)> {
        let (opens, closes) = match self.day_hours.iter().find(|(w, _, _)| *w == day.weekday()) {
            Some((_, a, b)) if !self.makeup_days.contains(&day) => (*a, *b),
            _ => (self.opens, self.closes),
        };
        match self.break_time {
            Some((a, b)) if a >= opens && b <= closes => vec![(opens, a), (a.max(b), closes)],
            _ => vec![(opens, closes)],
        }
    }

    /// The first working moment at or after `at`.
    pub fn next_working(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if self.always_open {
            return Some(at);
        }
        let now = self.local(at);
        let mut day = now.date();
        for _ in 0..MAX_DAYS {
            if self.is_working_day(day) {
                for (a, b) in self.periods(day) {
                    let (from, to) = (day.and_time(a).max(now), day.and_time(b));
                    if from < to {
                        return Some(self.utc(from));
                    }
                }
            }
            day = day.succ_opt()?;
        }
        None
    }

    /// `days` working days after `start`: the same time of day on the `days`-th working day
    /// after the first working moment at or after `start` (held inside that day's hours).
    pub fn add_working_days(&self, start: DateTime<Utc>, days: i64) -> Option<DateTime<Utc>> {
        if self.always_open {
            return Some(start + Duration::days(days));
        }
        let from = self.local(self.next_working(start)?);
        let (mut day, tod) = (from.date(), from.time());
        let mut left = days;
        let mut guard = 0;
        while left > 0 {
            day = day.succ_opt()?;
            if self.is_working_day(day) {
                left -= 1;
            }
            guard += 1;
            if guard > MAX_DAYS + days {
                return None;
            }
        }
        let periods = self.periods(day);
        let at = match periods.iter().find(|(_, b)| *b > tod) {
            Some((a, _)) => day.and_time(tod.max(*a)),
            None => day.and_time(periods.last().map_or(tod, |(_, b)| *b)),
        };
        Some(self.utc(at))
    }

    /// The due-by of an item that must be dealt with within `minutes` of working time after
    /// `start` (a due-within from the rules): whole days (`1d` = 1440 minutes) count as working
    /// days, the rest as working hours and minutes. `None` when the calendar has no working time.
    pub fn due_by(&self, start: DateTime<Utc>, minutes: i64) -> Option<DateTime<Utc>> {
        if minutes <= 0 {
            return Some(start);
        }
        let (days, rest) = (minutes / (24 * 60), minutes % (24 * 60));
        let base = if days > 0 { self.add_working_days(start, days)? } else { start };
        self.add_working(base, Duration::minutes(rest))
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
        if self.always_open {
            return Some(start + work);
        }
        let mut left = work;
        let now = self.local(start);
        let mut day = now.date();
        for _ in 0..MAX_DAYS {
            if self.is_working_day(day) {
                for (a, b) in self.periods(day) {
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
        if self.always_open {
            return (to - from).max(Duration::zero());
        }
        let (from, to) = (self.local(from), self.local(to));
        let mut total = Duration::zero();
        let mut day = from.date();
        while day <= to.date() {
            if self.is_working_day(day) {
                for (a, b) in self.periods(day) {
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

/// Which public holidays (and make-up working days) a site observes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum HolidaySet {
    /// Mainland China's public holidays and make-up working days (国务院办公厅 schedule).
    #[default]
    ChinaMainland,
    /// No public holidays: only the site's own extra holidays.
    None,
}

/// Opening hours per weekday, each `"HH:MM-HH:MM"`; a day left out (or null) is not worked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WeekHours {
    #[serde(default)]
    pub mon: Option<String>,
    #[serde(default)]
    pub tue: Option<String>,
    #[serde(default)]
    pub wed: Option<String>,
    #[serde(default)]
    pub thu: Option<String>,
    #[serde(default)]
    pub fri: Option<String>,
    #[serde(default)]
    pub sat: Option<String>,
    #[serde(default)]
    pub sun: Option<String>,
}

impl WeekHours {
    fn days(&self) -> [(Weekday, &Option<String>); 7] {
        [
            (Weekday::Mon, &self.mon),
            (Weekday::Tue, &self.tue),
            (Weekday::Wed, &self.wed),
            (Weekday::Thu, &self.thu),
            (Weekday::Fri, &self.fri),
            (Weekday::Sat, &self.sat),
            (Weekday::Sun, &self.sun),
        ]
    }
}

/// A site's working-hours calendar as configured (stored as JSON, edited through the API and
/// the console). The site's time zone comes from the site itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CalendarConfig {
    /// Open around the clock every day, holidays included (hospital wards): due-by times are
    /// plain elapsed time and the other fields are ignored.
    #[serde(default)]
    pub always_open: bool,
    #[serde(default)]
    pub hours: WeekHours,
    /// A break inside opening hours that is not working time, `"HH:MM-HH:MM"` (lunch).
    #[serde(default)]
    pub break_time: Option<String>,
    #[serde(default)]
    pub holidays: HolidaySet,
    /// Further days the site does not work (e.g. a company anniversary), `YYYY-MM-DD`.
    #[serde(default)]
    pub extra_holidays: Vec<NaiveDate>,
    /// Further days the site works although they are rest days or holidays, `YYYY-MM-DD`.
    #[serde(default)]
    pub extra_working_days: Vec<NaiveDate>,
}

impl Default for CalendarConfig {
    /// Monday to Friday 09:00–18:00 with mainland China's holidays.
    fn default() -> Self {
        let day = || Some("09:00-18:00".to_string());
        CalendarConfig {
            always_open: false,
            hours: WeekHours { mon: day(), tue: day(), wed: day(), thu: day(), fri: day(), sat: None, sun: None },
            break_time: None,
            holidays: HolidaySet::ChinaMainland,
            extra_holidays: Vec::new(),
            extra_working_days: Vec::new(),
        }
    }
}

/// Parses `"HH:MM-HH:MM"`.
fn parse_span(field: &str, s: &str) -> Result<(NaiveTime, NaiveTime), DomainError> {
    let bad = || DomainError::invalid(field, format!("{field} must look like 09:00-18:00"));
    let (a, b) = s.trim().split_once('-').ok_or_else(bad)?;
    let a = NaiveTime::parse_from_str(a.trim(), "%H:%M").map_err(|_| bad())?;
    let b = NaiveTime::parse_from_str(b.trim(), "%H:%M").map_err(|_| bad())?;
    if a >= b {
        return Err(DomainError::invalid(field, format!("{field}: the start must come before the end")));
    }
    Ok((a, b))
}

impl CalendarConfig {
    /// The calendar this configuration describes, at the site's UTC offset (minutes). Checks
    /// every field: a bad time span, no working day at all, or a day listed both as a holiday
    /// and as a working day is refused.
    pub fn to_calendar(&self, utc_offset_minutes: i32) -> Result<WorkingCalendar, DomainError> {
        if self.extra_holidays.len() > 1000 || self.extra_working_days.len() > 1000 {
            return Err(DomainError::invalid("extra_holidays", "at most 1000 extra days"));
        }
        if let Some(d) = self.extra_holidays.iter().find(|d| self.extra_working_days.contains(d)) {
            return Err(DomainError::invalid(
                "extra_working_days",
                format!("{d} is listed both as a holiday and as a working day"),
            ));
        }
        if self.always_open {
            let c = WorkingCalendar::always_open(utc_offset_minutes);
            c.validate()?;
            return Ok(c);
        }
        let mut spans = Vec::new();
        let mut rest_days = Vec::new();
        for (day, hours) in self.hours.days() {
            match hours.as_deref().map(str::trim) {
                None | Some("") => rest_days.push(day),
                Some(h) => spans.push((day, parse_span(&format!("hours.{}", weekday_key(day)), h)?)),
            }
        }
        let Some((_, (opens, closes))) = spans.first().copied() else {
            return Err(DomainError::invalid("hours", "give the opening hours of at least one weekday"));
        };
        let break_time = match self.break_time.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(b) => Some(parse_span("break_time", b)?),
        };
        let mut c = match self.holidays {
            HolidaySet::ChinaMainland => WorkingCalendar::china_mainland(),
            HolidaySet::None => WorkingCalendar {
                holidays: BTreeSet::new(),
                makeup_days: BTreeSet::new(),
                ..WorkingCalendar::china_mainland()
            },
        };
        c.utc_offset_minutes = utc_offset_minutes;
        c.opens = opens;
        c.closes = closes;
        c.break_time = break_time;
        c.rest_days = rest_days;
        c.day_hours = spans.iter().filter(|(_, s)| *s != (opens, closes)).map(|(d, (a, b))| (*d, *a, *b)).collect();
        for d in &self.extra_holidays {
            c.makeup_days.remove(d);
            c.holidays.insert(*d);
        }
        for d in &self.extra_working_days {
            c.holidays.remove(d);
            c.makeup_days.insert(*d);
        }
        c.validate()?;
        Ok(c)
    }
}

fn weekday_key(d: Weekday) -> &'static str {
    match d {
        Weekday::Mon => "mon",
        Weekday::Tue => "tue",
        Weekday::Wed => "wed",
        Weekday::Thu => "thu",
        Weekday::Fri => "fri",
        Weekday::Sat => "sat",
        Weekday::Sun => "sun",
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::field_reassign_with_default)]
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

    #[test]
    fn configured_calendars() {
        let cfg = CalendarConfig::default();
        let c = cfg.to_calendar(480).unwrap();
        assert_eq!(c, WorkingCalendar::china_mainland());
        // Friday 16:30 + 2 working hours (09:00-18:00): 1.5 h on Friday, Monday 09:30.
        assert_eq!(c.due_by(bj(2026, 11, 27, 16, 30), 120), Some(bj(2026, 11, 30, 9, 30)));
        // A short Friday and a working Saturday morning, a company holiday on Monday.
        let mut cfg = CalendarConfig::default();
        cfg.hours.fri = Some("09:00-12:00".into());
        cfg.hours.sat = Some("09:00-11:00".into());
        cfg.extra_holidays = vec![d(2026, 11, 30)];
        let c = cfg.to_calendar(480).unwrap();
        assert_eq!(c.due_by(bj(2026, 11, 27, 11, 0), 120), Some(bj(2026, 11, 28, 10, 0)));
        assert_eq!(c.due_by(bj(2026, 11, 28, 10, 30), 60), Some(bj(2026, 12, 1, 9, 30)));
        // Extra working day: a Sunday.
        let mut cfg = CalendarConfig::default();
        cfg.extra_working_days = vec![d(2026, 11, 29)];
        let c = cfg.to_calendar(480).unwrap();
        assert_eq!(c.due_by(bj(2026, 11, 27, 17, 0), 120), Some(bj(2026, 11, 29, 10, 0)));
        // No public holidays: 1 Oct 2026 is an ordinary Thursday.
        let cfg = CalendarConfig { holidays: HolidaySet::None, ..CalendarConfig::default() };
        assert!(cfg.to_calendar(480).unwrap().is_working_day(d(2026, 10, 1)));
        // 24/7: elapsed time, holidays included.
        let cfg = CalendarConfig { always_open: true, ..CalendarConfig::default() };
        let c = cfg.to_calendar(480).unwrap();
        assert_eq!(c.due_by(bj(2026, 10, 1, 23, 30), 60), Some(bj(2026, 10, 2, 0, 30)));
        assert_eq!(c.due_by(bj(2026, 10, 1, 23, 30), 24 * 60), Some(bj(2026, 10, 2, 23, 30)));
        assert_eq!(c.working_between(bj(2026, 10, 1, 0, 0), bj(2026, 10, 2, 0, 0)), Duration::hours(24));
        // Bad configurations.
        let mut bad = CalendarConfig::default();
        bad.hours.mon = Some("18:00-09:00".into());
        assert!(bad.to_calendar(480).is_err());
        let mut bad = CalendarConfig::default();
        bad.hours.tue = Some("9 to 5".into());
        assert!(bad.to_calendar(480).is_err());
        let bad = CalendarConfig { hours: WeekHours::default(), ..CalendarConfig::default() };
        assert!(bad.to_calendar(480).is_err());
        let bad = CalendarConfig {
            extra_holidays: vec![d(2026, 12, 1)],
            extra_working_days: vec![d(2026, 12, 1)],
            ..CalendarConfig::default()
        };
        assert!(bad.to_calendar(480).is_err());
        let bad = CalendarConfig { break_time: Some("19:00-20:00".into()), ..CalendarConfig::default() };
        assert!(bad.to_calendar(480).is_err());
        assert!(serde_json::from_str::<CalendarConfig>(r#"{"hours": {"monday": "09:00-18:00"}}"#).is_err());
    }

    #[test]
    fn due_in_working_days() {
        let c = WorkingCalendar::china_mainland();
        // 1d from Friday 10:00: Monday 10:00; 2d: Tuesday 10:00.
        assert_eq!(c.due_by(bj(2026, 11, 27, 10, 0), 24 * 60), Some(bj(2026, 11, 30, 10, 0)));
        assert_eq!(c.due_by(bj(2026, 11, 27, 10, 0), 2 * 24 * 60), Some(bj(2026, 12, 1, 10, 0)));
        // From Saturday: the clock starts on Monday 09:00; 1d12h... 1d then 12 working hours.
        assert_eq!(c.due_by(bj(2026, 11, 28, 15, 0), 24 * 60), Some(bj(2026, 12, 1, 9, 0)));
        assert_eq!(c.due_by(bj(2026, 11, 27, 10, 0), 36 * 60), Some(bj(2026, 12, 1, 13, 0)));
        // Before 国庆节 2025: 30 Sep + 1d is Thursday 9 Oct.
        assert_eq!(c.due_by(bj(2025, 9, 30, 11, 0), 24 * 60), Some(bj(2025, 10, 9, 11, 0)));
        assert_eq!(c.next_working(bj(2026, 11, 28, 3, 0)), Some(bj(2026, 11, 30, 9, 0)));
    }

    proptest::proptest! {
        #[test]
        fn working_time_adds_up(start_min in 0i64..(2 * 366 * 24 * 60), work in 1i64..(5 * 24 * 60), lunch in proptest::bool::ANY) {
            let mut c = WorkingCalendar::china_mainland();
            if lunch {
                c.break_time = Some((t(12, 0), t(13, 0)));
            }
            let start = bj(2025, 1, 1, 0, 0) + Duration::minutes(start_min);
            let due = c.add_working(start, Duration::minutes(work));
            proptest::prop_assert!(due.is_some());
            let due = due.unwrap_or(start);
            proptest::prop_assert!(due > start);
            proptest::prop_assert_eq!(c.working_between(start, due), Duration::minutes(work));
            // Whole days are working days: never earlier than the same working time.
            let by_days = c.due_by(start, 24 * 60);
            proptest::prop_assert!(by_days.is_some_and(|d| d > start));
            let always = WorkingCalendar::always_open(480);
            proptest::prop_assert_eq!(always.due_by(start, work), Some(start + Duration::minutes(work)));
        }
    }
}
