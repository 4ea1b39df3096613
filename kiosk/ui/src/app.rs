//! Wiring: the [`KioskPlugin`] starts the workers, registers states, messages and every screen,
//! and runs the global systems (worker polling, idle reset, manager timeout, hidden gesture).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bevy::prelude::*;
use kiosk_config::{KioskSettings, SpeechSettings, Station};
use kiosk_screening::{Lexicon, RoleConfig};
use kiosk_store::StationIdentity;

use crate::action::{self, Action};
use crate::devices::Speaker;
use crate::prompts::PromptAudio;
use crate::state::{Activity, DeviceHealth, ManagerView, OutOfService, Rebuild, Screen, Visit};
use crate::strings::Strings;
use crate::workers::Link;
use crate::workers::camera::{self, CameraCmd, CameraEvent, CameraFactory};
use crate::workers::capture::{self, CaptureCmd, CaptureEvent, MicFactory};
use crate::workers::ears::{self, EarsCmd, EarsEvent};
use crate::workers::store::{self, StoreCmd, StoreEvent, StoreSetup};

/// What the app needs to start: configuration and the device factories.
pub struct Setup {
    /// Identity of this kiosk.
    pub identity: StationIdentity,
    /// `[kiosk]` settings.
    pub kiosk: KioskSettings,
    /// `[speech]` settings.
    pub speech: SpeechSettings,
    /// The language the attract screen starts in.
    pub default_locale: String,
    /// The roles this store offers (from the role files).
    pub roles: Vec<RoleConfig>,
    /// The station's own list of roles it offers (`[station] roles`), if it has one: a role the
    /// cloud adds is offered only if listed.
    pub offered_roles: Option<Vec<String>>,
    /// The yes/no lexicon.
    pub lexicon: Arc<Lexicon>,
    /// Models folder.
    pub models_dir: PathBuf,
    /// Database file.
    pub db: PathBuf,
    /// The store key's file (database and answer audio are encrypted with it).
    pub key_file: PathBuf,
    /// Answer audio folder.
    pub media_dir: PathBuf,
    /// Builds the microphone (in its worker thread).
    pub mic: MicFactory,
    /// Builds the camera (in its worker thread).
    pub camera: CameraFactory,
    /// The questions that are read out, and their files.
    pub prompts: PromptAudio,
    /// Where prompts and answer playback are heard.
    pub speaker: Speaker,
}

impl std::fmt::Debug for Setup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Setup")
            .field("identity", &self.identity)
            .field("db", &self.db)
            .finish_non_exhaustive()
    }
}

/// A [`Setup`] from a loaded station, with the given devices.
pub fn build_setup(
    station: &Station,
    roles: Vec<RoleConfig>,
    lexicon: Lexicon,
    mic: MicFactory,
    camera: CameraFactory,
) -> Setup {
    let s = &station.config.station;
    Setup {
        identity: StationIdentity {
            tenant: s.tenant.clone(),
            store_id: s.store_id.clone(),
            device_id: s.device_id.clone(),
        },
        kiosk: station.config.kiosk.clone(),
        speech: station.config.speech.clone(),
        default_locale: s.locale.clone(),
        lexicon: Arc::new(lexicon),
        models_dir: station.models_dir.clone(),
        db: station.database(),
        key_file: station.key_file.clone(),
        media_dir: station.data_dir.join("media"),
        mic,
        camera,
        prompts: PromptAudio::scan(station.prompt_audio_dir.as_deref(), &roles),
        roles,
        offered_roles: s.roles.clone(),
        speaker: Speaker::Device,
    }
}

/// Configuration the screens read.
#[derive(Resource, Debug, Clone)]
pub struct Config {
    /// `[kiosk]` settings.
    pub kiosk: KioskSettings,
    /// Start-up language.
    pub default_locale: String,
    /// Offered roles: the role files' with the cloud's in force laid over them.
    pub roles: Vec<RoleConfig>,
    /// The role files' roles.
    pub file_roles: Vec<RoleConfig>,
    /// `[station] roles`, if the station lists the roles it offers.
    pub offered_roles: Option<Vec<String>>,
    /// The cloud's configuration documents in force (`role:nurse v3`).
    pub config_in_force: Vec<String>,
    /// Texts.
    pub strings: Strings,
    /// The questions that are read out.
    pub prompts: PromptAudio,
    /// Where prompts and answer playback are heard.
    pub speaker: Speaker,
    /// The store key's file: answer audio is sealed with it.
    pub key_file: PathBuf,
    /// Silence that ends a live answer when the question sets none: (yes/no, open), ms.
    pub end_silence_ms: (u32, u32),
    /// The lexicon (the session reads spoken availability answers with it).
    pub lexicon: Arc<Lexicon>,
}

impl Config {
    /// A text in the visit's language.
    pub fn t(&self, locale: &str, key: &str) -> String {
        self.strings.get(locale, key)
    }

    /// A role by id.
    pub fn role(&self, id: &str) -> Option<&RoleConfig> {
        self.roles.iter().find(|r| r.id == id)
    }
}

/// The microphone worker.
#[derive(Resource, Debug, Deref)]
pub struct Mic(pub Link<CaptureCmd, CaptureEvent>);
/// The speech-recognition worker.
#[derive(Resource, Debug, Deref)]
pub struct Asr(pub Link<EarsCmd, EarsEvent>);
/// The camera worker.
#[derive(Resource, Debug, Deref)]
pub struct Cam(pub Link<CameraCmd, CameraEvent>);
/// The store worker.
#[derive(Resource, Debug, Deref)]
pub struct Db(pub Link<StoreCmd, StoreEvent>);

/// A microphone report, as a Bevy message.
#[derive(Message, Debug, Clone)]
pub struct FromMic(pub CaptureEvent);
/// A transcription, as a Bevy message.
#[derive(Message, Debug, Clone)]
pub struct FromAsr(pub EarsEvent);
/// A camera report, as a Bevy message.
#[derive(Message, Debug, Clone)]
pub struct FromCam(pub CameraEvent);
/// A store result, as a Bevy message.
#[derive(Message, Debug, Clone)]
pub struct FromDb(pub StoreEvent);

/// The whole kiosk: add it to an app with `DefaultPlugins` (on screen) or with `MinimalPlugins`
/// and `StatesPlugin` (logic tests).
pub struct KioskPlugin {
    setup: Mutex<Option<Setup>>,
}

impl std::fmt::Debug for KioskPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KioskPlugin").finish_non_exhaustive()
    }
}

impl KioskPlugin {
    /// The plugin for `setup`.
    pub fn new(setup: Setup) -> Self {
        Self {
            setup: Mutex::new(Some(setup)),
        }
    }
}

impl Plugin for KioskPlugin {
    fn build(&self, app: &mut App) {
        let setup = self
            .setup
            .lock()
            .expect("setup lock")
            .take()
            .expect("KioskPlugin is added once");
        let mut models = vec![
            "silero-vad".to_string(),
            setup.speech.model_en.clone(),
            setup.speech.model_zh.clone(),
        ];
        models.extend(["mtcnn-pnet", "mtcnn-rnet", "mtcnn-onet"].map(String::from));
        let asr = ears::start(setup.models_dir.clone(), setup.speech.clone());
        asr.send(EarsCmd::Preload(setup.default_locale.clone()));
        app.insert_resource(Mic(capture::start(
            setup.mic,
            setup.models_dir.clone(),
            kiosk_perception::ears::endpoint(&setup.speech),
        )))
        .insert_resource(Asr(asr))
        .insert_resource(Cam(camera::start(
            setup.camera,
            setup.models_dir.clone(),
            5.0,
        )))
        .insert_resource(Db(store::start(StoreSetup {
            db: setup.db,
            key_file: setup.key_file.clone(),
            media_dir: setup.media_dir,
            retention_days: setup.kiosk.media_retention_days,
            personal_data_days: setup.kiosk.personal_data_days,
            station: setup.identity,
            lexicon: setup.lexicon.clone(),
            notice_version: setup.kiosk.notice_version.clone(),
            pin_hash: setup.kiosk.manager_pin_hash.clone(),
            models_dir: setup.models_dir,
            models,
        })))
        .insert_resource(Config {
            kiosk: setup.kiosk,
            default_locale: setup.default_locale.clone(),
            file_roles: setup.roles.clone(),
            offered_roles: setup.offered_roles,
            config_in_force: Vec::new(),
            roles: setup.roles,
            strings: Strings::shipped(),
            prompts: setup.prompts,
            speaker: setup.speaker,
            key_file: setup.key_file,
            end_silence_ms: (
                setup.speech.trailing_silence_ms,
                setup.speech.trailing_silence_open_ms,
            ),
            lexicon: setup.lexicon,
        })
        .insert_resource(Visit::new(&setup.default_locale))
        .insert_resource(Activity(Instant::now()))
        .init_resource::<ManagerView>()
        .init_resource::<DeviceHealth>()
        .init_resource::<OutOfService>()
        .init_resource::<Rebuild>()
        .init_state::<Screen>()
        .add_message::<Action>()
        .add_message::<FromMic>()
        .add_message::<FromAsr>()
        .add_message::<FromCam>()
        .add_message::<FromDb>()
        // Registered by the input plugin on screen; the logic tests run without it.
        .add_message::<bevy::input::keyboard::KeyboardInput>()
        .add_systems(
            PreUpdate,
            (action::buttons, poll_mic, poll_asr, poll_cam, poll_db),
        )
        .add_systems(Last, (drop_actions_on_leave, log_screen))
        .add_systems(
            Update,
            (
                activity,
                devices_status,
                service,
                cloud_config,
                idle_reset,
                manager_timeout,
            )
                .chain(),
        )
        .add_plugins(crate::screens::ScreensPlugin);
    }
}

/// Moves microphone reports into Bevy messages.
fn poll_mic(link: Res<Mic>, mut out: MessageWriter<FromMic>) {
    out.write_batch(link.drain().into_iter().map(FromMic));
}

/// Moves transcriptions into Bevy messages.
fn poll_asr(link: Res<Asr>, mut out: MessageWriter<FromAsr>) {
    out.write_batch(link.drain().into_iter().map(FromAsr));
}

/// Moves camera reports into Bevy messages.
fn poll_cam(link: Res<Cam>, mut out: MessageWriter<FromCam>) {
    out.write_batch(link.drain().into_iter().map(FromCam));
}

/// Moves store results into Bevy messages.
fn poll_db(link: Res<Db>, mut out: MessageWriter<FromDb>) {
    out.write_batch(link.drain().into_iter().map(FromDb));
}

/// Any tap, or speech, counts as activity.
fn activity(
    mut actions: MessageReader<Action>,
    mut heard: MessageReader<FromMic>,
    mut last: ResMut<Activity>,
) {
    let tapped = actions.read().count() > 0;
    let spoke = heard.read().any(|m| {
        matches!(
            m.0,
            CaptureEvent::Speaking | CaptureEvent::Captured { speech: true, .. }
        )
    });
    if tapped || spoke {
        last.0 = Instant::now();
    }
}

/// Keeps the level meter and device problems current on every screen.
/// The cloud's configuration in force (asked for on every return to the attract screen) becomes
/// the offered roles there, never during a visit: a reply that arrives once a visit has begun
/// waits for the next return.
fn cloud_config(
    mut db: MessageReader<FromDb>,
    mut cfg: ResMut<Config>,
    mut pending: Local<Option<(Vec<RoleConfig>, Vec<String>)>>,
    screen: Res<State<Screen>>,
    mut rebuild: ResMut<Rebuild>,
) {
    for m in db.read() {
        if let StoreEvent::CloudConfig { roles, in_force } = &m.0 {
            *pending = Some((roles.clone(), in_force.clone()));
        }
    }
    if *screen.get() != Screen::Attract {
        return;
    }
    if let Some((roles, in_force)) = pending.take() {
        let merged =
            kiosk_config::with_cloud_roles(&cfg.file_roles, &roles, cfg.offered_roles.as_deref());
        if merged
            .iter()
            .map(|r| &r.id)
            .ne(cfg.roles.iter().map(|r| &r.id))
            || cfg.config_in_force != in_force
        {
            rebuild.0 = true;
        }
        cfg.roles = merged;
        cfg.config_in_force = in_force;
    }
}

/// The database opens or not: the attract screen takes candidates only while it does.
fn service(
    mut db: MessageReader<FromDb>,
    mut out: ResMut<OutOfService>,
    mut rebuild: ResMut<Rebuild>,
) {
    for m in db.read() {
        let now = match &m.0 {
            StoreEvent::Unavailable(why) => Some(why.clone()),
            StoreEvent::Available => None,
            _ => continue,
        };
        if out.0 != now {
            out.0 = now;
            rebuild.0 = true;
        }
    }
}

fn devices_status(
    mut mic: MessageReader<FromMic>,
    mut cam: MessageReader<FromCam>,
    mut visit: ResMut<Visit>,
    mut rebuild: ResMut<Rebuild>,
    mut health: ResMut<DeviceHealth>,
) {
    for m in mic.read() {
        match &m.0 {
            CaptureEvent::Level(db) => {
                visit.level = *db;
                health.microphone = Some(Ok(()));
            }
            CaptureEvent::Speaking => {
                if !visit.heard_speech {
                    visit.heard_speech = true;
                    rebuild.0 = true;
                }
            }
            CaptureEvent::Failed(e) => {
                tracing::warn!("microphone: {e}");
                visit.mic_error = Some(e.clone());
                health.microphone = Some(Err(e.clone()));
                rebuild.0 = true;
            }
            CaptureEvent::Pausing(p) => visit.pausing = *p,
            CaptureEvent::Captured { .. } => {}
        }
    }
    for m in cam.read() {
        match &m.0 {
            CameraEvent::Frame {
                seen, face_share, ..
            } => {
                let changed = visit.seen.as_ref().map(|(o, _)| (o.faces.len(), o.dark))
                    != Some((seen.faces.len(), seen.dark));
                visit.seen = Some((seen.clone(), *face_share));
                health.camera = Some(Ok(()));
                rebuild.0 |= changed;
            }
            CameraEvent::Failed(e) => {
                tracing::warn!("camera: {e}");
                visit.camera_error = Some(e.clone());
                health.camera = Some(Err(e.clone()));
                rebuild.0 = true;
            }
            CameraEvent::Report(_) => {}
        }
    }
}

/// Discards a candidate's partial interview after the idle timeout: nothing is stored.
fn idle_reset(
    screen: Res<State<Screen>>,
    last: Res<Activity>,
    cfg: Res<Config>,
    visit: Res<Visit>,
    mut next: ResMut<NextState<Screen>>,
) {
    let s = *screen.get();
    let limit = match s {
        Screen::Done => cfg.kiosk.done_timeout_s,
        _ if s.is_candidate() => cfg.kiosk.idle_timeout_s,
        _ => return,
    };
    // Saving is never cut short; while answering, speech counts as activity.
    if s == Screen::Question && visit.listening == crate::state::Listening::Finishing {
        return;
    }
    if last.0.elapsed() >= Duration::from_secs_f32(limit as f32) {
        tracing::info!(screen = ?s, "idle: back to the start, partial interview discarded");
        next.set(Screen::Attract);
    }
}

/// Signs the manager out after inactivity.
fn manager_timeout(
    screen: Res<State<Screen>>,
    last: Res<Activity>,
    cfg: Res<Config>,
    db: Res<Db>,
    mut next: ResMut<NextState<Screen>>,
) {
    let s = *screen.get();
    let limit = match s {
        Screen::Pin => cfg.kiosk.idle_timeout_s,
        _ if s.is_manager() => cfg.kiosk.manager_timeout_s,
        _ => return,
    };
    if last.0.elapsed() >= Duration::from_secs(limit) {
        if s.is_manager() {
            db.send(StoreCmd::Audit("logout_timeout".into()));
        }
        next.set(Screen::Attract);
    }
}

/// Logs every screen change.
fn log_screen(mut changes: MessageReader<StateTransitionEvent<Screen>>) {
    for c in changes.read() {
        tracing::info!(from = ?c.exited, to = ?c.entered, "screen");
    }
}

/// A tap belongs to the screen it was made on: when the screen is about to change, taps not
/// yet read are dropped, so the next screen never acts on them ("Next" twice).
fn drop_actions_on_leave(next: Res<NextState<Screen>>, mut actions: ResMut<Messages<Action>>) {
    if !matches!(*next, NextState::Unchanged) {
        actions.clear();
    }
}
