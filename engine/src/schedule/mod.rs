//! Cron triggers: when a schedule fires, and which missed firings run after a stop.
//!
//! The core is pure (times in, firings out) so the rules are tested with any clock: DST
//! changes follow croner's Open Cron Pattern Specification behaviour, checked in the tests
//! below: a local time skipped by a spring-forward jump fires once, right after the jump;
//! a local time repeated by a fall-back fires once (at its first occurrence).
//!
//! Every firing is identified by (workflow, nominal time). The store inserts it with a
//! unique key together with its run, so a restart, a reload or a second instance never
//! fires it twice (see [`crate::store::Store::fire`]).

mod scheduler;

pub use scheduler::{Clock, Scheduler, SystemClock};

use crate::plan::CronPlan;
use crate::spec::workflow::Catchup;
use chrono::{DateTime, Utc};
use std::time::Duration;

/// Firings whose nominal time is at most this old are on time, not missed.
pub const ON_TIME: Duration = Duration::from_secs(60);

/// The most firings `catchup: all` runs after a stop; older ones are dropped.
pub const CATCHUP_ALL_LIMIT: usize = 100;

/// How long after its nominal time a firing runs: `0` without `jitter`, else a value in
/// `[0, jitter)` derived from the workflow id and the nominal time, so every restart and
/// every instance computes the same one.
pub fn jitter_offset(plan: &CronPlan, workflow: &str, nominal: DateTime<Utc>) -> Duration {
    let Some(jitter) = plan.jitter else {
        return Duration::ZERO;
    };
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("{workflow}\n{}", nominal.timestamp_millis()));
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    let range = u64::try_from(jitter.as_millis()).unwrap_or(u64::MAX).max(1);
    Duration::from_millis(u64::from_le_bytes(first) % range)
}

/// When a firing runs: its nominal time plus its jitter offset.
pub fn firing_time(plan: &CronPlan, workflow: &str, nominal: DateTime<Utc>) -> DateTime<Utc> {
    nominal + chrono::Duration::from_std(jitter_offset(plan, workflow, nominal)).unwrap_or_default()
}

/// Nominal firing times after `after` (exclusive) up to `until` (inclusive), at most `limit`.
pub fn firings_between(
    plan: &CronPlan,
    after: DateTime<Utc>,
    until: DateTime<Utc>,
    limit: usize,
) -> Vec<DateTime<Utc>> {
    let mut out = Vec::new();
    let mut at = after.with_timezone(&plan.timezone);
    while out.len() < limit {
        let Ok(next) = plan.schedule.find_next_occurrence(&at, false) else {
            break;
        };
        let utc = next.with_timezone(&Utc);
        if utc > until {
            break;
        }
        out.push(utc);
        at = next;
    }
    out
}

/// The next `n` firings after `after`.
pub fn next_firings(plan: &CronPlan, after: DateTime<Utc>, n: usize) -> Vec<DateTime<Utc>> {
    firings_between(plan, after, DateTime::<Utc>::MAX_UTC, n)
}

/// What to do with the firings due since `last` (the last one handled) at `now`:
/// those on time always fire; missed ones fire per the catch-up policy. Returns the
/// firings to run and the newest nominal time seen (to record as handled).
pub fn due(
    plan: &CronPlan,
    last: DateTime<Utc>,
    now: DateTime<Utc>,
) -> (Vec<DateTime<Utc>>, Option<DateTime<Utc>>) {
    // A jittered firing runs up to `jitter` after its nominal time and is still on time.
    let window = ON_TIME + plan.jitter.unwrap_or_default();
    let on_time_from = now - chrono::Duration::from_std(window).unwrap_or_default();
    // On time: nominal in [now - ON_TIME, now] and after `last` (at most 60 per minute).
    let after = last.max(on_time_from - chrono::Duration::milliseconds(1));
    let on_time = firings_between(plan, after, now, usize::MAX);
    // Missed: walk back from the on-time window, newest first, only as far as the policy
    // needs, so a long stop under a per-second schedule costs nothing extra.
    let wanted = match plan.catchup {
        Catchup::None => 0,
        Catchup::Latest => 1,
        Catchup::All => CATCHUP_ALL_LIMIT,
    };
    let mut missed = Vec::new();
    let mut at = on_time_from.with_timezone(&plan.timezone);
    let newest_missed = loop {
        let Ok(previous) = plan.schedule.find_previous_occurrence(&at, false) else {
            break missed.first().copied();
        };
        let utc = previous.with_timezone(&Utc);
        if utc <= last {
            break missed.first().copied();
        }
        if missed.len() == wanted.max(1) {
            break missed.first().copied();
        }
        missed.push(utc);
        at = previous;
    };
    missed.truncate(wanted);
    missed.reverse();
    let newest = on_time.last().copied().or(newest_missed);
    missed.extend(on_time);
    (missed, newest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::workflow::Overlap;

    fn plan(schedule: &str, tz: &str, catchup: Catchup) -> CronPlan {
        let schedule = croner::parser::CronParser::builder()
            .seconds(croner::parser::Seconds::Optional)
            .build()
            .parse(schedule)
            .unwrap();
        CronPlan {
            source: String::new(),
            schedule,
            timezone: tz.parse().unwrap(),
            catchup,
            overlap: Overlap::Skip,
            jitter: None,
        }
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn show(plan: &CronPlan, times: &[DateTime<Utc>]) -> Vec<String> {
        times
            .iter()
            .map(|t| {
                t.with_timezone(&plan.timezone)
                    .format("%Y-%m-%d %H:%M:%S %Z")
                    .to_string()
            })
            .collect()
    }

    #[test]
    fn berlin_spring_forward_fires_once_right_after_the_jump() {
        // 2026-03-29: 02:00 CET jumps to 03:00 CEST; 02:30 does not exist.
        let p = plan("30 2 * * *", "Europe/Berlin", Catchup::Latest);
        let got = next_firings(&p, utc("2026-03-27T12:00:00Z"), 3);
        assert_eq!(
            show(&p, &got),
            [
                "2026-03-28 02:30:00 CET",
                "2026-03-29 03:00:00 CEST",
                "2026-03-30 02:30:00 CEST"
            ]
        );
    }

    #[test]
    fn berlin_fall_back_fires_a_repeated_time_once() {
        // 2026-10-25: 03:00 CEST falls back to 02:00 CET; 02:30 happens twice.
        let p = plan("30 2 * * *", "Europe/Berlin", Catchup::Latest);
        let got = next_firings(&p, utc("2026-10-24T12:00:00Z"), 2);
        assert_eq!(
            show(&p, &got),
            ["2026-10-25 02:30:00 CEST", "2026-10-26 02:30:00 CET"]
        );
    }

    #[test]
    fn new_york_transitions_and_a_30_minute_interval_through_them() {
        // 2026-03-08 02:00 EST -> 03:00 EDT; 2026-11-01 02:00 EDT -> 01:00 EST.
        let p = plan("0 2 * * *", "America/New_York", Catchup::Latest);
        let got = next_firings(&p, utc("2026-03-07T12:00:00Z"), 2);
        assert_eq!(
            show(&p, &got),
            ["2026-03-08 03:00:00 EDT", "2026-03-09 02:00:00 EDT"]
        );
        let p = plan("30 1 * * *", "America/New_York", Catchup::Latest);
        let got = next_firings(&p, utc("2026-10-31T12:00:00Z"), 2);
        assert_eq!(
            show(&p, &got),
            ["2026-11-01 01:30:00 EDT", "2026-11-02 01:30:00 EST"]
        );
        // Interval schedules keep running in real time across the jump: nothing doubled.
        let p = plan("*/30 * * * *", "America/New_York", Catchup::Latest);
        let got = firings_between(
            &p,
            utc("2026-03-08T06:00:00Z"),
            utc("2026-03-08T08:00:00Z"),
            100,
        );
        assert_eq!(
            show(&p, &got),
            [
                "2026-03-08 01:30:00 EST",
                "2026-03-08 03:00:00 EDT",
                "2026-03-08 03:30:00 EDT",
                "2026-03-08 04:00:00 EDT"
            ]
        );
    }

    #[test]
    fn six_fields_names_and_weekdays() {
        let p = plan("15 0 9 * JAN-MAR MON-FRI", "UTC", Catchup::Latest);
        let got = next_firings(&p, utc("2027-01-01T00:00:00Z"), 2);
        assert_eq!(
            show(&p, &got),
            ["2027-01-01 09:00:15 UTC", "2027-01-04 09:00:15 UTC"]
        );
    }

    #[test]
    fn catch_up_policies() {
        let last = utc("2026-05-01T00:00:00Z");
        let now = utc("2026-05-01T05:00:30Z"); // down for five hours; 05:00 is on time
        let hourly = |c| plan("0 * * * *", "UTC", c);
        let (fire, newest) = due(&hourly(Catchup::None), last, now);
        assert_eq!(fire, [utc("2026-05-01T05:00:00Z")]);
        assert_eq!(newest, Some(utc("2026-05-01T05:00:00Z")));
        let (fire, _) = due(&hourly(Catchup::Latest), last, now);
        assert_eq!(
            fire,
            [utc("2026-05-01T04:00:00Z"), utc("2026-05-01T05:00:00Z")]
        );
        let (fire, _) = due(&hourly(Catchup::All), last, now);
        assert_eq!(fire.len(), 5);
        // `all` is bounded.
        let (fire, _) = due(&plan("* * * * *", "UTC", Catchup::All), last, now);
        assert_eq!(fire.len(), CATCHUP_ALL_LIMIT + 1);
    }
}
