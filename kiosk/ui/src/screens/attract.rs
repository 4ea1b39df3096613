//! Attract screen: what this is ("1-minute job interview"), the roles this store is hiring for,
//! the language choice, and the hidden manager gesture (hold the top-left corner for 2 s); "out of
//! service" instead of the start button while answers could not be saved.

use std::time::{Duration, Instant};

use bevy::prelude::*;

use super::{Redraw, View};

use crate::action::Action;
use crate::app::{Asr, Cam, Config, Db, Mic};
use crate::state::{ManagerView, OutOfService, Rebuild, Screen, Visit};
use crate::theme::{self, Kind};
use crate::workers::camera::CameraCmd;
use crate::workers::capture::CaptureCmd;
use crate::workers::ears::EarsCmd;
use crate::workers::store::StoreCmd;

/// The attract screen.
#[derive(Debug)]
pub struct AttractPlugin;

impl Plugin for AttractPlugin {
    fn build(&self, app: &mut App) {
        super::register(app, Screen::Attract, build);
        app.add_systems(OnEnter(Screen::Attract), reset.before(Redraw))
            .add_systems(
                Update,
                (corner_gesture, handle)
                    .chain()
                    .before(Redraw)
                    .run_if(in_state(Screen::Attract)),
            );
    }
}

/// The invisible corner that opens the PIN pad when held.
#[derive(Component, Debug)]
struct ManagerCorner;

/// A fresh start: the previous visit is forgotten and the devices stop.
fn reset(
    cfg: Res<Config>,
    mut visit: ResMut<Visit>,
    mut view: ResMut<ManagerView>,
    mic: Res<Mic>,
    cam: Res<Cam>,
    db: Res<Db>,
) {
    mic.send(CaptureCmd::Stop);
    cam.send(CameraCmd::Stop);
    // The cloud's newest configuration is taken up here, between visits.
    db.send(StoreCmd::CloudConfig);
    *visit = Visit::new(&cfg.default_locale);
    *view = ManagerView::default();
}

fn build(commands: &mut Commands, v: &View) {
    let (cfg, visit) = (&*v.cfg, &*v.visit);
    let l = visit.locale.as_str();
    theme::root(commands, Screen::Attract).with_children(|p| {
        p.spawn((
            Button,
            ManagerCorner,
            Node {
                position_type: PositionType::Absolute,
                left: Val::Px(0.0),
                top: Val::Px(0.0),
                width: Val::Vh(12.0),
                height: Val::Vh(12.0),
                ..default()
            },
        ));
        theme::text(p, cfg.t(l, "attract_title"), 9.0, theme::ACCENT);
        theme::text(p, cfg.t(l, "attract_subtitle"), 3.6, theme::FG);
        theme::panel(p, |p| {
            theme::text(p, cfg.t(l, "attract_roles"), 3.0, theme::MUTED);
            for r in &cfg.roles {
                theme::text(p, r.name.get(l), 4.0, theme::FG);
            }
        });
        theme::row(p, 2.0, |p| {
            for (code, key) in [("zh-CN", "language_zh"), ("en", "language_en")] {
                let kind = if l == code {
                    Kind::Selected
                } else {
                    Kind::Secondary
                };
                theme::button(p, cfg.t(l, key), Action::Language(code), kind);
            }
        });
        match &v.service.0 {
            // Answers could not be saved: no interview starts (the manager gesture still works).
            Some(why) => theme::panel(p, |p| {
                theme::text(p, cfg.t(l, "out_of_service"), 5.0, theme::WARN);
                theme::text(p, cfg.t(l, "out_of_service_staff"), 3.4, theme::FG);
                theme::text(p, why.clone(), 2.7, theme::MUTED);
            }),
            None => {
                theme::button(p, cfg.t(l, "attract_start"), Action::Start, Kind::Primary);
            }
        }
    });
}

fn corner_gesture(
    corner: Query<&Interaction, With<ManagerCorner>>,
    mut held: Local<Option<Instant>>,
    mut out: MessageWriter<Action>,
) {
    let pressed = corner.iter().any(|i| *i == Interaction::Pressed);
    match (pressed, *held) {
        (true, None) => *held = Some(Instant::now()),
        (true, Some(t)) if t.elapsed() >= Duration::from_secs(2) => {
            *held = None;
            out.write(Action::Manager);
        }
        (false, _) => *held = None,
        _ => {}
    }
}

fn handle(
    mut actions: MessageReader<Action>,
    mut visit: ResMut<Visit>,
    mut rebuild: ResMut<Rebuild>,
    asr: Res<Asr>,
    service: Res<OutOfService>,
    mut next: ResMut<NextState<Screen>>,
) {
    for a in actions.read() {
        match a {
            Action::Language(code) => {
                visit.locale = (*code).to_string();
                asr.send(EarsCmd::Preload(visit.locale.clone()));
                rebuild.0 = true;
            }
            Action::Start if service.0.is_none() => next.set(Screen::Consent),
            Action::Manager => next.set(Screen::Pin),
            _ => {}
        }
    }
}
