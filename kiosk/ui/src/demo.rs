//! Scripted runs of the real app: the demo (a candidate interview from prepared answers, then the
//! manager's review), the screenshot tour (every screen in both languages, saved as PNG) and the
//! frame-rate bench. Scripts only send the same [`Action`]s a finger would.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use bevy::prelude::*;
use bevy::render::view::screenshot::{Screenshot, save_to_disk};
use kiosk_store::Decision;

use crate::action::Action;
use crate::state::{ManagerView, Screen, Visit};

/// One scripted step, taken once the app is on `screen` and `after` has passed.
#[derive(Debug, Clone)]
pub enum Step {
    /// Tap something.
    Do(Action),
    /// Open the newest interview on the manager's list.
    OpenNewest,
    /// Play the first recorded answer of the open interview.
    PlayFirstAnswer,
    /// Turn the mouse wheel by this many pixels (positive: down the page).
    Wheel(f32),
    /// Save a screenshot named `{name}.png` in the tour folder.
    Shot(String),
    /// Wait for the receipt on the thank-you screen.
    AwaitReceipt,
    /// Quit.
    Exit,
}

/// A script: (screen, wait, step).
#[derive(Resource, Debug, Default)]
pub struct Script {
    steps: VecDeque<(Screen, Duration, Step)>,
    since: Option<Instant>,
    /// When the current step became the first (a script stuck for long fails the run).
    step_started: Option<Instant>,
    /// Where screenshots go.
    pub shots: Option<PathBuf>,
    /// Screenshots requested so far.
    pub taken: Vec<PathBuf>,
}

impl Script {
    fn push(&mut self, screen: Screen, wait_ms: u64, step: Step) {
        self.steps
            .push_back((screen, Duration::from_millis(wait_ms), step));
    }

    /// The candidate's interview in `locale` (answers come from the microphone's clips), then
    /// the manager's review with `pin`; with `shots`, a screenshot of every screen.
    pub fn interview(
        &mut self,
        locale: &'static str,
        name: &str,
        role: &str,
        pin: &str,
        shots: bool,
    ) {
        let shot = |s: &mut Self, screen, what: &str, wait| {
            if shots {
                s.push(screen, wait, Step::Shot(format!("{what}-{locale}")));
            }
        };
        use Screen as S;
        self.push(S::Attract, 1500, Step::Do(Action::Language(locale)));
        shot(self, S::Attract, "1-attract", 800);
        self.push(S::Attract, 1200, Step::Do(Action::Start));
        shot(self, S::Consent, "2-consent", 800);
        self.push(S::Consent, 2500, Step::Do(Action::ConsentAll));
        for c in name.chars() {
            self.push(S::Details, 120, Step::Do(Action::Key(c)));
        }
        self.push(
            S::Details,
            300,
            Step::Do(Action::Focus(crate::state::Field::Phone)),
        );
        for c in "13800138000".chars() {
            self.push(S::Details, 100, Step::Do(Action::Key(c)));
        }
        self.push(S::Details, 400, Step::Do(Action::Role(role.to_string())));
        shot(self, S::Details, "3-details", 600);
        self.push(S::Details, 800, Step::Do(Action::Next));
        shot(self, S::DeviceCheck, "4-device-check", 3000);
        self.push(S::DeviceCheck, 3000, Step::Do(Action::Next));
        shot(self, S::Question, "5-question", 1500);
        self.push(S::Done, 500, Step::AwaitReceipt);
        shot(self, S::Done, "6-done", 500);
        self.push(S::Done, 4000, Step::Do(Action::Next));
        self.push(S::Attract, 1500, Step::Do(Action::Language(locale)));
        self.push(S::Attract, 500, Step::Do(Action::Manager));
        for d in pin.bytes() {
            self.push(S::Pin, 250, Step::Do(Action::PinDigit(d - b'0')));
        }
        shot(self, S::Pin, "7-pin", 500);
        self.push(S::Pin, 500, Step::Do(Action::PinEnter));
        shot(self, S::Manager, "8-manager", 1500);
        self.push(S::Manager, 1500, Step::OpenNewest);
        self.push(S::Review, 2000, Step::PlayFirstAnswer);
        self.push(S::Review, 2500, Step::Do(Action::Reason("reason_fit")));
        self.push(S::Review, 1000, Step::Do(Action::Decide(Decision::Advance)));
        shot(self, S::Review, "9-review", 1500);
        if shots {
            // Down to the end of the evidence; a redraw (another reason tapped) keeps the place;
            // three lines back up move at once (the offset never ran past the end).
            self.push(S::Review, 500, Step::Wheel(100_000.0));
            shot(self, S::Review, "9b-review-end", 1000);
            self.push(S::Review, 500, Step::Do(Action::Reason("reason_call")));
            shot(self, S::Review, "9c-review-redrawn", 1000);
            self.push(S::Review, 500, Step::Wheel(-120.0));
            shot(self, S::Review, "9d-review-up", 1000);
        }
        self.push(S::Review, 1500, Step::Do(Action::Tab(S::Status)));
        shot(self, S::Status, "10-status", 3000);
        self.push(S::Status, 2000, Step::Do(Action::Tab(S::Roster)));
        shot(self, S::Roster, "11-roster", 1500);
        self.push(S::Roster, 1500, Step::Do(Action::Logout));
    }

    /// Quit once everything before has run.
    pub fn exit(&mut self) {
        self.push(Screen::Attract, 1000, Step::Exit);
    }

    /// Steps left.
    pub fn remaining(&self) -> usize {
        self.steps.len()
    }
}

/// Runs the script one step at a time.
#[allow(clippy::too_many_arguments)]
pub fn drive(
    mut commands: Commands,
    mut script: ResMut<Script>,
    screen: Res<State<Screen>>,
    visit: Res<Visit>,
    view: Res<ManagerView>,
    mut out: MessageWriter<Action>,
    mut wheel: MessageWriter<bevy::input::mouse::MouseWheel>,
    mut exit: MessageWriter<AppExit>,
) {
    let Some((want, wait, step)) = script.steps.front().cloned() else {
        return;
    };
    let waiting = script
        .step_started
        .get_or_insert_with(Instant::now)
        .elapsed();
    // Waiting for the receipt includes transcribing every answer: with software rendering on a
    // large screen the models get what the frame loop leaves, and that can take minutes.
    let patience = if matches!(step, Step::AwaitReceipt) {
        Duration::from_secs(300)
    } else {
        Duration::from_secs(120)
    };
    if waiting > patience {
        tracing::error!(?want, ?step, on = ?screen.get(), "the script is stuck: giving up");
        exit.write(AppExit::error());
        script.steps.clear();
        return;
    }
    if *screen.get() != want {
        script.since = None;
        return;
    }
    let since = *script.since.get_or_insert_with(Instant::now);
    if since.elapsed() < wait {
        return;
    }
    let label = format!("{step:?}");
    match step {
        Step::Do(a) => {
            out.write(a);
        }
        Step::OpenNewest => match view.today.first() {
            Some(r) => {
                out.write(Action::Open(r.interview_id.clone()));
            }
            None => return,
        },
        Step::PlayFirstAnswer => match view.detail.as_ref().and_then(|d| d.media.first()) {
            Some(m) => {
                out.write(Action::Play(m.path.clone()));
            }
            None => return,
        },
        Step::Wheel(px) => {
            wheel.write(bevy::input::mouse::MouseWheel {
                unit: bevy::input::mouse::MouseScrollUnit::Pixel,
                x: 0.0,
                y: -px,
                window: Entity::PLACEHOLDER,
                phase: bevy::input::touch::TouchPhase::Moved,
            });
        }
        Step::AwaitReceipt => {
            if visit.receipt.is_none() {
                return;
            }
        }
        Step::Shot(name) => {
            if let Some(dir) = script.shots.clone() {
                let path = dir.join(format!("{name}.png"));
                commands
                    .spawn(Screenshot::primary_window())
                    .observe(save_to_disk(path.clone()));
                script.taken.push(path);
            }
        }
        Step::Exit => {
            exit.write(AppExit::Success);
        }
    }
    tracing::info!(screen = ?want, step = %label, "script step");
    script.steps.pop_front();
    script.since = Some(Instant::now());
    script.step_started = None;
}
