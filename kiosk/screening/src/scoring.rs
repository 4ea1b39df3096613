//! Explainable scoring: answers + role + lexicon → per-dimension scores with evidence, total, recommendation.
//!
//! Bad input never produces a confident low score: a question with no speech, a transcript the
//! recogniser was unsure of, an answer too short to judge or a yes/no answer that is neither feeds
//! no score, and the result goes to `review` with the reason.

use crate::answer::{Answer, Response};
use crate::intent::{Intent, Lexicon, Polarity};
use crate::phrases::PhraseSet;
use crate::result::{
    AnswerSummary, DimensionScore, Evidence, Knockout, MetricValue, PhraseMatch, Reason,
    ReasonCode, Recommendation, ScreeningResult, Status, VideoSummary,
};
use crate::role::{Metric, QuestionConfig, QuestionKind, RoleConfig, RuleConfig, ScoringPolicy};
use crate::text::{Located, units};

/// Answers that do not fit the role.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScoringError {
    /// Not one answer per question.
    #[error(
        "role `{role}` has {expected} questions but {given} answers were given (one per question, in order)"
    )]
    AnswerCount {
        /// Role id.
        role: String,
        /// Questions in the role.
        expected: usize,
        /// Answers given.
        given: usize,
    },
    /// An answer is for another question than the one at its position.
    #[error("answer {position} is for question `{given}` but the role asks `{expected}` there")]
    QuestionMismatch {
        /// 1-based position.
        position: usize,
        /// The question at that position.
        expected: String,
        /// The question the answer names.
        given: String,
    },
}

/// Whether an answer can be scored at all.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Quality {
    /// Scoreable.
    Usable,
    /// Nothing said or typed.
    NoSpeech,
    /// Transcribed, but the recogniser's mean confidence is below the policy.
    LowConfidence(f32),
}

/// Judges an answer's input quality (the flow uses this to ask once more).
pub fn assess(policy: &ScoringPolicy, response: &Response) -> Quality {
    match response {
        Response::Tapped { .. } | Response::Chose { .. } => Quality::Usable,
        Response::Missing => Quality::NoSpeech,
        _ if units(&response.tokens()) == 0 => Quality::NoSpeech,
        _ => match response.asr_confidence() {
            Some(c) if c < policy.min_asr_confidence => Quality::LowConfidence(c),
            _ => Quality::Usable,
        },
    }
}

/// Scores one screening. `answers` holds one answer per question, in the role's order.
pub fn score(
    role: &RoleConfig,
    lexicon: &Lexicon,
    answers: &[Answer],
) -> Result<ScreeningResult, ScoringError> {
    if answers.len() != role.questions.len() {
        return Err(ScoringError::AnswerCount {
            role: role.id.clone(),
            expected: role.questions.len(),
            given: answers.len(),
        });
    }
    let mut reasons = Vec::new();
    let mut knockouts = Vec::new();
    let mut found: Vec<(String, Evidence)> = Vec::new();
    let mut summaries = Vec::new();
    let mut availability = None;
    for (i, (q, a)) in role.questions.iter().zip(answers).enumerate() {
        if q.id != a.question_id {
            return Err(ScoringError::QuestionMismatch {
                position: i + 1,
                expected: q.id.clone(),
                given: a.question_id.clone(),
            });
        }
        let tokens = a.response.tokens();
        summaries.push(AnswerSummary {
            question_id: q.id.clone(),
            source: a.response.source().to_string(),
            transcript: a.response.transcript(),
            asr_confidence: a.response.asr_confidence(),
            units: units(&tokens),
        });
        if q.kind == QuestionKind::Availability {
            // For rostering, never for a score or a review: read it and move on.
            availability = match &a.response {
                Response::Chose { availability } => Some(availability.clone()),
                _ => lexicon.read_availability(&tokens).or(availability),
            };
            continue;
        }
        let evidence = score_question(role, lexicon, q, &a.response, &tokens, &mut reasons);
        for (rule, (_, e)) in q.rules.iter().zip(&evidence) {
            // A clear "no": scored, and every cue heard says no.
            if let RuleConfig::Intent { required: true, .. } = rule
                && e.score.is_some()
                && !e.matches.is_empty()
                && !e.matches.iter().any(|m| m.meaning != "no")
            {
                knockouts.push(Knockout {
                    question_id: q.id.clone(),
                    message: format!("must-have `{}` answered no: {}", q.id, e.explanation),
                });
            }
        }
        found.extend(evidence);
    }

    let mut dimensions = Vec::new();
    let mut weighted = 0.0;
    let mut complete = true;
    for d in &role.dimensions {
        let evidence: Vec<Evidence> = found
            .iter()
            .filter(|(id, _)| *id == d.id)
            .map(|(_, e)| e.clone())
            .collect();
        let (sum, w) = evidence
            .iter()
            .filter_map(|e| e.score.map(|s| (s * e.weight, e.weight)))
            .fold((0.0, 0.0), |(a, b), (s, w)| (a + s, b + w));
        let value = (w > 0.0).then(|| sum / w);
        match value {
            Some(v) => weighted += v * d.weight as f64 / 100.0,
            None => {
                complete = false;
                reasons.push(Reason {
                    code: ReasonCode::DimensionUnscored,
                    question_id: None,
                    dimension: Some(d.id.clone()),
                    value: None,
                    message: format!(
                        "no usable evidence for `{}`: a person has to judge it",
                        d.id
                    ),
                });
            }
        }
        dimensions.push(DimensionScore {
            id: d.id.clone(),
            score: value.map(round_score),
            weight: d.weight.clamp(0, 100) as u8,
            evidence,
        });
    }
    let total = complete.then(|| round_score(weighted));
    let pass_threshold = role.pass_threshold.clamp(0, 100) as u8;
    let recommendation = match total {
        _ if !reasons.is_empty() => Recommendation::Review,
        _ if !knockouts.is_empty() => Recommendation::NotRecommended,
        Some(t) if t >= pass_threshold => Recommendation::Advance,
        Some(_) => Recommendation::NotRecommended,
        None => Recommendation::Review,
    };
    Ok(ScreeningResult {
        role: role.id.clone(),
        total,
        pass_threshold,
        recommendation,
        status: Status::AwaitingReview,
        reasons,
        knockouts,
        dimensions,
        answers: summaries,
        video: None,
        availability,
    })
}

/// Attaches the camera's presence report. It never changes a score; when the candidate was
/// rarely visible or someone else appeared, the result goes to review with the reason.
pub fn apply_video(result: &mut ScreeningResult, video: VideoSummary) {
    let mut add = |code, ratio: f32, message: String| {
        result.reasons.push(Reason {
            code,
            question_id: None,
            dimension: None,
            value: Some((f64::from(ratio) * 100.0).round()),
            message,
        })
    };
    if video.frames > 0 && video.face_present_ratio < 0.5 {
        add(
            ReasonCode::NotVisible,
            video.face_present_ratio,
            format!(
                "the camera saw the candidate in only {:.0}% of frames",
                video.face_present_ratio * 100.0
            ),
        );
    }
    if video.multiple_faces_ratio > 0.2 {
        add(
            ReasonCode::MultiplePeople,
            video.multiple_faces_ratio,
            format!(
                "more than one person was on camera in {:.0}% of frames",
                video.multiple_faces_ratio * 100.0
            ),
        );
    }
    if !result.reasons.is_empty() {
        result.recommendation = Recommendation::Review;
    }
    result.video = Some(video);
}

fn round_score(v: f64) -> u8 {
    v.round().clamp(0.0, 100.0) as u8
}

/// Applies every rule of one question; returns (dimension, evidence) pairs and adds reasons.
fn score_question(
    role: &RoleConfig,
    lexicon: &Lexicon,
    q: &QuestionConfig,
    response: &Response,
    tokens: &[Located],
    reasons: &mut Vec<Reason>,
) -> Vec<(String, Evidence)> {
    let reason = |code, message: String| Reason {
        code,
        question_id: Some(q.id.clone()),
        dimension: None,
        value: None,
        message,
    };
    let blocked = match assess(&role.scoring, response) {
        Quality::Usable => None,
        Quality::NoSpeech => Some(reason(
            ReasonCode::NoSpeech,
            format!("no answer to `{}`", q.id),
        )),
        Quality::LowConfidence(c) => Some(Reason {
            value: Some((f64::from(c) * 100.0).round() / 100.0),
            ..reason(
                ReasonCode::LowConfidence,
                format!(
                    "the transcript of `{}` is unreliable (confidence {c:.2} below {:.2}): listen to the recording",
                    q.id, role.scoring.min_asr_confidence
                ),
            )
        }),
    };
    if let Some(r) = blocked {
        let why = r.message.clone();
        reasons.push(r);
        return q.rules.iter().map(|rule| unscored(q, rule, &why)).collect();
    }

    let out: Vec<(String, Evidence)> = q
        .rules
        .iter()
        .map(|rule| apply(lexicon, q, rule, response, tokens))
        .collect();
    // "没有" or "yes" is short but a complete answer: only unrecognised short answers are doubtful.
    let anything_recognised = out.iter().any(|(_, e)| !e.matches.is_empty())
        || lexicon.read(tokens).intent != Intent::Unknown;
    let n = units(tokens);
    if !matches!(response, Response::Tapped { .. })
        && n < role.scoring.min_units
        && !anything_recognised
    {
        let why = format!("the answer to `{}` is too short to judge ({n} words)", q.id);
        reasons.push(Reason {
            value: Some(n as f64),
            ..reason(ReasonCode::TooShort, why.clone())
        });
        return q.rules.iter().map(|rule| unscored(q, rule, &why)).collect();
    }
    for (_, e) in &out {
        if e.rule == "intent" && e.score.is_none() {
            let code = if e.matches.iter().any(|m| m.by_sound.is_some()) {
                ReasonCode::RefusalBySound
            } else {
                ReasonCode::UnclearIntent
            };
            reasons.push(reason(code, e.explanation.clone()));
        }
    }
    out
}

fn unscored(q: &QuestionConfig, rule: &RuleConfig, why: &str) -> (String, Evidence) {
    (
        rule.dimension().to_string(),
        Evidence {
            question_id: q.id.clone(),
            rule: rule.kind().to_string(),
            score: None,
            weight: rule.weight(),
            matches: Vec::new(),
            metric: None,
            explanation: format!("not scored: {why}"),
        },
    )
}

fn apply(
    lexicon: &Lexicon,
    q: &QuestionConfig,
    rule: &RuleConfig,
    response: &Response,
    tokens: &[Located],
) -> (String, Evidence) {
    let at = |start: usize| {
        tokens
            .get(start)
            .and_then(|t| response.segment_start_ms(t.segment))
    };
    let mut e = Evidence {
        question_id: q.id.clone(),
        rule: rule.kind().to_string(),
        score: None,
        weight: rule.weight(),
        matches: Vec::new(),
        metric: None,
        explanation: String::new(),
    };
    match rule {
        RuleConfig::Intent { yes, no, hedge, .. } => {
            let intent = match response {
                Response::Tapped { yes: tapped } => {
                    let (intent, word) = if *tapped {
                        (Intent::Yes, "yes")
                    } else {
                        (Intent::No, "no")
                    };
                    e.matches.push(PhraseMatch {
                        phrase: format!("tapped {word}"),
                        meaning: word.to_string(),
                        at_ms: None,
                        by_sound: None,
                    });
                    (intent, false)
                }
                _ => {
                    let reading = lexicon.read(tokens);
                    e.matches = reading
                        .cues
                        .iter()
                        .map(|c| PhraseMatch {
                            phrase: c.text.clone(),
                            meaning: polarity_name(c.polarity).to_string(),
                            at_ms: at(c.start),
                            by_sound: c.by_sound.clone(),
                        })
                        .collect();
                    (reading.intent, reading.no_rests_on_sound)
                }
            };
            let (intent, by_sound_only) = intent;
            e.score = match intent {
                _ if by_sound_only => None,
                Intent::Yes => Some(*yes),
                Intent::No => Some(*no),
                Intent::Hedge => Some(*hedge),
                Intent::Unknown => None,
            };
            let heard = e
                .matches
                .iter()
                .map(|m| match &m.by_sound {
                    Some(like) => format!("\u{201c}{}\u{201d} (by sound: {like})", m.phrase),
                    None => format!("\u{201c}{}\u{201d}", m.phrase),
                })
                .collect::<Vec<_>>();
            e.explanation = match e.score {
                Some(s) => format!(
                    "answered {} ({}) → {s}",
                    intent_name(intent),
                    heard.join(", ")
                ),
                None if by_sound_only => format!(
                    "the answer to `{}` reads as {} only by sound ({}): listen to the recording",
                    q.id,
                    intent_name(intent),
                    heard.join(", ")
                ),
                None => format!(
                    "could not tell whether the answer to `{}` means yes or no",
                    q.id
                ),
            };
        }
        RuleConfig::Keywords {
            base, max, groups, ..
        } => {
            let set = PhraseSet::new(
                groups
                    .iter()
                    .enumerate()
                    .flat_map(|(gi, g)| g.phrases.iter().map(move |p| (p.clone(), gi))),
            );
            let mut counted = vec![false; groups.len()];
            let mut total = *base;
            for hit in set.find(tokens) {
                let g = &groups[hit.tag];
                e.matches.push(PhraseMatch {
                    phrase: hit.text.clone(),
                    meaning: g.label.clone(),
                    at_ms: at(hit.start),
                    by_sound: hit.by_sound.clone(),
                });
                if !counted[hit.tag] {
                    counted[hit.tag] = true;
                    total += g.points;
                }
            }
            let s = total.min(*max).clamp(0.0, 100.0);
            e.score = Some(s);
            let labels: Vec<&str> = groups
                .iter()
                .zip(&counted)
                .filter(|(_, c)| **c)
                .map(|(g, _)| g.label.as_str())
                .collect();
            e.explanation = if labels.is_empty() {
                format!("mentioned none of the expected points → base {base}")
            } else {
                format!("mentioned {} → {s}", labels.join(", "))
            };
        }
        RuleConfig::Metric { metric, curve, .. } => match measure(*metric, response, tokens) {
            Some(v) => {
                let s = along(curve, v);
                e.score = Some(s);
                e.metric = Some(MetricValue {
                    name: metric.name().to_string(),
                    value: v,
                });
                e.explanation = format!("{} {v:.1} → {s:.0}", metric.name());
            }
            None => {
                e.explanation = format!(
                    "not scored: {} is not measured for a {} answer",
                    metric.name(),
                    response.source()
                )
            }
        },
    }
    (rule.dimension().to_string(), e)
}

fn measure(metric: Metric, response: &Response, tokens: &[Located]) -> Option<f64> {
    let n = units(tokens) as f64;
    let Response::Spoken { metrics, .. } = response else {
        return (metric == Metric::Units && !matches!(response, Response::Tapped { .. }))
            .then_some(n);
    };
    match metric {
        Metric::Units => Some(n),
        Metric::SpeechRate => {
            (metrics.speech_ms > 0).then(|| n * 60_000.0 / metrics.speech_ms as f64)
        }
        Metric::LatencyS => metrics.latency_ms.map(|ms| ms as f64 / 1000.0),
        Metric::SpeakingS => Some(metrics.speech_ms as f64 / 1000.0),
        Metric::PauseRatio => metrics.pause_ratio.map(f64::from),
    }
}

/// Piecewise-linear interpolation along `[value, score]` points, clamped at both ends.
pub fn along(curve: &[[f64; 2]], v: f64) -> f64 {
    let (Some(first), Some(last)) = (curve.first(), curve.last()) else {
        return 0.0;
    };
    if v <= first[0] {
        return first[1];
    }
    if v >= last[0] {
        return last[1];
    }
    for w in curve.windows(2) {
        let ([x0, y0], [x1, y1]) = (w[0], w[1]);
        if v <= x1 {
            return y0 + (y1 - y0) * (v - x0) / (x1 - x0);
        }
    }
    last[1]
}

fn polarity_name(p: Polarity) -> &'static str {
    match p {
        Polarity::Yes => "yes",
        Polarity::No => "no",
        Polarity::Hedge => "hedge",
        Polarity::Negator => "negator",
    }
}

fn intent_name(i: Intent) -> &'static str {
    match i {
        Intent::Yes => "yes",
        Intent::No => "no",
        Intent::Hedge => "hedged",
        Intent::Unknown => "unclear",
    }
}
