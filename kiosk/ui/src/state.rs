//! The app's states (one per screen) and the candidate's visit: what has been chosen and said
//! so far. A visit is discarded whole on decline or idle timeout; nothing is stored until the end.

use std::time::{Duration, Instant};

use bevy::prelude::*;
use chrono::{DateTime, FixedOffset};
use kiosk_perception::video::Observation;
use kiosk_screening::Session;
use kiosk_store::{InterviewDetail, ResultRow};

/// One state per screen.
#[derive(States, Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Screen {
    /// What this is, the roles, the language.
    #[default]
    Attract,
    /// Notice and consent.
    Consent,
    /// Name, phone, role.
    Details,
    /// Camera preview and microphone level.
    DeviceCheck,
    /// The questions.
    Question,
    /// Thank you and the receipt.
    Done,
    /// The manager's PIN pad.
    Pin,
    /// Today's interviews.
    Manager,
    /// One interview and the decision.
    Review,
    /// Devices, models, sync.
    Status,
    /// The first-week roster.
    Roster,
}

impl Screen {
    /// Screens a candidate uses (subject to the idle reset).
    pub fn is_candidate(self) -> bool {
        matches!(
            self,
            Self::Consent | Self::Details | Self::DeviceCheck | Self::Question | Self::Done
        )
    }

    /// Screens behind the PIN (subject to the manager timeout).
    pub fn is_manager(self) -> bool {
        matches!(
            self,
            Self::Manager | Self::Review | Self::Status | Self::Roster
        )
    }
}

/// A text field on the details screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Field {
    /// Name.
    #[default]
    Name,
    /// Phone.
    Phone,
}

/// Where the current question is.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Listening {
    /// Not recording.
    #[default]
    Idle,
    /// Recording answer `id` since `since`.
    Recording {
        /// Capture id.
        id: u64,
        /// When recording started.
        since: Instant,
    },
    /// Reading the question out; recording starts once it has been said.
    Prompting {
        /// The answer's limits.
        limit: Limits,
        /// When recording starts (known once playback has started).
        until: Option<Instant>,
    },
    /// All asked; waiting for transcriptions, then saving.
    Finishing,
}

/// When a live answer stops: its time limit, or this much silence after speech.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The question's answer time limit.
    pub time: Duration,
    /// Silence after speech that ends the answer.
    pub silence_ms: u32,
    /// The question (index in the role).
    pub question: usize,
    /// The question is asked again.
    pub again: bool,
}

/// The candidate's visit, from consent to receipt.
#[derive(Resource, Debug, Clone, Default)]
pub struct Visit {
    /// `zh-CN` or `en`.
    pub locale: String,
    /// Consent to voice recording (required to go on).
    pub recording_consent: bool,
    /// Separate consent to camera/face data.
    pub face_consent: bool,
    /// Typed name.
    pub name: String,
    /// Typed phone.
    pub phone: String,
    /// The focused field.
    pub field: Field,
    /// Chosen role.
    pub role: Option<String>,
    /// When consent was given.
    pub started_at: Option<DateTime<FixedOffset>>,
    /// The interview in progress.
    pub session: Option<Session>,
    /// Audio of kept attempts, by (question index, attempt).
    pub audio: Vec<((usize, u8), Vec<f32>)>,
    /// Recording state of the current question.
    pub listening: Listening,
    /// Capture ids handed out.
    pub next_capture: u64,
    /// The capture id of each question's first recording (question index, id).
    pub first_capture: Vec<(usize, u64)>,
    /// A problem to show on the current screen (a string key).
    pub notice: Option<String>,
    /// The receipt once saved; `Err` with the reason when saving failed.
    pub receipt: Option<Result<String, String>>,
    /// Last microphone level (dBFS) and whether speech was heard on the device check.
    pub level: f32,
    /// Speech heard during the device check.
    pub heard_speech: bool,
    /// The candidate has paused long enough that listening is about to stop.
    pub pausing: bool,
    /// The microphone failed (message).
    pub mic_error: Option<String>,
    /// The camera failed (message).
    pub camera_error: Option<String>,
    /// Last thing the camera saw: observation and face width share.
    pub seen: Option<(Observation, Option<f32>)>,
    /// Availability chips tapped on the current question.
    pub chips: kiosk_screening::Availability,
}

impl Visit {
    /// A fresh visit in `locale`.
    pub fn new(locale: &str) -> Self {
        Self {
            locale: locale.to_string(),
            level: f32::NEG_INFINITY,
            ..Self::default()
        }
    }
}

/// When someone last touched the screen or spoke.
#[derive(Resource, Debug, Clone, Copy)]
pub struct Activity(pub Instant);

/// The manager's session.
#[derive(Resource, Debug, Clone, Default)]
pub struct ManagerView {
    /// PIN digits typed.
    pub pin: String,
    /// What the PIN pad says (a message).
    pub pin_message: Option<String>,
    /// Today's interviews.
    pub today: Vec<ResultRow>,
    /// The interview open.
    pub detail: Option<Box<InterviewDetail>>,
    /// The reason chosen for the next decision (a string key).
    pub reason: Option<&'static str>,
    /// "Delete personal data" was tapped once: the next tap deletes.
    pub forget_armed: bool,
    /// How far the open interview's evidence is scrolled (logical px): kept when the screen is
    /// redrawn (a tap on play, a reason, a decision), reset when another interview opens.
    pub review_scroll: f32,
    /// Status text lines.
    pub status: Vec<(String, String)>,
    /// Rosters: (key, body).
    pub rosters: Vec<(String, serde_json::Value)>,
    /// A problem to show.
    pub message: Option<String>,
}

/// What the devices last did, kept across visits for the manager's status screen: `None` until
/// first used, then `Ok` or the last error.
#[derive(Resource, Debug, Clone, Default)]
pub struct DeviceHealth {
    /// The microphone.
    pub microphone: Option<Result<(), String>>,
    /// The camera.
    pub camera: Option<Result<(), String>>,
}

/// Why the kiosk cannot take candidates now (the database cannot be opened), if so.
#[derive(Resource, Debug, Clone, Default)]
pub struct OutOfService(pub Option<String>);

/// Set when the current screen must be rebuilt from its state.
#[derive(Resource, Debug, Default)]
pub struct Rebuild(pub bool);
