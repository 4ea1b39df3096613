//! The candidate's interview as a pure state machine that lets transcription run in the
//! background: the next question is asked as soon as an answer is recorded, a silent answer is
//! asked again at once, and an answer that comes back unintelligible is asked again once, right
//! after the question being answered. Every question ends with exactly one kept answer.

use std::collections::VecDeque;

use crate::answer::{Answer, Response};
use crate::availability::Availability;
use crate::flow::RepeatReason;
use crate::intent::Lexicon;
use crate::role::{QuestionConfig, QuestionKind, RoleConfig};
use crate::scoring::{Quality, assess};

/// One question put to the candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prompt {
    /// Index of the question in the role (0-based).
    pub index: usize,
    /// 0 for the first time it is asked, 1 for the repeat.
    pub attempt: u8,
    /// Why it is asked again (`None` the first time).
    pub why: Option<RepeatReason>,
}

/// What the kiosk should show next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Ask this question.
    Ask(Prompt),
    /// Every question is asked; transcriptions are still running ("one moment").
    Wait,
    /// Every question has its answer: score and save.
    Finished,
}

#[derive(Debug, Clone, PartialEq)]
enum Slot {
    NotAsked,
    Asking,
    Transcribing { attempt: u8 },
    Answered(Response),
}

/// Progress through one interview, tolerant of transcriptions arriving late.
#[derive(Debug, Clone)]
pub struct Session {
    role: RoleConfig,
    slots: Vec<Slot>,
    repeats: VecDeque<Prompt>,
    current: Option<Prompt>,
    lexicon: Option<Lexicon>,
}

impl Session {
    /// A fresh interview for `role`.
    pub fn new(role: RoleConfig) -> Self {
        let slots = vec![Slot::NotAsked; role.questions.len()];
        Self {
            role,
            slots,
            repeats: VecDeque::new(),
            current: None,
            lexicon: None,
        }
    }

    /// The role being interviewed for.
    pub fn role(&self) -> &RoleConfig {
        &self.role
    }

    /// The question on screen, if any.
    pub fn current(&self) -> Option<Prompt> {
        self.current
    }

    /// The configuration of a question.
    pub fn question(&self, index: usize) -> Option<&QuestionConfig> {
        self.role.questions.get(index)
    }

    /// Moves on: a pending repeat first, then the next question not yet asked.
    pub fn advance(&mut self) -> Next {
        if let Some(p) = self.current {
            return Next::Ask(p);
        }
        let fresh = || {
            self.slots
                .iter()
                .position(|s| *s == Slot::NotAsked)
                .map(|index| Prompt {
                    index,
                    attempt: 0,
                    why: None,
                })
        };
        let next = match self.repeats.pop_front() {
            Some(p) => Some(p),
            None => fresh(),
        };
        if let Some(p) = next {
            self.slots[p.index] = Slot::Asking;
            self.current = Some(p);
            return Next::Ask(p);
        }
        if self.slots.iter().all(|s| matches!(s, Slot::Answered(_))) {
            Next::Finished
        } else {
            Next::Wait
        }
    }

    /// The current answer was recorded with speech in it; its transcription will come back
    /// through [`Session::transcribed`]. Returns the question and attempt to tag it with.
    pub fn recorded(&mut self) -> Option<Prompt> {
        let p = self.current.take()?;
        self.slots[p.index] = Slot::Transcribing { attempt: p.attempt };
        Some(p)
    }

    /// Nothing was heard in the current answer (`response` says what there was: silence,
    /// noise). The first time, the same question is asked again at once; the second time the
    /// silent answer is kept, and scoring sends the result to review.
    pub fn heard_nothing(&mut self, response: Response) {
        let Some(p) = self.current.take() else {
            return;
        };
        if p.attempt == 0 {
            self.current = Some(Prompt {
                index: p.index,
                attempt: 1,
                why: Some(RepeatReason::NothingHeard),
            });
        } else {
            self.slots[p.index] = Slot::Answered(response);
        }
    }

    /// The candidate tapped yes or no.
    pub fn tapped(&mut self, yes: bool) {
        if let Some(p) = self.current.take() {
            self.slots[p.index] = Slot::Answered(Response::Tapped { yes });
        }
    }

    /// The candidate tapped availability chips and confirmed.
    pub fn chose(&mut self, availability: Availability) {
        if let Some(p) = self.current.take() {
            self.slots[p.index] = Slot::Answered(Response::Chose { availability });
        }
    }

    /// Reads spoken answers to availability questions with `lexicon`: one it cannot read is
    /// asked again with the chips (never kept as an unclear answer).
    pub fn reading_availability_with(mut self, lexicon: Lexicon) -> Self {
        self.lexicon = Some(lexicon);
        self
    }

    /// A transcription came back. An unusable first attempt is queued to be asked again after
    /// the current question; anything else is kept.
    pub fn transcribed(&mut self, prompt: Prompt, response: Response) {
        if self.slots.get(prompt.index)
            != Some(&Slot::Transcribing {
                attempt: prompt.attempt,
            })
        {
            return; // stale: that attempt was already superseded
        }
        let availability = self
            .role
            .questions
            .get(prompt.index)
            .is_some_and(|q| q.kind == QuestionKind::Availability);
        let why = match assess(&self.role.scoring, &response) {
            Quality::NoSpeech => Some(RepeatReason::NothingHeard),
            // Availability is read, not scored: unreadable means the chips.
            _ if availability => self
                .lexicon
                .as_ref()
                .filter(|l| l.read_availability(&response.tokens()).is_none())
                .map(|_| RepeatReason::Unclear),
            Quality::Usable => None,
            Quality::LowConfidence(_) => Some(RepeatReason::Unclear),
        };
        match why {
            Some(why) if prompt.attempt == 0 => self.repeats.push_back(Prompt {
                index: prompt.index,
                attempt: 1,
                why: Some(why),
            }),
            _ => self.slots[prompt.index] = Slot::Answered(response),
        }
    }

    /// How many questions have their final answer.
    pub fn answered(&self) -> usize {
        self.slots
            .iter()
            .filter(|s| matches!(s, Slot::Answered(_)))
            .count()
    }

    /// The answers in question order, once every question has one.
    pub fn answers(&self) -> Option<Vec<Answer>> {
        self.role
            .questions
            .iter()
            .zip(&self.slots)
            .map(|(q, s)| match s {
                Slot::Answered(r) => Some(Answer {
                    question_id: q.id.clone(),
                    response: r.clone(),
                }),
                _ => None,
            })
            .collect()
    }
}
