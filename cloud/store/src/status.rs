//! The HR status flow, pure: which statuses exist, their labels, and which transitions are allowed.

use serde::{Deserialize, Serialize};

/// Where a candidate stands with central HR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// AI screening done; a person must decide (待面试).
    AwaitingReview,
    /// 面试通过.
    Passed,
    /// 未通过.
    Failed,
    /// 待入职: passed and given a start date.
    Onboarding,
    /// The candidate left the process.
    Withdrawn,
}

impl Status {
    /// Every status, in flow order.
    pub const ALL: [Status; 5] = [
        Status::AwaitingReview,
        Status::Passed,
        Status::Failed,
        Status::Onboarding,
        Status::Withdrawn,
    ];

    /// The code stored and sent.
    pub fn code(self) -> &'static str {
        match self {
            Status::AwaitingReview => "awaiting_review",
            Status::Passed => "passed",
            Status::Failed => "failed",
            Status::Onboarding => "onboarding",
            Status::Withdrawn => "withdrawn",
        }
    }

    /// The brief's Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            Status::AwaitingReview => "待面试",
            Status::Passed => "面试通过",
            Status::Failed => "未通过",
            Status::Onboarding => "待入职",
            Status::Withdrawn => "已撤回",
        }
    }

    /// English label.
    pub fn label_en(self) -> &'static str {
        match self {
            Status::AwaitingReview => "Awaiting review",
            Status::Passed => "Passed",
            Status::Failed => "Not passed",
            Status::Onboarding => "Onboarding",
            Status::Withdrawn => "Withdrawn",
        }
    }

    /// Parses a code.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    /// Where a candidate in this status may go next. `failed → onboarding` is not allowed: a
    /// candidate is `passed` first.
    pub fn allowed_next(self) -> &'static [Status] {
        match self {
            Status::AwaitingReview => &[Status::Passed, Status::Failed, Status::Withdrawn],
            Status::Passed => &[Status::Onboarding, Status::Failed, Status::Withdrawn],
            Status::Failed => &[Status::Passed, Status::Withdrawn],
            Status::Onboarding => &[Status::Withdrawn],
            Status::Withdrawn => &[],
        }
    }

    /// Whether `self → to` is allowed.
    pub fn can_become(self, to: Status) -> bool {
        self.allowed_next().contains(&to)
    }
}

/// What a store manager's kiosk decision asks for: advance → passed, reject → failed, keep →
/// nothing.
pub fn decision_target(decision: &str) -> Option<Status> {
    match decision {
        "advance" => Some(Status::Passed),
        "reject" => Some(Status::Failed),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_needs_passed_before_onboarding() {
        assert!(!Status::Failed.can_become(Status::Onboarding));
        assert!(Status::Failed.can_become(Status::Passed));
        assert!(Status::Passed.can_become(Status::Onboarding));
        assert!(!Status::AwaitingReview.can_become(Status::Onboarding));
        assert!(Status::Withdrawn.allowed_next().is_empty());
        for s in Status::ALL {
            assert_eq!(Status::from_code(s.code()), Some(s));
            assert!(!s.can_become(s), "{s:?} to itself is no transition");
        }
        assert_eq!(decision_target("keep"), None);
        assert_eq!(decision_target("advance"), Some(Status::Passed));
    }
}
