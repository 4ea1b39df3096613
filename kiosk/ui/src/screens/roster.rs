//! The new hire's first-week roster as the cloud's rostering system sent it (inbox kind
//! `roster`): employee, then each shift with its start, end, location and skill.

use bevy::prelude::*;

use super::{Redraw, View};
use serde_json::Value;

use crate::app::{Db, FromDb};
use crate::screens::manager::tabs;
use crate::state::{ManagerView, Rebuild, Screen};
use crate::theme;
use crate::workers::store::{StoreCmd, StoreEvent};

/// The roster screen.
#[derive(Debug)]
pub struct RosterPlugin;

impl Plugin for RosterPlugin {
    fn build(&self, app: &mut App) {
        super::register(app, Screen::Roster, build);
        app.add_systems(OnEnter(Screen::Roster), query.before(Redraw))
            .add_systems(
                Update,
                (loaded)
                    .chain()
                    .before(Redraw)
                    .run_if(in_state(Screen::Roster)),
            );
    }
}

fn query(db: Res<Db>) {
    db.send(StoreCmd::Rosters);
}

/// One line per shift: `start – end  location  (skill)`, from the roster body.
pub fn shift_lines(body: &Value) -> Vec<String> {
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    body.get("shifts")
        .and_then(Value::as_array)
        .map(|shifts| {
            shifts
                .iter()
                .map(|x| {
                    let skill = s(x, "skill");
                    let skill = if skill.is_empty() {
                        String::new()
                    } else {
                        format!("  ({skill})")
                    };
                    format!(
                        "{} – {}  {}{skill}",
                        s(x, "start"),
                        s(x, "end"),
                        s(x, "location")
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn build(commands: &mut Commands, v: &View) {
    let (cfg, visit) = (&*v.cfg, &*v.visit);
    let view = &*v.manager;
    let l = visit.locale.as_str();
    theme::root(commands, Screen::Roster).with_children(|p| {
        tabs(p, cfg, l, Screen::Roster);
        theme::text(p, cfg.t(l, "manager_roster"), 5.0, theme::ACCENT);
        if view.rosters.is_empty() {
            theme::text(p, cfg.t(l, "roster_none"), 3.2, theme::MUTED);
        }
        for (key, body) in view.rosters.iter().take(4) {
            theme::panel(p, |p| {
                let who = body
                    .get("employee")
                    .and_then(|e| e.get("name").or(e.get("value")))
                    .and_then(Value::as_str)
                    .unwrap_or(key);
                theme::text(p, who.to_string(), 3.4, theme::FG);
                for line in shift_lines(body) {
                    theme::text(p, line, 2.6, theme::MUTED);
                }
            });
        }
    });
}

fn loaded(
    mut from_db: MessageReader<FromDb>,
    mut view: ResMut<ManagerView>,
    mut rebuild: ResMut<Rebuild>,
) {
    for m in from_db.read() {
        if let StoreEvent::Rosters(r) = &m.0 {
            view.rosters.clone_from(r);
            rebuild.0 = true;
        }
    }
}
