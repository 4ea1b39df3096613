//! The questions: the prompt in large type (read out first when it has prompt audio, and only
//! then recorded), a countdown of the answer limit, a live level meter,
//! "I'm done", yes/no buttons for tap questions, "please say that again" once for a silent or
//! unclear answer. Answers are transcribed in the background while the next question shows.

use std::time::{Duration, Instant};

use bevy::ecs::system::SystemParam;
use bevy::prelude::*;

use super::{Redraw, View};
use kiosk_screening::{Next, QuestionKind, RepeatReason, Response, Session};
use kiosk_store::Candidate;

use crate::action::Action;
use crate::app::{Asr, Cam, Config, Db, FromAsr, FromCam, FromMic, Mic};
use crate::screens::device_check::LevelBar;
use crate::state::{Limits, Listening, Rebuild, Screen, Visit};
use crate::theme::{self, Kind};
use crate::workers::camera::{CameraCmd, CameraEvent};
use crate::workers::capture::{CaptureCmd, CaptureEvent};
use crate::workers::ears::{EarsCmd, EarsEvent};
use crate::workers::store::{SaveJob, StoreCmd};

/// The question screen.
#[derive(Debug)]
pub struct QuestionPlugin;

impl Plugin for QuestionPlugin {
    fn build(&self, app: &mut App) {
        super::register(app, Screen::Question, build);
        app.init_resource::<PromptVoice>()
            .add_systems(OnEnter(Screen::Question), begin.before(Redraw))
            .add_systems(
                Update,
                (
                    handle,
                    prompted,
                    heard,
                    transcribed,
                    complete,
                    video_report,
                    countdown,
                )
                    .chain()
                    .before(Redraw)
                    .run_if(in_state(Screen::Question)),
            );
    }
}

/// Between the end of a spoken prompt and listening: the speaker's tail and the room's echo.
const PROMPT_GAP: Duration = Duration::from_millis(300);

/// The spoken prompt's playback, starting in the background.
#[derive(Resource, Debug, Default)]
struct PromptVoice(Option<std::sync::Mutex<crate::devices::PlaybackStart>>);

/// What asking the next question needs.
#[derive(SystemParam)]
#[allow(missing_debug_implementations)] // a bundle of resource borrows
struct Asker<'w> {
    mic: Res<'w, Mic>,
    cfg: Res<'w, Config>,
    voice: ResMut<'w, PromptVoice>,
}

/// The line above the level meter: "listen to the question", then "listening".
#[derive(Component, Debug)]
struct ListenHint;

/// The countdown text.
#[derive(Component, Debug)]
struct Countdown;

/// Waiting for the camera's report before saving.
#[derive(Resource, Debug, Default)]
struct AwaitingVideo(bool);

fn begin(
    mut commands: Commands,
    cfg: Res<Config>,
    mut visit: ResMut<Visit>,
    mut ask: Asker,
    cam: Res<Cam>,
) {
    commands.insert_resource(AwaitingVideo(false));
    let Some(role) = visit.role.as_deref().and_then(|r| cfg.role(r)).cloned() else {
        tracing::error!("question screen without a role");
        return;
    };
    visit.session = Some(Session::new(role).reading_availability_with((*cfg.lexicon).clone()));
    visit.audio.clear();
    visit.first_capture.clear();
    if visit.face_consent && visit.camera_error.is_none() {
        // Observations for the report start with the first question.
        cam.send(CameraCmd::Start);
    }
    advance(&mut visit, &mut ask);
}

/// Moves to what the session says comes next and starts listening for it, after reading the
/// question out when it has prompt audio.
fn advance(visit: &mut Visit, ask: &mut Asker) -> Next {
    let mic = &ask.mic;
    let Some(session) = visit.session.as_mut() else {
        return Next::Finished;
    };
    let next = session.advance();
    let role = session.role().id.clone();
    let (yes_no, open) = ask.cfg.end_silence_ms;
    let question = match next {
        Next::Ask(p) => session.question(p.index).map(|q| {
            (
                q.kind,
                (
                    q.time_limit_s,
                    q.end_silence_ms(yes_no, open),
                    (p.index, p.why.is_some()),
                ),
                q.id.clone(),
            )
        }),
        _ => None,
    };
    visit.chips = Default::default();
    visit.listening = match (next, question) {
        // An availability question listens the first time; asked again (its answer could not
        // be read), it shows only the chips.
        (Next::Ask(_), Some((kind, (limit, silence, (question, again)), id)))
            if visit.mic_error.is_none()
                && (kind == QuestionKind::Spoken
                    || (kind == QuestionKind::Availability && !again)) =>
        {
            let limit = Limits {
                time: Duration::from_secs(limit.max(1) as u64),
                silence_ms: silence,
                question,
                again,
            };
            match ask.cfg.prompts.get(&role, &id, &visit.locale) {
                Some(path) => {
                    ask.voice.0 = Some(std::sync::Mutex::new(ask.cfg.speaker.play_wav(path)));
                    Listening::Prompting { limit, until: None }
                }
                None => listen(visit, mic, limit),
            }
        }
        (Next::Ask(_), _) => {
            mic.send(CaptureCmd::Stop);
            Listening::Idle
        }
        (Next::Wait | Next::Finished, _) => {
            mic.send(CaptureCmd::Stop);
            Listening::Finishing
        }
    };
    next
}

fn build(commands: &mut Commands, v: &View) {
    let (cfg, visit) = (&*v.cfg, &*v.visit);
    let l = visit.locale.as_str();
    let Some(session) = visit.session.as_ref() else {
        return;
    };
    let total = session.role().questions.len().to_string();
    let current = session.current();
    theme::root(commands, Screen::Question).with_children(|p| {
        let Some(prompt) = current else {
            theme::text(p, cfg.t(l, "question_wait"), 5.0, theme::ACCENT);
            return;
        };
        let Some(q) = session.question(prompt.index) else {
            return;
        };
        let n = (prompt.index + 1).to_string();
        theme::text(
            p,
            cfg.strings
                .fill(l, "question_progress", &[("n", &n), ("total", &total)]),
            3.0,
            theme::MUTED,
        );
        match prompt.why {
            Some(RepeatReason::NothingHeard) => {
                theme::text(p, cfg.t(l, "question_again_silent"), 3.6, theme::WARN);
            }
            Some(RepeatReason::Unclear) => {
                theme::text(p, cfg.t(l, "question_again_unclear"), 3.6, theme::WARN);
            }
            None => {}
        }
        theme::text(p, q.prompt.get(l), 7.0, theme::FG);
        if q.kind == QuestionKind::Availability {
            chips(p, cfg, l, visit, prompt.why.is_some());
        } else if visit.mic_error.is_some() && q.kind == QuestionKind::Spoken {
            // No microphone: the question cannot be answered here; a person follows up.
            theme::text(p, cfg.t(l, "check_no_mic"), 3.0, theme::WARN);
            theme::button(p, cfg.t(l, "details_next"), Action::Finished, Kind::Primary);
        } else if q.kind == QuestionKind::Tap {
            theme::row(p, 4.0, |p| {
                theme::button(
                    p,
                    cfg.t(l, "question_yes"),
                    Action::Tap(true),
                    Kind::Primary,
                );
                theme::button(
                    p,
                    cfg.t(l, "question_no"),
                    Action::Tap(false),
                    Kind::Primary,
                );
            });
        } else {
            let hint = theme::text(p, cfg.t(l, "question_listening"), 3.0, theme::MUTED);
            p.commands().entity(hint).insert(ListenHint);
            theme::bar(p, LevelBar, theme::OK);
            let id = theme::text(p, "", 3.4, theme::ACCENT);
            p.commands().entity(id).insert(Countdown);
            theme::button(
                p,
                cfg.t(l, "question_done"),
                Action::Finished,
                Kind::Primary,
            );
        }
    });
}

/// The availability chips (and, the first time, the listening hint: it may be said instead).
fn chips(p: &mut ChildSpawnerCommands, cfg: &Config, l: &str, visit: &Visit, again: bool) {
    use kiosk_screening::{DayKind, DayPart};
    let hint = if again {
        "availability_tap"
    } else {
        "availability_say_or_tap"
    };
    theme::text(
        p,
        cfg.t(l, hint),
        3.0,
        if again { theme::WARN } else { theme::MUTED },
    );
    let kind = |on: bool| if on { Kind::Selected } else { Kind::Secondary };
    theme::row(p, 3.0, |p| {
        for (part, key) in [
            (DayPart::Morning, "availability_morning"),
            (DayPart::Afternoon, "availability_afternoon"),
            (DayPart::Night, "availability_night"),
        ] {
            theme::button(
                p,
                cfg.t(l, key),
                Action::Part(part),
                kind(visit.chips.parts.contains(&part)),
            );
        }
    });
    theme::row(p, 3.0, |p| {
        for (days, key) in [
            (DayKind::Weekdays, "availability_weekdays"),
            (DayKind::Weekend, "availability_weekend"),
        ] {
            theme::button(
                p,
                cfg.t(l, key),
                Action::Days(days),
                kind(visit.chips.days.contains(&days)),
            );
        }
    });
    if !again
        && matches!(
            visit.listening,
            Listening::Recording { .. } | Listening::Prompting { .. }
        )
    {
        theme::bar(p, LevelBar, theme::OK);
    }
    theme::button(
        p,
        cfg.t(l, "availability_confirm"),
        Action::Choose,
        Kind::Primary,
    );
}

/// Starts recording the answer.
fn listen(visit: &mut Visit, mic: &Mic, limit: Limits) -> Listening {
    visit.next_capture += 1;
    visit.pausing = false;
    let id = visit.next_capture;
    let first = visit
        .first_capture
        .iter()
        .find(|(q, _)| *q == limit.question)
        .map(|(_, first)| *first);
    if first.is_none() {
        visit.first_capture.push((limit.question, id));
    }
    mic.send(CaptureCmd::Listen {
        id,
        limit: limit.time,
        end_silence_ms: limit.silence_ms,
        again: first
            .filter(|_| limit.again)
            .map(|first| (id - first) as usize),
    });
    Listening::Recording {
        id: visit.next_capture,
        since: Instant::now(),
    }
}

/// While the question is read out: listening starts once it has been said (at once if the
/// speaker cannot play it: the candidate reads the prompt on screen).
fn prompted(mut visit: ResMut<Visit>, mut voice: ResMut<PromptVoice>, mic: Res<Mic>) {
    let Listening::Prompting { limit, until } = visit.listening else {
        return;
    };
    let now = Instant::now();
    let until = match until {
        Some(t) => t,
        None => {
            let got = voice
                .0
                .as_ref()
                .and_then(|m| m.lock().ok().map(|rx| rx.try_recv()));
            match got {
                Some(Err(std::sync::mpsc::TryRecvError::Empty)) => return,
                Some(Ok(Ok(length))) => {
                    tracing::info!(ms = length.as_millis() as u64, "question prompt playing");
                    visit.listening = Listening::Prompting {
                        limit,
                        until: Some(now + length + PROMPT_GAP),
                    };
                    return;
                }
                Some(Ok(Err(e))) => {
                    tracing::warn!("question prompt not spoken: {e}");
                    now
                }
                Some(Err(std::sync::mpsc::TryRecvError::Disconnected)) | None => now,
            }
        }
    };
    if now >= until {
        voice.0 = None;
        visit.listening = listen(&mut visit, &mic, limit);
    }
}

/// The hint line's text and colour.
type HintText = (&'static mut Text, &'static mut TextColor);

/// The countdown, and the line above the meter: "listen to the question", "listening", or —
/// once the candidate has paused for a while — "still there?" with the meter turned amber, so
/// someone who is thinking knows to go on (speech that resumes stays in the same answer).
fn countdown(
    cfg: Res<Config>,
    visit: Res<Visit>,
    mut texts: Query<&mut Text, With<Countdown>>,
    mut hints: Query<HintText, (With<ListenHint>, Without<Countdown>)>,
    mut bars: Query<&mut BackgroundColor, With<LevelBar>>,
) {
    let prompting = matches!(visit.listening, Listening::Prompting { .. });
    let pausing = visit.pausing && matches!(visit.listening, Listening::Recording { .. });
    let (key, colour) = match (prompting, pausing) {
        (true, _) => ("question_prompting", theme::MUTED),
        (false, true) => ("question_still_there", theme::ACCENT),
        (false, false) => ("question_listening", theme::MUTED),
    };
    let hint = cfg.t(&visit.locale, key);
    for (mut t, mut c) in &mut hints {
        if t.0 != hint {
            t.0.clone_from(&hint);
            c.0 = colour;
        }
    }
    let bar = if pausing { theme::ACCENT } else { theme::OK };
    for mut b in &mut bars {
        if b.0 != bar {
            b.0 = bar;
        }
    }
    let Listening::Recording { since, .. } = &visit.listening else {
        // A blank line keeps its height, so nothing moves when the countdown starts.
        for mut t in &mut texts {
            if prompting && t.0 != "\u{a0}" {
                t.0 = "\u{a0}".into();
            }
        }
        return;
    };
    let Some(q) = visit
        .session
        .as_ref()
        .and_then(|s| s.current())
        .and_then(|p| visit.session.as_ref()?.question(p.index))
    else {
        return;
    };
    let left = (q.time_limit_s as f32 - since.elapsed().as_secs_f32())
        .max(0.0)
        .ceil() as u32;
    let s = cfg.strings.fill(
        &visit.locale,
        "question_seconds",
        &[("s", &left.to_string())],
    );
    for mut t in &mut texts {
        if t.0 != s {
            t.0.clone_from(&s);
        }
    }
}

fn handle(
    mut actions: MessageReader<Action>,
    mut visit: ResMut<Visit>,
    mut rebuild: ResMut<Rebuild>,
    mut ask: Asker,
) {
    for a in actions.read() {
        match a {
            // The question is still being read out: nothing recorded yet to finish.
            Action::Finished if matches!(visit.listening, Listening::Prompting { .. }) => {}
            Action::Finished if visit.listening == Listening::Idle => {
                // No microphone: skip the spoken question (kept as missing, sent to review).
                if let Some(s) = visit.session.as_mut()
                    && let Some(p) = s.current()
                {
                    while s.current().is_some_and(|c| c.index == p.index) {
                        s.heard_nothing(Response::Missing);
                    }
                }
                advance(&mut visit, &mut ask);
                rebuild.0 = true;
            }
            Action::Finished => ask.mic.send(CaptureCmd::Finish),
            Action::Part(part) => {
                let parts = &mut visit.chips.parts;
                if !parts.remove(part) {
                    parts.insert(*part);
                }
                rebuild.0 = true;
            }
            Action::Days(days) => {
                let set = &mut visit.chips.days;
                if !set.remove(days) {
                    set.insert(*days);
                }
                rebuild.0 = true;
            }
            Action::Choose => {
                // Tapped instead of said: what was being recorded is dropped (its capture id
                // is no longer the current one, so it is ignored when it arrives).
                ask.mic.send(CaptureCmd::Stop);
                let chosen = std::mem::take(&mut visit.chips);
                if let Some(s) = visit.session.as_mut() {
                    s.chose(chosen);
                }
                advance(&mut visit, &mut ask);
                rebuild.0 = true;
            }
            Action::Tap(yes) => {
                if let Some(s) = visit.session.as_mut() {
                    s.tapped(*yes);
                }
                advance(&mut visit, &mut ask);
                rebuild.0 = true;
            }
            _ => {}
        }
    }
}

/// An answer's recording is over: transcribe it in the background and move on, or ask again at
/// once if nothing was said.
fn heard(
    mut from_mic: MessageReader<FromMic>,
    mut visit: ResMut<Visit>,
    mut rebuild: ResMut<Rebuild>,
    mut ask: Asker,
    asr: Res<Asr>,
) {
    for m in from_mic.read() {
        let CaptureEvent::Captured {
            id,
            samples,
            speech,
        } = &m.0
        else {
            continue;
        };
        if !matches!(visit.listening, Listening::Recording { id: current, .. } if current == *id) {
            continue; // a recording abandoned by a reset
        }
        let locale = visit.locale.clone();
        let Some(session) = visit.session.as_mut() else {
            continue;
        };
        let hint = Some(session.role().asr_prompt.get(&locale).to_string());
        if *speech {
            if let Some(p) = session.recorded() {
                asr.send(EarsCmd::Transcribe {
                    prompt: p,
                    locale,
                    hint,
                    samples: samples.clone(),
                });
                visit.audio.push(((p.index, p.attempt), samples.clone()));
            }
        } else {
            session.heard_nothing(Response::Spoken {
                segments: Vec::new(),
                metrics: kiosk_screening::SpeechMetrics::default(),
            });
        }
        advance(&mut visit, &mut ask);
        rebuild.0 = true;
    }
}

/// A transcription came back: keep it, or queue the question to be asked again.
fn transcribed(
    mut from_asr: MessageReader<FromAsr>,
    mut visit: ResMut<Visit>,
    mut rebuild: ResMut<Rebuild>,
    mut ask: Asker,
) {
    for m in from_asr.read() {
        let (prompt, response) = match &m.0 {
            EarsEvent::Heard { prompt, heard } => (*prompt, heard.response.clone()),
            // Kept as audio, sent to review.
            EarsEvent::Failed { prompt, .. } => (*prompt, Response::Missing),
            EarsEvent::LoadFailed(_) => continue,
        };
        if let Some(s) = visit.session.as_mut() {
            s.transcribed(prompt, response);
        }
        if visit.listening == Listening::Finishing {
            // A late "please say that again" is asked now.
            advance(&mut visit, &mut ask);
            rebuild.0 = true;
        }
    }
}

/// Every answer is in: ask the camera for its report, or save straight away.
fn complete(
    mut visit: ResMut<Visit>,
    mut awaiting: ResMut<AwaitingVideo>,
    cam: Res<Cam>,
    db: Res<Db>,
    mut next: ResMut<NextState<Screen>>,
) {
    let ready = visit.listening == Listening::Finishing
        && visit
            .session
            .as_ref()
            .is_some_and(|s| s.answers().is_some());
    if !ready || awaiting.0 {
        return;
    }
    if visit.face_consent && visit.camera_error.is_none() {
        awaiting.0 = true;
        cam.send(CameraCmd::Report);
    } else {
        save(&mut visit, None, &db, &mut next);
    }
}

/// The camera's report arrived: save with it.
fn video_report(
    mut from_cam: MessageReader<FromCam>,
    mut awaiting: ResMut<AwaitingVideo>,
    mut visit: ResMut<Visit>,
    db: Res<Db>,
    mut next: ResMut<NextState<Screen>>,
) {
    for m in from_cam.read() {
        match &m.0 {
            CameraEvent::Report(v) if awaiting.0 => {
                awaiting.0 = false;
                save(&mut visit, Some(v.clone()), &db, &mut next);
            }
            CameraEvent::Failed(_) if awaiting.0 => {
                awaiting.0 = false;
                save(&mut visit, None, &db, &mut next);
            }
            _ => {}
        }
    }
}

/// Hands the finished interview to the store worker and shows the thank-you screen.
fn save(
    visit: &mut Visit,
    video: Option<kiosk_screening::VideoSummary>,
    db: &Db,
    next: &mut NextState<Screen>,
) {
    let Some(session) = visit.session.take() else {
        return;
    };
    let Some(answers) = session.answers() else {
        return;
    };
    let role = session.role().clone();
    let audio = std::mem::take(&mut visit.audio)
        .into_iter()
        .filter_map(|((i, attempt), s)| Some((role.questions.get(i)?.id.clone(), attempt, s)))
        .collect();
    db.send(StoreCmd::Save(Box::new(SaveJob {
        candidate: Candidate {
            name: Some(visit.name.trim().to_string()),
            phone: Some(visit.phone.clone()),
        },
        locale: visit.locale.clone(),
        started_at: visit.started_at.unwrap_or_else(kiosk_store::now),
        answers,
        audio,
        video,
        face_consent: visit.face_consent,
        role,
    })));
    visit.listening = Listening::Idle;
    next.set(Screen::Done);
}
