//! Today's interviews for the store manager (time, name, role, total, suggestion, sync state),
//! with tabs to device status and the roster, and sign-out.

use bevy::prelude::*;

use super::{Redraw, View};

use crate::action::Action;
use crate::app::{Config, Db, FromDb};
use crate::state::{ManagerView, Rebuild, Screen};
use crate::theme::{self, Kind};
use crate::workers::store::{StoreCmd, StoreEvent};

/// Today's interviews.
#[derive(Debug)]
pub struct ManagerPlugin;

impl Plugin for ManagerPlugin {
    fn build(&self, app: &mut App) {
        super::register(app, Screen::Manager, build);
        app.add_systems(OnEnter(Screen::Manager), query.before(Redraw))
            .add_systems(
                Update,
                (loaded)
                    .chain()
                    .before(Redraw)
                    .run_if(in_state(Screen::Manager)),
            )
            .add_systems(
                Update,
                navigate.run_if(|s: Res<State<Screen>>| s.get().is_manager()),
            );
    }
}

fn query(db: Res<Db>) {
    db.send(StoreCmd::Today);
}

/// The tab row shared by the manager screens.
pub fn tabs(p: &mut ChildSpawnerCommands, cfg: &Config, l: &str, current: Screen) {
    theme::row(p, 1.5, |p| {
        for (screen, key) in [
            (Screen::Manager, "manager_today"),
            (Screen::Status, "manager_status"),
            (Screen::Roster, "manager_roster"),
        ] {
            let kind = if screen == current {
                Kind::Selected
            } else {
                Kind::Secondary
            };
            theme::button(p, cfg.t(l, key), Action::Tab(screen), kind);
        }
        theme::button(
            p,
            cfg.t(l, "manager_logout"),
            Action::Logout,
            Kind::Secondary,
        );
    });
}

/// The suggestion's label key.
pub fn recommendation_key(rec: &str) -> &'static str {
    match rec {
        "advance" => "rec_advance",
        "not_recommended" => "rec_not_recommended",
        _ => "rec_review",
    }
}

/// The manager's latest decision on a listed result, with its time ("advanced by the store
/// manager 16:05"), or the model's suggestion while none has been made.
pub fn decision_or_suggestion(cfg: &Config, l: &str, r: &kiosk_store::ResultRow) -> String {
    let key = match r.decision.as_deref() {
        Some("advance") => "listed_advanced",
        Some("reject") => "listed_rejected",
        Some("keep") => "listed_kept",
        _ => return cfg.t(l, recommendation_key(&r.recommendation)),
    };
    let at = r
        .decided_at
        .as_deref()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| {
            t.with_timezone(&chrono::Local)
                .format("%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_default();
    cfg.strings.fill(l, key, &[("time", &at)])
}

fn build(commands: &mut Commands, v: &View) {
    let (cfg, visit) = (&*v.cfg, &*v.visit);
    let view = &*v.manager;
    let l = visit.locale.as_str();
    theme::root(commands, Screen::Manager).with_children(|p| {
        tabs(p, cfg, l, Screen::Manager);
        theme::text(p, cfg.t(l, "manager_today"), 5.0, theme::ACCENT);
        if let Some(m) = &view.message {
            theme::text(p, m.clone(), 3.0, theme::WARN);
        }
        if view.today.is_empty() {
            theme::text(p, cfg.t(l, "manager_empty"), 3.4, theme::MUTED);
        }
        for r in view.today.iter().take(12) {
            let time = r.completed_at.get(11..16).unwrap_or("");
            let role = cfg
                .role(&r.role)
                .map_or(r.role.clone(), |x| x.name.get(l).to_string());
            let total = r.total.map_or("—".to_string(), |t| t.to_string());
            let sync = cfg.t(
                l,
                if r.synced {
                    "manager_synced"
                } else {
                    "manager_unsynced"
                },
            );
            let label = format!(
                "{time}  {}  ·  {role}  ·  {total}  ·  {}  ·  {sync}",
                r.candidate.as_deref().unwrap_or("?"),
                decision_or_suggestion(cfg, l, r),
            );
            theme::button(
                p,
                label,
                Action::Open(r.interview_id.clone()),
                Kind::Secondary,
            );
        }
    });
}

fn loaded(
    mut from_db: MessageReader<FromDb>,
    mut view: ResMut<ManagerView>,
    mut rebuild: ResMut<Rebuild>,
) {
    for m in from_db.read() {
        match &m.0 {
            StoreEvent::Today(rows) => view.today.clone_from(rows),
            StoreEvent::Failed(e) => view.message = Some(e.clone()),
            _ => continue,
        }
        rebuild.0 = true;
    }
}

/// Tabs, opening an interview and signing out, on every manager screen.
fn navigate(
    mut actions: MessageReader<Action>,
    mut view: ResMut<ManagerView>,
    db: Res<Db>,
    mut next: ResMut<NextState<Screen>>,
) {
    for a in actions.read() {
        match a {
            Action::Tab(s) => next.set(*s),
            Action::Open(id) => {
                view.detail = None;
                view.reason = None;
                view.message = None;
                view.review_scroll = 0.0;
                db.send(StoreCmd::Detail(id.clone()));
                next.set(Screen::Review);
            }
            Action::Logout => {
                db.send(StoreCmd::Audit("logout".into()));
                next.set(Screen::Attract);
            }
            _ => {}
        }
    }
}
