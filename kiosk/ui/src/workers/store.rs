//! The store worker: scores and saves finished interviews (answer audio first, then one
//! transaction), answers the manager screens' queries, records decisions and audit events, and
//! checks the manager PIN (argon2id is slow on purpose). All disk work happens here.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, FixedOffset};
use kiosk_screening::{Answer, Lexicon, RoleConfig, VideoSummary};
use kiosk_store::{
    Backlog, Candidate, Consent, ConsentKind, Decision, InterviewDetail, MediaRef, NewInterview,
    ResultRow, StationIdentity, Store, StoreKey, SyncState,
};
use serde_json::{Map, Value};

use super::Link;
use crate::pin_gate::{lockout, verify_pin};

/// A finished interview to score and save.
#[derive(Debug, Clone)]
pub struct SaveJob {
    /// The role.
    pub role: RoleConfig,
    /// Name and phone.
    pub candidate: Candidate,
    /// `zh-CN` or `en`.
    pub locale: String,
    /// When the candidate consented.
    pub started_at: DateTime<FixedOffset>,
    /// One answer per question, in order.
    pub answers: Vec<Answer>,
    /// Every recorded attempt: (question id, attempt, audio). The manager can listen to each.
    pub audio: Vec<(String, u8, Vec<f32>)>,
    /// The camera report (None without face consent or camera).
    pub video: Option<VideoSummary>,
    /// Whether face data was consented to.
    pub face_consent: bool,
}

/// What the manager's PIN did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PinOutcome {
    /// Right PIN.
    Ok,
    /// Wrong PIN; the pad is locked for `locked_for` (zero for the first few).
    Wrong {
        /// Wrong PINs in a row.
        failures: u32,
        /// Lockout now starting.
        locked_for: Duration,
    },
    /// Still locked after earlier wrong PINs; the PIN was not even checked.
    Locked(Duration),
    /// No PIN is configured, or the hash is invalid.
    Unavailable(String),
}

/// Device and sync state for the manager's status screen.
#[derive(Debug, Clone)]
pub struct StoreStatus {
    /// Each model: name and `Ok` or what is wrong.
    pub models: Vec<(String, Result<(), String>)>,
    /// Events waiting for the cloud.
    pub backlog: Backlog,
    /// What the sync agent last wrote.
    pub sync: Option<SyncState>,
}

/// A store job.
#[derive(Debug, Clone)]
pub enum StoreCmd {
    /// Score and save an interview.
    Save(Box<SaveJob>),
    /// Today's interviews.
    Today,
    /// One interview in full.
    Detail(String),
    /// A manager's decision.
    Decide {
        /// Which interview.
        interview_id: String,
        /// The decision.
        decision: Decision,
        /// Why.
        reason: String,
    },
    /// Record a manager-access event (`logout`, `timeout` …).
    Audit(String),
    /// Check a manager PIN.
    CheckPin(String),
    /// Backlog and sync state.
    Status,
    /// Rosters the cloud has sent: (key, body).
    Rosters,
    /// Delete this interview's candidate's personal data, asked for by the manager.
    Forget(String),
    /// Decide the cloud's new configuration documents (validate; apply or reject, telling the
    /// cloud) and return what is in force.
    CloudConfig,
}

/// A store result.
#[derive(Debug, Clone)]
pub enum StoreEvent {
    /// Saved: the candidate's receipt code.
    Saved {
        /// Receipt code.
        receipt: String,
        /// Interview id.
        interview_id: String,
    },
    /// Not saved: what went wrong (the candidate is told to ask staff).
    SaveFailed(String),
    /// Today's interviews, newest first.
    Today(Vec<ResultRow>),
    /// One interview.
    Detail(Box<InterviewDetail>),
    /// A decision was committed (the interview id).
    Decided(String),
    /// A manager-access event was committed.
    Audited,
    /// The PIN check.
    Pin(PinOutcome),
    /// Status.
    Status(StoreStatus),
    /// Rosters: (key, JSON body).
    Rosters(Vec<(String, Value)>),
    /// The candidate's personal data was deleted (the interview id).
    Forgotten(String),
    /// A query failed.
    Failed(String),
    /// The database cannot be opened (busy, damaged, no permission): the kiosk is out of service.
    Unavailable(String),
    /// The database opens again.
    Available,
    /// The cloud's roles in force, and their labels (`role:nurse v3`).
    CloudConfig {
        /// Roles.
        roles: Vec<RoleConfig>,
        /// `key vN` of each document in force.
        in_force: Vec<String>,
    },
}

/// What the store worker needs.
#[derive(Debug, Clone)]
pub struct StoreSetup {
    /// The database file.
    pub db: PathBuf,
    /// The store key's file.
    pub key_file: PathBuf,
    /// Where answer audio goes.
    pub media_dir: PathBuf,
    /// Days audio is kept.
    pub retention_days: u32,
    /// Days personal data is kept after the cloud has it.
    pub personal_data_days: u32,
    /// Who this kiosk is.
    pub station: StationIdentity,
    /// For scoring.
    pub lexicon: Arc<Lexicon>,
    /// Recorded with each consent.
    pub notice_version: String,
    /// The manager PIN's hash.
    pub pin_hash: Option<String>,
    /// The models folder, for the status screen's checks.
    pub models_dir: PathBuf,
    /// Models the kiosk uses (manifest names).
    pub models: Vec<String>,
}

/// How often the retention rules run while the kiosk is on.
const PURGE_EVERY: Duration = Duration::from_secs(3600);

/// How often a running PIN lockout is counted down in the store.
const LOCKOUT_TICK: Duration = Duration::from_secs(5);

/// How often a database that could not be opened is tried again.
const REOPEN_EVERY: Duration = Duration::from_secs(10);

/// Starts the worker. The database opens in the worker; if it cannot, the kiosk is told at once
/// ([`StoreEvent::Unavailable`]: no candidate may start an interview whose answers cannot be
/// saved), every job answers with the reason, and opening is tried again every few seconds
/// ([`StoreEvent::Available`] once it works).
pub fn start(setup: StoreSetup) -> Link<StoreCmd, StoreEvent> {
    super::spawn("store", move |cmds, events| {
        let open = || {
            Store::open_with_key_file(&setup.db, &setup.key_file).map_err(|e| {
                tracing::error!("the database cannot be opened: {e}");
                e.to_string()
            })
        };
        let mut store = open();
        let mut clock = LockoutClock::new();
        // Expired audio is looked for at start and then hourly.
        let mut next_purge = Instant::now();
        if let Err(e) = &store {
            let _ = events.send(StoreEvent::Unavailable(e.clone()));
        }
        loop {
            let now = Instant::now();
            // A running PIN lockout is counted down (and stored) every few seconds, so a
            // restart resumes it about where it was; none running costs nothing.
            let mut wait = next_purge.saturating_duration_since(now);
            match store.as_mut() {
                Err(_) => wait = REOPEN_EVERY,
                Ok(s) => {
                    if wait.is_zero() {
                        purge_expired(s, &setup);
                        next_purge = now + PURGE_EVERY;
                        wait = PURGE_EVERY;
                    }
                    if clock.running && clock.left(s).is_ok_and(|l| l > Duration::ZERO) {
                        wait = wait.min(LOCKOUT_TICK);
                    }
                }
            }
            let cmd = match cmds.recv_timeout(wait) {
                Ok(cmd) => cmd,
                Err(crossbeam_channel::RecvTimeoutError::Timeout) => {
                    if store.is_err() {
                        store = open();
                        if store.is_ok() {
                            tracing::info!("the database opens again");
                            let _ = events.send(StoreEvent::Available);
                        }
                    }
                    continue;
                }
                Err(crossbeam_channel::RecvTimeoutError::Disconnected) => return,
            };
            let reply = match store.as_mut() {
                Ok(s) => handle(s, &setup, &mut clock, cmd),
                Err(e) => match cmd {
                    StoreCmd::Save(_) => StoreEvent::SaveFailed(e.clone()),
                    _ => StoreEvent::Failed(e.clone()),
                },
            };
            if events.send(reply).is_err() {
                return;
            }
        }
    })
}

/// Runs the retention rules (expired audio, orphaned audio, personal data the cloud has had past
/// its period); `kiosk purge` on a daily timer runs them too, whether the kiosk is busy or not.
pub fn purge_expired(store: &mut Store, setup: &StoreSetup) {
    match store.purge(
        &setup.media_dir,
        setup.personal_data_days,
        kiosk_store::now(),
    ) {
        Ok(p) => {
            if p != kiosk_store::Purged::default() {
                tracing::info!(?p, "retention purge");
            }
        }
        Err(e) => tracing::error!("retention purge: {e}"),
    }
}

fn handle(
    store: &mut Store,
    setup: &StoreSetup,
    clock: &mut LockoutClock,
    cmd: StoreCmd,
) -> StoreEvent {
    let failed = |e: kiosk_store::StoreError| StoreEvent::Failed(e.to_string());
    match cmd {
        StoreCmd::Save(job) => match save(store, setup, &job) {
            Ok(ev) => ev,
            Err(e) => {
                tracing::error!("saving an interview failed: {e}");
                StoreEvent::SaveFailed(e)
            }
        },
        StoreCmd::Today => {
            let today = kiosk_store::now().format("%Y-%m-%d").to_string();
            match store.list_results(500) {
                Ok(rows) => StoreEvent::Today(
                    rows.into_iter()
                        .filter(|r| r.completed_at.starts_with(&today))
                        .collect(),
                ),
                Err(e) => failed(e),
            }
        }
        StoreCmd::Detail(id) => match store.interview_detail(&id) {
            Ok(d) => StoreEvent::Detail(Box::new(d)),
            Err(e) => failed(e),
        },
        StoreCmd::Decide {
            interview_id,
            decision,
            reason,
        } => match store.record_decision(
            &setup.station,
            &interview_id,
            decision,
            &reason,
            "store-manager",
        ) {
            Ok(_) => StoreEvent::Decided(interview_id),
            Err(e) => failed(e),
        },
        StoreCmd::Audit(action) => match store.record_audit(&setup.station, &action, Map::new()) {
            Ok(_) => StoreEvent::Audited,
            Err(e) => failed(e),
        },
        StoreCmd::CheckPin(pin) => StoreEvent::Pin(check_pin(store, setup, clock, &pin)),
        StoreCmd::Status => match (store.outbox_backlog(), store.sync_state()) {
            (Ok(backlog), Ok(sync)) => StoreEvent::Status(StoreStatus {
                models: setup
                    .models
                    .iter()
                    .map(|m| {
                        let ok = kiosk_perception::models::verified(&setup.models_dir, m)
                            .map(|_| ())
                            .map_err(|e| e.to_string());
                        (m.clone(), ok)
                    })
                    .collect(),
                backlog,
                sync,
            }),
            (Err(e), _) | (_, Err(e)) => failed(e),
        },
        StoreCmd::Forget(interview_id) => {
            let request = kiosk_store::ForgetRequest {
                request_id: format!("local-{}", uuid::Uuid::now_v7()),
                targets: vec![kiosk_store::ForgetTarget::Interview(interview_id.clone())],
                cloud_candidate_id: None,
                requested_by: kiosk_store::RequestedBy::StoreManager,
            };
            match store.forget(&setup.station, &request) {
                Ok(_) => StoreEvent::Forgotten(interview_id),
                Err(e) => failed(e),
            }
        }
        StoreCmd::CloudConfig => match cloud_config(store, setup) {
            Ok((roles, in_force)) => StoreEvent::CloudConfig { roles, in_force },
            Err(e) => failed(e),
        },
        StoreCmd::Rosters => match store.inbox_list("roster") {
            Ok(rows) => {
                let today = chrono::Local::now().date_naive();
                let mut current = vec![];
                for (key, _, payload, _) in rows {
                    let Ok(v) = serde_json::from_str::<Value>(&payload) else {
                        continue;
                    };
                    let body = v.get("body").cloned().unwrap_or(v);
                    // A roster expires from the kiosk after its week (it names the new hire).
                    let ended = body
                        .get("week_end")
                        .and_then(Value::as_str)
                        .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
                        .is_some_and(|end| end < today);
                    if ended {
                        if let Err(e) = store.inbox_remove("roster", &key) {
                            tracing::warn!("cannot remove an expired roster: {e}");
                        }
                        continue;
                    }
                    current.push((key, body));
                }
                StoreEvent::Rosters(current)
            }
            Err(e) => failed(e),
        },
    }
}

/// The PIN lockout's countdown: the store holds what is left, and this process takes off the time
/// its monotonic clock saw pass (so it counts only while the kiosk runs, and the wall clock plays
/// no part).
#[derive(Debug)]
struct LockoutClock {
    last: Instant,
    /// A lockout may be running (true at start: one may have been stored before a restart).
    running: bool,
}

impl LockoutClock {
    /// Counting from now.
    fn new() -> Self {
        Self {
            last: Instant::now(),
            running: true,
        }
    }

    /// What is left of the lockout, counted down to now and stored.
    fn left(&mut self, store: &mut Store) -> Result<Duration, kiosk_store::StoreError> {
        let now = Instant::now();
        let left = store.pin_lockout_count_down(now - self.last)?;
        self.last = now;
        self.running = left > Duration::ZERO;
        Ok(left)
    }
}

/// Validates the cloud's undecided configuration documents with the role files' validator,
/// puts the valid ones in force and records the rest as refused (each telling the cloud), then
/// returns the roles in force.
#[allow(clippy::type_complexity)]
fn cloud_config(
    store: &mut Store,
    setup: &StoreSetup,
) -> Result<(Vec<RoleConfig>, Vec<String>), kiosk_store::StoreError> {
    for doc in store.config_undecided()? {
        match kiosk_config::parse_cloud_role(&doc.0, doc.1, &doc.2) {
            Ok(_) => {
                tracing::info!(key = doc.0, version = doc.1, "cloud configuration applied");
                store.config_apply(&setup.station, &doc)?;
            }
            Err(e) => {
                tracing::warn!(
                    key = doc.0,
                    version = doc.1,
                    "cloud configuration refused: {e}"
                );
                store.config_reject(
                    &setup.station,
                    &doc.0,
                    doc.1,
                    &kiosk_config::error_lines(&e),
                )?;
            }
        }
    }
    let mut roles = Vec::new();
    let mut in_force = Vec::new();
    for (key, version, payload) in store.config_in_force()? {
        if let Ok(role) = kiosk_config::parse_cloud_role(&key, version, &payload) {
            roles.push(role);
            in_force.push(format!("{key} v{version}"));
        }
    }
    Ok((roles, in_force))
}

fn check_pin(
    store: &mut Store,
    setup: &StoreSetup,
    clock: &mut LockoutClock,
    pin: &str,
) -> PinOutcome {
    let Some(hash) = setup.pin_hash.as_deref() else {
        return PinOutcome::Unavailable(
            "no manager PIN is set: add manager_pin_hash (kiosk set-pin)".into(),
        );
    };
    let failures = match store.pin_failures() {
        Ok(f) => f,
        Err(e) => return PinOutcome::Unavailable(e.to_string()),
    };
    match clock.left(store) {
        Ok(left) if left > Duration::ZERO => return PinOutcome::Locked(left),
        Ok(_) => {}
        Err(e) => return PinOutcome::Unavailable(e.to_string()),
    }
    let ok = match verify_pin(hash, pin) {
        Ok(ok) => ok,
        Err(e) => return PinOutcome::Unavailable(e.to_string()),
    };
    let mut detail = Map::new();
    detail.insert("failures_before".into(), Value::from(failures));
    let action = if ok { "pin_ok" } else { "pin_failed" };
    if let Err(e) = store.record_audit(&setup.station, action, detail) {
        // Without an audit record there is no access.
        return PinOutcome::Unavailable(e.to_string());
    }
    let locked_for = if ok {
        Duration::ZERO
    } else {
        lockout(failures + 1)
    };
    if let Err(e) = store.set_pin_lockout(locked_for) {
        return PinOutcome::Unavailable(e.to_string());
    }
    clock.running = locked_for > Duration::ZERO;
    if ok {
        PinOutcome::Ok
    } else {
        PinOutcome::Wrong {
            failures: failures + 1,
            locked_for,
        }
    }
}

/// Writes answer recordings as `folder/{name}.wav.enc` (name = question id and attempt): WAV
/// sealed with the store key, in a folder only the kiosk's user can open. Describes them for the
/// store, expiring at `expires`. The folder is made only when there is audio.
pub fn write_answer_audio(
    folder: &std::path::Path,
    key: &StoreKey,
    recordings: &[(String, &[f32])],
    expires: DateTime<FixedOffset>,
) -> Result<Vec<MediaRef>, String> {
    use std::os::unix::fs::DirBuilderExt;
    if recordings.is_empty() {
        return Ok(Vec::new());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(folder)
        .map_err(|e| format!("{}: {e}", folder.display()))?;
    recordings
        .iter()
        .map(|(name, samples)| {
            let path = folder.join(format!("{name}.wav{}", kiosk_store::SEALED_SUFFIX));
            let wav = kiosk_perception::audio::wav_bytes(samples);
            let bytes = key
                .seal_to_file(&path, &wav)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            Ok(MediaRef {
                question_id: name.rsplit_once('-').map(|(q, _)| q.to_string()),
                kind: "answer_audio".into(),
                path: path.display().to_string(),
                sha256: kiosk_perception::models::sha256_file(&path).ok(),
                bytes: Some(bytes as i64),
                expires_at: Some(expires),
            })
        })
        .collect()
}

fn save(store: &mut Store, setup: &StoreSetup, job: &SaveJob) -> Result<StoreEvent, String> {
    let mut result = kiosk_screening::score(&job.role, &setup.lexicon, &job.answers)
        .map_err(|e| e.to_string())?;
    if let Some(v) = job.video.clone() {
        kiosk_screening::apply_video(&mut result, v);
    }
    // Audio first, in a folder of its own; the transaction then refers to it. If the
    // transaction fails the files are removed, so nothing is half-saved.
    let folder = setup.media_dir.join(uuid::Uuid::now_v7().to_string());
    let expires = kiosk_store::now() + chrono::Duration::days(i64::from(setup.retention_days));
    let recordings: Vec<(String, &[f32])> = job
        .audio
        .iter()
        .map(|(qid, attempt, samples)| (format!("{qid}-{}", attempt + 1), samples.as_slice()))
        .collect();
    let written = write_answer_audio(&folder, store.key(), &recordings, expires);
    let saved = written.and_then(|media| {
        let consent = |kind, granted| Consent {
            kind,
            granted,
            notice_version: setup.notice_version.clone(),
        };
        store
            .save_interview(&NewInterview {
                station: &setup.station,
                candidate: job.candidate.clone(),
                locale: job.locale.clone(),
                started_at: job.started_at,
                completed_at: kiosk_store::now(),
                answers: &job.answers,
                result: &result,
                consents: vec![
                    consent(ConsentKind::Recording, true),
                    consent(ConsentKind::Face, job.face_consent),
                ],
                media,
            })
            .map_err(|e| e.to_string())
    });
    match saved {
        Ok(s) => {
            tracing::info!(receipt = %s.receipt, "interview saved");
            Ok(StoreEvent::Saved {
                receipt: s.receipt,
                interview_id: s.interview_id,
            })
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&folder);
            Err(e)
        }
    }
}
