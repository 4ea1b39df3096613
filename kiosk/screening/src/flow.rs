//! The interview flow as a pure state machine: questions in order, one retry for a silent or unintelligible answer.

use crate::answer::{Answer, Response};
use crate::role::{QuestionConfig, RoleConfig};
use crate::scoring::{Quality, assess};

/// What the kiosk should do next.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Ask question `index` (0-based).
    Ask {
        /// Index of the question.
        index: usize,
    },
    /// Ask question `index` once more, telling the candidate why.
    Repeat {
        /// Index of the question.
        index: usize,
        /// What was wrong with the first attempt.
        why: RepeatReason,
    },
    /// Every question is answered.
    Done,
}

/// Why the candidate is asked to say it again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepeatReason {
    /// Nothing was heard.
    NothingHeard,
    /// Heard, but not clearly enough to transcribe reliably.
    Unclear,
}

/// Progress through one interview.
#[derive(Debug, Clone)]
pub struct Flow<'a> {
    role: &'a RoleConfig,
    answers: Vec<Answer>,
    retried: bool,
}

impl<'a> Flow<'a> {
    /// Starts at the first question.
    pub fn new(role: &'a RoleConfig) -> Self {
        Self {
            role,
            answers: Vec::new(),
            retried: false,
        }
    }

    /// The step to show now.
    pub fn step(&self) -> Step {
        match self.answers.len() {
            i if i >= self.role.questions.len() => Step::Done,
            index => Step::Ask { index },
        }
    }

    /// The question being asked, if any.
    pub fn current(&self) -> Option<&'a QuestionConfig> {
        self.role.questions.get(self.answers.len())
    }

    /// Records an attempt at the current question. A silent or unintelligible first attempt is
    /// not kept: the candidate is asked once more; a second attempt is kept whatever it is (and
    /// scoring sends it to review).
    pub fn submit(&mut self, response: Response) -> Step {
        let Some(q) = self.current() else {
            return Step::Done;
        };
        let why = match assess(&self.role.scoring, &response) {
            Quality::Usable => None,
            Quality::NoSpeech => Some(RepeatReason::NothingHeard),
            Quality::LowConfidence(_) => Some(RepeatReason::Unclear),
        };
        if let (Some(why), false) = (why, self.retried) {
            self.retried = true;
            return Step::Repeat {
                index: self.answers.len(),
                why,
            };
        }
        self.retried = false;
        self.answers.push(Answer {
            question_id: q.id.clone(),
            response,
        });
        self.step()
    }

    /// The answers kept so far, in question order.
    pub fn answers(&self) -> &[Answer] {
        &self.answers
    }

    /// Consumes the flow, giving the answers to score.
    pub fn into_answers(self) -> Vec<Answer> {
        self.answers
    }
}
