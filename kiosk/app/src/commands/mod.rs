//! Command implementations, one file each, plus the typed-answer scoring they share.

mod backup;
mod check;
mod demo;
mod enroll;
mod forget;
mod interview;
mod purge;
mod results;
mod run;
mod score;
mod transcribe;

use kiosk_screening::{Answer, Response, ScreeningResult};
use kiosk_store::{Candidate, NewInterview, Saved};
use serde::Serialize;

use crate::UsageError;
use crate::cli::{Cli, Command};
use crate::context::Context;

/// Runs one command.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Results {
            station,
            limit,
            json,
        } => results::run(&station, limit, json),
        Command::Score {
            station,
            role,
            answers,
            candidate,
            json,
        } => score::run(&station, &role, &answers, candidate.into(), json),
        Command::Transcribe {
            station,
            locale,
            files,
            mic,
            device,
            max_seconds,
            prompt,
            json,
        } => {
            let mic = mic.then_some(transcribe::MicChoice {
                device,
                max_seconds,
            });
            transcribe::run(&station, locale.as_deref(), &files, mic, prompt, json)
        }
        Command::Interview {
            station,
            role,
            answers,
            mic,
            device,
            camera,
            locale,
            candidate,
            json,
        } => {
            let source = if mic {
                interview::Source::Mic(device)
            } else {
                interview::Source::Files(answers)
            };
            interview::run(
                &station,
                &role,
                source,
                camera.as_deref(),
                locale.as_deref(),
                candidate.into(),
                json,
            )
        }
        Command::Run(args) => run::run(args),
        Command::SetPin => run::set_pin(),
        Command::EmptyWindow { seconds, windowed } => run::empty_window(seconds, windowed),
        Command::Check {
            station,
            camera_index,
            json,
        } => check::run(&station, camera_index, json),
        Command::Demo {
            station,
            answers,
            rounds,
            quiet,
        } => demo::run(&station, answers.as_deref(), rounds, quiet),
        Command::Purge { station, json } => purge::run(&station, json),
        Command::Keygen { station } => backup::keygen(&station),
        Command::Enroll {
            station,
            url,
            token,
            ca,
        } => enroll::run(&station, &url, &token, ca.as_deref()),
        Command::Backup { station, out, json } => backup::backup(&station, &out, json),
        Command::Restore { station, from } => backup::restore(&station, &from),
        Command::Forget {
            station,
            receipt,
            interview,
            phone,
            json,
        } => {
            let target = match (receipt, interview, phone) {
                (Some(r), _, _) => kiosk_store::ForgetTarget::Receipt(r),
                (_, Some(i), _) => kiosk_store::ForgetTarget::Interview(i),
                (_, _, Some(p)) => kiosk_store::ForgetTarget::Phone(p),
                _ => {
                    return Err(UsageError(
                        "say who to forget: --receipt CODE, --interview ID or --phone NUMBER"
                            .into(),
                    )
                    .into());
                }
            };
            forget::run(&station, target, json)
        }
    }
}

/// A stored, scored interview as printed by `score --json`.
#[derive(Debug, Serialize)]
pub struct Scored {
    /// Interview id.
    pub interview_id: String,
    /// Receipt code for the candidate.
    pub receipt: String,
    /// Outbox event id.
    pub event_id: String,
    /// The result.
    #[serde(flatten)]
    pub result: ScreeningResult,
}

/// Scores typed answers for a role and stores them as one interview; returns after the commit.
pub fn score_typed(
    ctx: &mut Context,
    role_id: &str,
    texts: &[String],
    candidate: Candidate,
    locale: &str,
) -> anyhow::Result<Scored> {
    let role = ctx.role(role_id)?.clone();
    if texts.len() != role.questions.len() {
        let questions: Vec<&str> = role.questions.iter().map(|q| q.id.as_str()).collect();
        return Err(UsageError(format!(
            "role `{role_id}` has {} questions ({}) but {} answers were given: pass one --answer per question, in order",
            questions.len(),
            questions.join(", "),
            texts.len()
        ))
        .into());
    }
    let answers: Vec<Answer> = role
        .questions
        .iter()
        .zip(texts)
        .map(|(q, t)| Answer {
            question_id: q.id.clone(),
            response: Response::Typed { text: t.clone() },
        })
        .collect();
    let result = kiosk_screening::score(&role, &ctx.catalog.lexicon, &answers)?;
    let identity = ctx.identity();
    let now = kiosk_store::now();
    let Saved {
        interview_id,
        receipt,
        event_id,
        ..
    } = ctx.store.save_interview(&NewInterview {
        station: &identity,
        candidate,
        locale: locale.to_string(),
        started_at: now,
        completed_at: now,
        answers: &answers,
        result: &result,
        consents: Vec::new(),
        media: Vec::new(),
    })?;
    Ok(Scored {
        interview_id,
        receipt,
        event_id,
        result,
    })
}
