//! `kiosk interview`: a full screening from recorded answers or live from the microphone,
//! stored like any interview.

use std::path::{Path, PathBuf};
use std::time::Duration;

use kiosk_perception::camera::FileCamera;
use kiosk_perception::face::FaceDetector;
use kiosk_perception::mic::CpalMic;
use kiosk_perception::video::{observe, summarise};
use kiosk_screening::{Answer, Response, VideoSummary};
use kiosk_store::{Candidate, Consent, ConsentKind, MediaRef, NewInterview};
use serde::Serialize;

use crate::UsageError;
use crate::commands::Scored;
use crate::context::Context;
use crate::render;
use crate::speech;

/// Where the answers come from.
#[derive(Debug)]
pub enum Source {
    /// One WAV file per question.
    Files(Vec<PathBuf>),
    /// Live from a microphone (device name part, or the default).
    Mic(Option<String>),
}

#[derive(Debug, Serialize)]
struct AnswerMetrics {
    question_id: String,
    latency_ms: Option<u32>,
    speech_ms: Option<u32>,
    asr_confidence: Option<f32>,
    asr_ms: u32,
    audio_ms: u32,
}

#[derive(Debug, Serialize)]
struct Output {
    #[serde(flatten)]
    scored: Scored,
    metrics: Vec<AnswerMetrics>,
}

/// The presence report of the camera frames at `path` (an image or a folder of frames).
fn video_report(models_dir: &Path, path: &Path) -> anyhow::Result<VideoSummary> {
    let frames = FileCamera::open(path, 1.0)
        .map_err(|e| UsageError(e.to_string()))?
        .all()?;
    let mut detector = FaceDetector::load(models_dir)?;
    let obs = frames
        .iter()
        .map(|f| observe(&mut detector, f))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(summarise(&obs))
}

/// Writes the answers' audio sealed into the media folder (the manager can listen to them) and
/// describes them.
fn save_recordings(
    media_dir: &Path,
    key: &kiosk_store::StoreKey,
    retention_days: u32,
    recorded: &[(String, Vec<f32>)],
) -> anyhow::Result<Vec<MediaRef>> {
    let expires = kiosk_store::now() + chrono::Duration::days(i64::from(retention_days));
    let folder = media_dir.join(uuid::Uuid::now_v7().to_string());
    let named: Vec<(String, &[f32])> = recorded
        .iter()
        .map(|(qid, samples)| (format!("{qid}-1"), samples.as_slice()))
        .collect();
    kiosk_ui::workers::store::write_answer_audio(&folder, key, &named, expires)
        .map_err(anyhow::Error::msg)
}

/// Runs the command.
pub fn run(
    station: &Path,
    role_id: &str,
    source: Source,
    camera: Option<&Path>,
    locale: Option<&str>,
    candidate: Candidate,
    json: bool,
) -> anyhow::Result<()> {
    let mut ctx = Context::load(station)?;
    let role = ctx.role(role_id)?.clone();
    if let Source::Files(files) = &source
        && files.len() != role.questions.len()
    {
        return Err(UsageError(format!(
            "role `{role_id}` has {} questions but {} answers were given: pass one --answer FILE.wav per question, in order",
            role.questions.len(),
            files.len()
        ))
        .into());
    }
    let locale = locale
        .unwrap_or(&ctx.station.config.station.locale)
        .to_string();
    let prompt = Some(role.asr_prompt.get(&locale).to_string()).filter(|p| !p.is_empty());
    let mut ears = speech::load(&ctx.station, &locale, prompt)?;
    let started = kiosk_store::now();
    let mut mic = match &source {
        Source::Mic(device) => Some(CpalMic::new(device.clone())),
        Source::Files(_) => None,
    };
    let mut answers = Vec::new();
    let mut metrics = Vec::new();
    let mut recorded: Vec<(String, Vec<f32>)> = Vec::new();
    for (i, q) in role.questions.iter().enumerate() {
        let heard = match (&source, mic.as_mut()) {
            (Source::Files(files), _) => {
                let heard = speech::hear_file(&mut ears, &files[i])?;
                // The store keeps its own sealed copy: the given file stays the operator's.
                recorded.push((q.id.clone(), kiosk_perception::audio::read_wav(&files[i])?));
                heard
            }
            (Source::Mic(_), Some(m)) => {
                eprintln!(
                    "[{}/{}] {}",
                    i + 1,
                    role.questions.len(),
                    q.prompt.get(&locale)
                );
                let s = &ctx.station.config.speech;
                let (samples, heard) = ears.hear_mic(
                    m,
                    Duration::from_secs(q.time_limit_s.max(1) as u64),
                    q.end_silence_ms(s.trailing_silence_ms, s.trailing_silence_open_ms),
                )?;
                recorded.push((q.id.clone(), samples));
                heard
            }
            (Source::Mic(_), None) => unreachable!("a microphone source always has a microphone"),
        };
        let (latency_ms, speech_ms) = match &heard.response {
            Response::Spoken { metrics, .. } => (metrics.latency_ms, Some(metrics.speech_ms)),
            _ => (None, None),
        };
        metrics.push(AnswerMetrics {
            question_id: q.id.clone(),
            latency_ms,
            speech_ms,
            asr_confidence: heard.response.asr_confidence(),
            asr_ms: heard.asr_ms,
            audio_ms: heard.audio_ms,
        });
        answers.push(Answer {
            question_id: q.id.clone(),
            response: heard.response,
        });
    }
    let mut result = kiosk_screening::score(&role, &ctx.catalog.lexicon, &answers)?;
    if let Some(frames) = camera {
        kiosk_screening::apply_video(&mut result, video_report(&ctx.station.models_dir, frames)?);
    }
    let identity = ctx.identity();
    let media = save_recordings(
        &ctx.station.data_dir.join("media"),
        ctx.store.key(),
        ctx.station.config.kiosk.media_retention_days,
        &recorded,
    )?;
    let saved = ctx.store.save_interview(&NewInterview {
        station: &identity,
        candidate,
        locale: locale.clone(),
        started_at: started,
        completed_at: kiosk_store::now(),
        answers: &answers,
        result: &result,
        consents: std::iter::once(ConsentKind::Recording)
            .chain(camera.map(|_| ConsentKind::Face))
            .map(|kind| Consent {
                kind,
                granted: true,
                notice_version: "headless-cli".into(),
            })
            .collect(),
        media,
    })?;
    let scored = Scored {
        interview_id: saved.interview_id,
        receipt: saved.receipt,
        event_id: saved.event_id,
        result,
    };
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&Output { scored, metrics })?
        );
    } else {
        print!("{}", render::result(&role, &scored, &locale));
    }
    Ok(())
}
