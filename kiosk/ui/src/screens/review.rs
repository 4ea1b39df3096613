//! One interview for the store manager: dimension scores with the evidence behind each, the
//! transcript of every answer with its audio, the camera report, and the decision buttons (a
//! person decides; the decision goes to the store and the outbox).

use bevy::prelude::*;

use super::{Redraw, View};
use kiosk_store::{Decision, InterviewDetail};

use crate::action::Action;
use crate::app::{Config, Db, FromDb};
use crate::evidence::Explain;
use crate::screens::manager::{decision_or_suggestion, tabs};
use crate::state::{ManagerView, Rebuild, Screen, Visit};
use crate::theme::{self, Kind};
use crate::workers::store::{StoreCmd, StoreEvent};

/// The review screen.
#[derive(Debug)]
pub struct ReviewPlugin;

impl Plugin for ReviewPlugin {
    fn build(&self, app: &mut App) {
        super::register(app, Screen::Review, build);
        // The scroll input (present with the window's input plugin; registered here too, so
        // the screen also runs headless under MinimalPlugins).
        app.add_message::<bevy::input::mouse::MouseWheel>()
            .init_resource::<Touches>();
        app.init_resource::<Playback>().add_systems(
            Update,
            (handle, playback, loaded, scroll)
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
        row_gap: Val::Vh(0.8),
        width: Val::Percent(49.0),
        flex_shrink: 0.0,
        ..default()
    })
    .with_children(build);
}

/// Left-aligned text that keeps its full height (a wrapped line is never squeezed under the
/// next one: the area scrolls instead).
fn left(p: &mut ChildSpawnerCommands, s: impl Into<String>, size: f32, color: Color) {
    let e = theme::text(p, s, size, color);
    p.commands().entity(e).insert((
        TextLayout::justify(Justify::Left),
        Node {
            max_width: Val::Percent(100.0),
            flex_shrink: 0.0,
            ..default()
        },
    ));
}

/// The scrolling part of the review (evidence, transcripts, camera report).
#[derive(Component, Debug)]
pub struct ReviewScroll;

/// Smallest type on the review screen, in % of the screen height: read at arm's length
/// (22 px at 800 lines, 30 px at 1080).
const SMALL: f32 = 2.7;

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
    let ex = Explain {
        strings: &cfg.strings,
        role,
        locale: l,
    };
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
            decision_or_suggestion(cfg, l, &d.row)
        ),
        3.4,
        theme::ACCENT,
    );
    p.spawn((
        ReviewScroll,
        // Where the manager had scrolled to: a redraw (play, a reason, a decision) keeps it.
        ScrollPosition(Vec2::new(0.0, view.review_scroll)),
        Interaction::default(),
        Node {
            width: Val::Percent(100.0),
            flex_grow: 1.0,
            flex_basis: Val::Px(0.0),
            min_height: Val::Px(0.0),
            overflow: Overflow::scroll_y(),
            flex_direction: FlexDirection::Row,
            justify_content: JustifyContent::SpaceBetween,
            align_items: AlignItems::FlexStart,
            ..default()
        },
    ))
    .with_children(|p| {
        column(p, |p| evidence(p, &ex, d));
        column(p, |p| answers(p, cfg, &ex, l, d));
    });
    if let Some(m) = &view.message {
        theme::text(p, m.clone(), 2.8, theme::WARN);
    }
    if let Some(dec) = d.decisions.last() {
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
            2.8,
            theme::OK,
        );
    }
    theme::row(p, 1.0, |p| {
        theme::text(p, cfg.t(l, "review_decide"), 2.8, theme::FG);
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
        // Deletion on the candidate's request; a second tap confirms.
        let (key, kind) = if view.forget_armed {
            ("review_forget_confirm", Kind::Selected)
        } else {
            ("review_forget", Kind::Key)
        };
        theme::button(p, cfg.t(l, key), Action::Forget, kind);
    });
}

/// Dimensions with the evidence behind each, then why it needs review.
fn evidence(p: &mut ChildSpawnerCommands, ex: &Explain, d: &InterviewDetail) {
    for dim in &d.result.dimensions {
        let score = dim.score.map_or("—".into(), |s| s.to_string());
        left(
            p,
            format!("{} ({}%): {score}", ex.dimension(&dim.id), dim.weight),
            3.0,
            theme::FG,
        );
        for e in &dim.evidence {
            left(p, format!("· {}", ex.evidence(e)), SMALL, theme::MUTED);
        }
    }
    if !d.result.reasons.is_empty() || !d.result.knockouts.is_empty() {
        left(
            p,
            ex.strings.get(ex.locale, "review_reasons"),
            3.0,
            theme::WARN,
        );
    }
    for r in &d.result.reasons {
        left(p, format!("· {}", ex.reason(r)), SMALL, theme::WARN);
    }
    for k in &d.result.knockouts {
        left(p, format!("· {}", ex.knockout(k)), SMALL, theme::WARN);
    }
}

/// Each question with its transcript and audio, then the camera report.
fn answers(p: &mut ChildSpawnerCommands, cfg: &Config, ex: &Explain, l: &str, d: &InterviewDetail) {
    for a in &d.answers {
        left(p, ex.question(&a.question_id), 3.0, theme::FG);
        let conf = a
            .asr_confidence
            .map(|c| format!(" ({:.0}%)", c * 100.0))
            .unwrap_or_default();
        left(p, format!("“{}”{conf}", a.transcript), SMALL, theme::MUTED);
        let media: Vec<_> = d
            .media
            .iter()
            .filter(|m| m.question_id.as_deref() == Some(&a.question_id))
            .collect();
        theme::row(p, 1.0, |p| {
            for (i, m) in media.iter().enumerate() {
                let label = if media.len() > 1 {
                    cfg.strings
                        .fill(l, "review_play_attempt", &[("n", &(i + 1).to_string())])
                } else {
                    format!("▶ {}", cfg.t(l, "review_play"))
                };
                theme::button(p, label, Action::Play(m.path.clone()), Kind::Key);
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
    left(p, video, SMALL, theme::MUTED);
    if let Some(a) = &d.result.availability {
        left(
            p,
            cfg.strings.fill(
                l,
                "review_availability",
                &[("when", &availability_words(cfg, l, a))],
            ),
            SMALL,
            theme::FG,
        );
    }
}

/// `早班、夜班 · 工作日` / `Mornings, Nights · Weekdays` (any time when unrestricted).
fn availability_words(cfg: &Config, l: &str, a: &kiosk_screening::Availability) -> String {
    use kiosk_screening::{DayKind, DayPart};
    let sep = if l.starts_with("zh") { "、" } else { ", " };
    let join = |keys: Vec<&str>, all: &str| {
        if keys.is_empty() {
            cfg.t(l, all)
        } else {
            keys.iter()
                .map(|k| cfg.t(l, k))
                .collect::<Vec<_>>()
                .join(sep)
        }
    };
    let parts = a
        .parts
        .iter()
        .map(|p| match p {
            DayPart::Morning => "availability_morning",
            DayPart::Afternoon => "availability_afternoon",
            DayPart::Night => "availability_night",
        })
        .collect();
    let days = a
        .days
        .iter()
        .map(|d| match d {
            DayKind::Weekdays => "availability_weekdays",
            DayKind::Weekend => "availability_weekend",
        })
        .collect();
    format!(
        "{} · {}",
        join(parts, "availability_any_time"),
        join(days, "availability_any_day")
    )
}

/// Scrolls the review's evidence with the mouse wheel or a finger drag, never past its ends
/// (Bevy clamps only what it draws: an unclamped offset would make the next scroll the other
/// way seem dead until it had been undone), and remembers where for the next redraw.
fn scroll(
    mut wheel: MessageReader<bevy::input::mouse::MouseWheel>,
    touches: Res<Touches>,
    mut areas: Query<(&mut ScrollPosition, &ComputedNode), With<ReviewScroll>>,
    mut view: ResMut<ManagerView>,
) {
    let mut dy: f32 = wheel
        .read()
        .map(|w| match w.unit {
            bevy::input::mouse::MouseScrollUnit::Line => -w.y * 40.0,
            bevy::input::mouse::MouseScrollUnit::Pixel => -w.y,
        })
        .sum();
    dy -= touches.iter().map(|t| t.delta().y).sum::<f32>();
    if dy == 0.0 {
        return;
    }
    for (mut pos, node) in &mut areas {
        let max = scroll_max(node);
        pos.y = (pos.y + dy).clamp(0.0, max);
        view.review_scroll = pos.y;
        tracing::info!(y = pos.y, max, "review evidence scrolled");
    }
}

/// How far an area can scroll (logical px): its content's height beyond its own.
fn scroll_max(node: &ComputedNode) -> f32 {
    ((node.content_size.y - node.size.y + node.scrollbar_size.y) * node.inverse_scale_factor)
        .max(0.0)
}

fn handle(
    mut actions: MessageReader<Action>,
    mut view: ResMut<ManagerView>,
    mut rebuild: ResMut<Rebuild>,
    mut playback: ResMut<Playback>,
    db: Res<Db>,
    cfg: Res<Config>,
) {
    for a in actions.read() {
        let armed = std::mem::take(&mut view.forget_armed);
        match a {
            Action::Forget if !armed => view.forget_armed = true,
            Action::Forget => {
                let Some(id) = view.detail.as_ref().map(|x| x.row.interview_id.clone()) else {
                    continue;
                };
                db.send(StoreCmd::Forget(id));
            }
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
                playback.0 = Some(std::sync::Mutex::new(
                    cfg.speaker
                        .play_answer(std::path::Path::new(path), &cfg.key_file),
                ));
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
    mut next: ResMut<NextState<Screen>>,
    cfg: Res<Config>,
    visit: Res<Visit>,
    db: Res<Db>,
) {
    for m in from_db.read() {
        match &m.0 {
            StoreEvent::Detail(d) => view.detail = Some(d.clone()),
            StoreEvent::Decided(id) => {
                view.reason = None;
                db.send(StoreCmd::Detail(id.clone()));
            }
            // Gone: back to today's list, which no longer shows them.
            StoreEvent::Forgotten(_) => {
                view.detail = None;
                view.message = Some(cfg.t(&visit.locale, "review_forgotten"));
                db.send(StoreCmd::Today);
                next.set(Screen::Manager);
            }
            StoreEvent::Failed(e) => view.message = Some(e.clone()),
            _ => continue,
        }
        rebuild.0 = true;
    }
}
