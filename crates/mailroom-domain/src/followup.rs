//! Follow-up of items: service-level breaches and the policy for unclaimed items (remind,
//! escalate, then return to sender or dispose of with a supervisor's approval). The decisions
//! are pure; the sweeper in the application applies them, each step at most once.

use crate::DomainError;
use crate::item::{Action, Category, string_enum};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

string_enum!(
    /// What happens to an item nobody collects, once a supervisor approves.
    FinalAction { ReturnToSender = "return_to_sender", Dispose = "dispose" }
);

impl FinalAction {
    /// The item action that carries it out.
    pub fn action(self) -> Action {
        match self {
            FinalAction::ReturnToSender => Action::ReturnToSender,
            FinalAction::Dispose => Action::Dispose,
        }
    }
}

/// Longest period a policy may name, in days (ten years).
const MAX_DAYS: i64 = 3650;

/// The unclaimed-item policy of one category: counted in calendar days since the item arrived.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UnclaimedPolicy {
    pub category: Category,
    /// First reminder to the recipient after this many days.
    pub remind_after_days: i64,
    /// Further reminders every this many days (0: one reminder only).
    #[serde(default)]
    pub remind_every_days: i64,
    /// Escalation (to the department's key contact or a supervisor) after this many days.
    pub escalate_after_days: i64,
    /// The final step is requested after this many days; a supervisor approves or rejects it.
    pub final_after_days: i64,
    pub final_action: FinalAction,
}

impl UnclaimedPolicy {
    /// Checks the periods: reminders come first, then escalation, then the final step.
    pub fn validate(&self) -> Result<(), DomainError> {
        let in_range = |field: &str, v: i64, min: i64| {
            if (min..=MAX_DAYS).contains(&v) {
                Ok(())
            } else {
                Err(DomainError::invalid(field, format!("{field} must be between {min} and {MAX_DAYS} days")))
            }
        };
        in_range("remind_after_days", self.remind_after_days, 1)?;
        in_range("remind_every_days", self.remind_every_days, 0)?;
        in_range("escalate_after_days", self.escalate_after_days, 1)?;
        in_range("final_after_days", self.final_after_days, 1)?;
        if self.escalate_after_days < self.remind_after_days {
            return Err(DomainError::invalid(
                "escalate_after_days",
                "escalation cannot come before the first reminder (escalate_after_days >= remind_after_days)",
            ));
        }
        if self.final_after_days <= self.escalate_after_days {
            return Err(DomainError::invalid(
                "final_after_days",
                "the final step comes after the escalation (final_after_days > escalate_after_days)",
            ));
        }
        Ok(())
    }
}

/// What has been done about an item so far (its follow-up record).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FollowupState {
    pub breached_at: Option<DateTime<Utc>>,
    pub reminders_sent: i64,
    pub last_reminder_at: Option<DateTime<Utc>>,
    pub escalated_at: Option<DateTime<Utc>>,
    /// How many disposal (or return) requests were made.
    pub disposal_requests: i64,
    pub disposal_requested_at: Option<DateTime<Utc>>,
    pub disposal_action: Option<FinalAction>,
    pub disposal_decided_at: Option<DateTime<Utc>>,
    /// `approved` or `rejected`.
    pub disposal_decision: Option<String>,
}

impl FollowupState {
    /// A final step was requested and nobody decided yet.
    pub fn disposal_pending(&self) -> bool {
        self.disposal_requested_at.is_some() && self.disposal_decided_at.is_none()
    }
}

/// The next step for an unclaimed item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnclaimedStep {
    /// Reminder number `n` to the recipient.
    Remind {
        n: i64,
        days_waiting: i64,
    },
    Escalate {
        days_waiting: i64,
    },
    /// Ask a supervisor to approve the final action (request number `n`).
    RequestDisposal {
        n: i64,
        action: FinalAction,
        days_waiting: i64,
    },
}

/// Whole calendar days from `since` to `now`.
pub fn days_between(since: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    (now - since).num_days().max(0)
}

/// The next step due for an item waiting since `waiting_since`, or `None`. Steps come in the
/// order of their thresholds: reminder, escalation, final-step request; apply one and ask again
/// for the next. Nothing happens while a request awaits a decision. After a rejection, the next
/// request comes `final_after_days` after the rejection.
pub fn unclaimed_step(
    policy: &UnclaimedPolicy,
    state: &FollowupState,
    waiting_since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<UnclaimedStep> {
    if state.disposal_pending() {
        return None;
    }
    let days_waiting = days_between(waiting_since, now);
    if days_waiting < policy.remind_after_days {
        return None;
    }
    let reminder_due = match state.last_reminder_at {
        None => state.reminders_sent == 0,
        Some(last) => policy.remind_every_days > 0 && now - last >= Duration::days(policy.remind_every_days),
    };
    if reminder_due {
        return Some(UnclaimedStep::Remind { n: state.reminders_sent + 1, days_waiting });
    }
    if days_waiting >= policy.escalate_after_days && state.escalated_at.is_none() {
        return Some(UnclaimedStep::Escalate { days_waiting });
    }
    let final_due = match (state.disposal_requests, state.disposal_decided_at) {
        (0, _) => days_waiting >= policy.final_after_days,
        (_, Some(decided)) => {
            state.disposal_decision.as_deref() == Some("rejected")
                && days_between(decided, now) >= policy.final_after_days
        }
        (_, None) => false,
    };
    if final_due {
        return Some(UnclaimedStep::RequestDisposal {
            n: state.disposal_requests + 1,
            action: policy.final_action,
            days_waiting,
        });
    }
    None
}

/// Whether an item with this due-by has missed it at `now` and was not yet marked.
pub fn deadline_missed(due_by: Option<DateTime<Utc>>, state: &FollowupState, now: DateTime<Utc>) -> bool {
    state.breached_at.is_none() && due_by.is_some_and(|d| d <= now)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> UnclaimedPolicy {
        UnclaimedPolicy {
            category: Category::General,
            remind_after_days: 3,
            remind_every_days: 2,
            escalate_after_days: 7,
            final_after_days: 30,
            final_action: FinalAction::Dispose,
        }
    }

    fn at(day: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + Duration::days(20_000 + day)
    }

    /// Runs the policy day by day, applying every step due, and returns (day, step) pairs.
    fn simulate(p: &UnclaimedPolicy, days: i64, reject_on_day: Option<i64>) -> Vec<(i64, UnclaimedStep)> {
        let mut s = FollowupState::default();
        let mut out = Vec::new();
        for day in 0..=days {
            let now = at(day);
            if reject_on_day == Some(day) && s.disposal_pending() {
                s.disposal_decided_at = Some(now);
                s.disposal_decision = Some("rejected".into());
            }
            while let Some(step) = unclaimed_step(p, &s, at(0), now) {
                out.push((day, step));
                match step {
                    UnclaimedStep::Remind { n, .. } => {
                        s.reminders_sent = n;
                        s.last_reminder_at = Some(now);
                    }
                    UnclaimedStep::Escalate { .. } => s.escalated_at = Some(now),
                    UnclaimedStep::RequestDisposal { n, action, .. } => {
                        s.disposal_requests = n;
                        s.disposal_requested_at = Some(now);
                        s.disposal_action = Some(action);
                        s.disposal_decided_at = None;
                        s.disposal_decision = None;
                    }
                }
                assert!(out.len() < 1000, "runaway policy");
            }
        }
        out
    }

    #[test]
    fn steps_follow_the_policy() {
        let steps = simulate(&policy(), 40, None);
        let days =
            |f: fn(&UnclaimedStep) -> bool| steps.iter().filter(|(_, s)| f(s)).map(|(d, _)| *d).collect::<Vec<_>>();
        // Reminders on day 3 and every 2 days after, until the request awaits a decision.
        assert_eq!(
            days(|s| matches!(s, UnclaimedStep::Remind { .. })),
            vec![3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29]
        );
        assert_eq!(days(|s| matches!(s, UnclaimedStep::Escalate { .. })), vec![7]);
        assert_eq!(days(|s| matches!(s, UnclaimedStep::RequestDisposal { .. })), vec![30]);
        assert!(
            steps.contains(&(
                30,
                UnclaimedStep::RequestDisposal { n: 1, action: FinalAction::Dispose, days_waiting: 30 }
            ))
        );
        assert!(steps.contains(&(5, UnclaimedStep::Remind { n: 2, days_waiting: 5 })));
    }

    #[test]
    fn one_reminder_only_and_nothing_early() {
        let p = UnclaimedPolicy { remind_every_days: 0, ..policy() };
        let steps = simulate(&p, 31, None);
        assert_eq!(steps.iter().filter(|(_, s)| matches!(s, UnclaimedStep::Remind { .. })).count(), 1);
        assert_eq!(unclaimed_step(&p, &FollowupState::default(), at(0), at(2)), None);
        // An item first seen long after arrival gets its steps one after another, in order.
        let late = simulate(&p, 0, None);
        assert!(late.is_empty());
        let mut s = FollowupState::default();
        let first = unclaimed_step(&p, &s, at(0), at(45));
        assert_eq!(first, Some(UnclaimedStep::Remind { n: 1, days_waiting: 45 }));
        s.reminders_sent = 1;
        s.last_reminder_at = Some(at(45));
        assert_eq!(unclaimed_step(&p, &s, at(0), at(45)), Some(UnclaimedStep::Escalate { days_waiting: 45 }));
    }

    #[test]
    fn rejection_restarts_the_final_clock() {
        let steps = simulate(&policy(), 70, Some(32));
        let requests: Vec<_> =
            steps.iter().filter(|(_, s)| matches!(s, UnclaimedStep::RequestDisposal { .. })).collect();
        assert_eq!(requests.len(), 2);
        assert_eq!(requests[0].0, 30);
        assert_eq!(
            requests[1],
            &(62, UnclaimedStep::RequestDisposal { n: 2, action: FinalAction::Dispose, days_waiting: 62 })
        );
        // An approved request is final: nothing more.
        let s = FollowupState {
            reminders_sent: 3,
            last_reminder_at: Some(at(100)),
            escalated_at: Some(at(7)),
            disposal_requests: 1,
            disposal_requested_at: Some(at(30)),
            disposal_decided_at: Some(at(31)),
            disposal_decision: Some("approved".into()),
            ..Default::default()
        };
        assert_eq!(unclaimed_step(&UnclaimedPolicy { remind_every_days: 0, ..policy() }, &s, at(0), at(200)), None);
    }

    #[test]
    fn policies_are_checked() {
        assert!(policy().validate().is_ok());
        assert!(UnclaimedPolicy { remind_after_days: 0, ..policy() }.validate().is_err());
        assert!(UnclaimedPolicy { escalate_after_days: 2, ..policy() }.validate().is_err());
        assert!(UnclaimedPolicy { final_after_days: 7, ..policy() }.validate().is_err());
        assert!(UnclaimedPolicy { remind_every_days: -1, ..policy() }.validate().is_err());
        assert!(UnclaimedPolicy { final_after_days: 10_000, ..policy() }.validate().is_err());
        assert_eq!(FinalAction::Dispose.action(), Action::Dispose);
        assert_eq!(FinalAction::parse("return_to_sender"), Some(FinalAction::ReturnToSender));
    }

    #[test]
    fn deadlines() {
        let s = FollowupState::default();
        assert!(deadline_missed(Some(at(1)), &s, at(1)));
        assert!(!deadline_missed(Some(at(2)), &s, at(1)));
        assert!(!deadline_missed(None, &s, at(1)));
        let marked = FollowupState { breached_at: Some(at(1)), ..s };
        assert!(!deadline_missed(Some(at(1)), &marked, at(3)));
    }

    proptest::proptest! {
        #[test]
        fn sweeps_at_any_times_keep_the_policy(
            remind in 1i64..10, every in 0i64..5, esc_extra in 0i64..10, fin_extra in 1i64..20,
            mut times in proptest::collection::vec(0i64..(60 * 24 * 60), 1..60),
        ) {
            let p = UnclaimedPolicy {
                category: Category::General,
                remind_after_days: remind,
                remind_every_days: every,
                escalate_after_days: remind + esc_extra,
                final_after_days: remind + esc_extra + fin_extra,
                final_action: FinalAction::ReturnToSender,
            };
            proptest::prop_assert!(p.validate().is_ok());
            times.sort_unstable();
            let since = at(0);
            let mut s = FollowupState::default();
            let mut reminders: Vec<DateTime<Utc>> = Vec::new();
            let (mut escalations, mut requests) = (0, 0);
            for m in times {
                let now = since + Duration::minutes(m);
                for _ in 0..4 {
                    let Some(step) = unclaimed_step(&p, &s, since, now) else { break };
                    match step {
                        UnclaimedStep::Remind { n, days_waiting } => {
                            proptest::prop_assert!(days_waiting >= p.remind_after_days);
                            proptest::prop_assert_eq!(n, s.reminders_sent + 1);
                            s.reminders_sent = n;
                            s.last_reminder_at = Some(now);
                            reminders.push(now);
                        }
                        UnclaimedStep::Escalate { days_waiting } => {
                            proptest::prop_assert!(days_waiting >= p.escalate_after_days);
                            escalations += 1;
                            s.escalated_at = Some(now);
                        }
                        UnclaimedStep::RequestDisposal { n, days_waiting, .. } => {
                            proptest::prop_assert!(days_waiting >= p.final_after_days);
                            proptest::prop_assert!(s.escalated_at.is_some());
                            requests += 1;
                            s.disposal_requests = n;
                            s.disposal_requested_at = Some(now);
                        }
                    }
                }
            }
            proptest::prop_assert!(escalations <= 1 && requests <= 1);
            if every == 0 {
                proptest::prop_assert!(reminders.len() <= 1);
            }
            for w in reminders.windows(2) {
                proptest::prop_assert!(w[1] - w[0] >= Duration::days(every));
            }
        }
    }
}
