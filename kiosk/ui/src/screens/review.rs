//! One interview for the store manager: dimension scores with the evidence behind each, the
//! transcript of every answer with its audio, the camera report, and the decision buttons (a
//! person decides; the decision goes to the store and the outbox).

use bevy::prelude::*;

use super::{Redraw, View};
use kiosk_store::{Decision, InterviewDetail};

use crate::action::Action;
use crate::app::{Config, Db, FromDb};
use crate::screens::manager::{recommendation_key, tabs};
use crate::state::{ManagerView, Rebuild, Screen};
use crate::theme::{self, Kind};
use crate::workers::store::{StoreCmd, StoreEvent};

/// The review screen.
#[derive(Debug)]
pub struct ReviewPlugin;

impl Plugin for ReviewPlugin {
    fn build(&self, app: &mut App) {
        super::register(app, Screen::Review, build);
        app.init_resource::<Playback>().add_systems(
            Update,
            (handle, playback, loaded)
                .chain()
                .before(Redraw)
                .run_if(in_state(Screen::Review)),
        );
    }
}

/// Reasons a manager can give with one tap.
pub const REASONS: [&str; 4] = [
    "reason_fit",
    "reason_availability",
    "reason_call",
    "reason_other",
];

fn decision_key(d: Decision) -> &'static str {
    match d {
        Decision::Advance => "decide_advance",
        Decision::Reject => "decide_reject",
        Decision::Keep => "decide_keep",
    }
}

fn column(p: &mut ChildSpawnerCommands, build: impl FnOnce(&mut ChildSpawnerCommands)) {
    p.spawn(Node {
        flex_direction: FlexDirection::Column,
        align_items: AlignItems::FlexStart,
        row_gap: Val::Vh(0.6),
        width: Val::Percent(48.0),
        ..default()
    })
    .with_children(build);
}

fn left(p: &mut ChildSpawnerCommands, s: impl Into<String>, size: f32, color: Color) {
    let e = theme::text(p, s, size, color);
    p.commands()
        .entity(e)
        .insert(TextLayout::justify(Justify::Left));
}

fn build(commands: &mut Commands, v: &View) {
    let (cfg, visit) = (&*v.cfg, &*v.visit);
    let view = &*v.manager;
    let l = visit.locale.as_str();
    theme::root(commands, Screen::Review).with_children(|p| {
        tabs(p, cfg, l, Screen::Review);
        let Some(d) = view.detail.as_deref() else {
            theme::text(p, cfg.t(l, "question_wait"), 4.0, theme::MUTED);
            return;
        };
        body(p, cfg, l, d, view);
    });
}

fn body(
    p: &mut ChildSpawnerCommands,
    cfg: &Config,
    l: &str,
    d: &InterviewDetail,
    view: &ManagerView,
) {
    let role = cfg.role(&d.row.role);
    let role_name = role.map_or(d.row.role.clone(), |r| r.name.get(l).to_string());
    let total = d
        .result
        .total
        .map_or(cfg.t(l, "review_no_total"), |t| t.to_string());
    theme::text(
        p,
        format!(
            "{}  ·  {role_name}  ·  {} {total}  ·  {}",
            d.row.candidate.as_deref().unwrap_or("?"),
            cfg.t(l, "review_total"),
            cfg.t(l, recommendation_key(&d.row.recommendation))
        ),
        3.4,
        theme::ACCENT,
    );
    theme::row(p, 2.0, |p| {
        column(p, |p| {
            for dim in &d.result.dimensions {
                let name = role
                    .and_then(|r| r.dimension(&dim.id))
                    .map_or(dim.id.clone(), |x| x.name.get(l).to_string());
                let score = dim.score.map_or("—".into(), |s| s.to_string());
                left(
                    p,
                    format!("{name} ({}%): {score}", dim.weight),
                    2.6,
                    theme::FG,
                );
                for e in dim.evidence.iter().take(4) {
                    let phrases: Vec<String> = e
                        .matches
                        .iter()
                        .map(|m| format!("“{}”→{}", m.phrase, m.meaning))
                        .collect();
                    let metric = e
                        .metric
                        .as_ref()
                        .map(|m| format!(" {}={:.1}", m.name, m.value))
                        .unwrap_or_default();
                    left(
                        p,
                        format!(
                            "  · {} {}{metric} {}",
                            e.question_id,
                            e.rule,
                            phrases.join(" ")
                        ),
                        2.0,
                        theme::MUTED,
                    );
                }
            }
            if !d.result.reasons.is_empty() {
                left(p, cfg.t(l, "review_reasons"), 2.4, theme::WARN);
                for r in &d.result.reasons {
                    left(p, format!("  · {}", r.message), 2.0, theme::WARN);
                }
            }
            for k in &d.result.knockouts {
                left(p, format!("  · {}", k.message), 2.0, theme::WARN);
            }
        });
        column(p, |p| {
            for a in &d.answers {
                let prompt = role
                    .and_then(|r| r.questions.iter().find(|q| q.id == a.question_id))
                    .map_or(a.question_id.clone(), |q| q.prompt.get(l).to_string());
                left(p, prompt, 2.4, theme::FG);
                let conf = a
                    .asr_confidence
                    .map(|c| format!(" ({:.0}%)", c * 100.0))
                    .unwrap_or_default();
                left(p, format!("  “{}”{conf}", a.transcript), 2.2, theme::MUTED);
                theme::row(p, 1.0, |p| {
                    for m in d
                        .media
                        .iter()
                        .filter(|m| m.question_id.as_deref() == Some(&a.question_id))
                    {
                        let name = std::path::Path::new(&m.path)
                            .file_stem()
                            .and_then(|s| s.to_str())
                            .unwrap_or("");
                        theme::button(
                            p,
                            format!("▶ {} {name}", cfg.t(l, "review_play")),
                            Action::Play(m.path.clone()),
                            Kind::Key,
                        );
                    }
                });
            }
            let video = d
                .result
                .video
                .as_ref()
                .map_or(cfg.t(l, "review_no_video"), |v| {
                    let pct = |x: f32| format!("{:.0}", x * 100.0);
                    cfg.strings.fill(
                        l,
                        "review_video",
                        &[
                            ("present", &pct(v.face_present_ratio)),
                            ("many", &pct(v.multiple_faces_ratio)),
                            ("frontal", &pct(v.frontal_ratio)),
                        ],
                    )
                });
            left(p, video, 2.2, theme::MUTED);
        });
    });
    if let Some(m) = &view.message {
        theme::text(p, m.clone(), 2.6, theme::WARN);
    }
    for dec in &d.decisions {
        theme::text(
            p,
            cfg.strings.fill(
                l,
                "review_decided",
                &[
                    ("decision", &cfg.t(l, decision_key(dec.decision))),
                    ("reason", &cfg.t(l, &dec.reason)),
                ],
            ),
            2.6,
            theme::OK,
        );
    }
    theme::text(p, cfg.t(l, "review_decide"), 2.6, theme::FG);
    theme::row(p, 1.0, |p| {
        for r in REASONS {
            let kind = if view.reason == Some(r) {
                Kind::Selected
            } else {
                Kind::Key
            };
            theme::button(p, cfg.t(l, r), Action::Reason(r), kind);
        }
    });
    theme::row(p, 1.5, |p| {
        for dec in [Decision::Advance, Decision::Keep, Decision::Reject] {
            theme::button(
                p,
                cfg.t(l, decision_key(dec)),
                Action::Decide(dec),
                Kind::Secondary,
            );
        }
    });
}

fn handle(
    mut actions: MessageReader<Action>,
    mut view: ResMut<ManagerView>,
    mut rebuild: ResMut<Rebuild>,
    mut playback: ResMut<Playback>,
    db: Res<Db>,
) {
    for a in actions.read() {
        match a {
            Action::Reason(r) => view.reason = Some(r),
            Action::Decide(d) => {
                let Some(id) = view.detail.as_ref().map(|x| x.row.interview_id.clone()) else {
                    continue;
                };
                db.send(StoreCmd::Decide {
                    interview_id: id,
                    decision: *d,
                    reason: view.reason.unwrap_or("reason_other").to_string(),
                });
            }
            Action::Play(path) => {
                view.message = None;
                playback.0 = Some(std::sync::Mutex::new(crate::devices::play_wav(
                    std::path::Path::new(path),
                )));
            }
            _ => continue,
        }
        rebuild.0 = true;
    }
}

/// Answer playback starting (or failing) in the background.
#[derive(Resource, Debug, Default)]
struct Playback(Option<std::sync::Mutex<crate::devices::PlaybackStart>>);

fn playback(
    mut playback: ResMut<Playback>,
    mut view: ResMut<ManagerView>,
    mut rebuild: ResMut<Rebuild>,
) {
    let Some(rx) = playback.0.as_ref() else {
        return;
    };
    let got = rx.lock().ok().and_then(|r| r.try_recv().ok());
    if let Some(r) = got {
        playback.0 = None;
        match r {
            Ok(_) => tracing::info!("answer playback started"),
            Err(e) => {
                tracing::warn!("{e}");
                view.message = Some(e);
                rebuild.0 = true;
            }
        }
    }
}

fn loaded(
    mut from_db: MessageReader<FromDb>,
    mut view: ResMut<ManagerView>,
    mut rebuild: ResMut<Rebuild>,
    db: Res<Db>,
) {
    for m in from_db.read() {
        match &m.0 {
            StoreEvent::Detail(d) => view.detail = Some(d.clone()),
            StoreEvent::Decided(id) => {
                view.reason = None;
                db.send(StoreCmd::Detail(id.clone()));
            }
            StoreEvent::Failed(e) => view.message = Some(e.clone()),
            _ => continue,
        }
        rebuild.0 = true;
    }
}
