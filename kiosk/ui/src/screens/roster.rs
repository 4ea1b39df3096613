//! The new hires' first-week rosters as the cloud's rostering system sent them (inbox kind
//! `roster`): who and which week, each shift with its buddy, the shifts still open and why.
//! Only current rosters: cancelled ones and past weeks drop off.

use bevy::prelude::*;

use super::{Redraw, View};

use crate::app::{Db, FromDb};
use crate::roster_text::{RosterText, roster_text};
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

fn build(commands: &mut Commands, v: &View) {
    let (cfg, visit) = (&*v.cfg, &*v.visit);
    let view = &*v.manager;
    let l = visit.locale.as_str();
    let today = chrono::Local::now().date_naive();
    let current: Vec<RosterText> = view
        .rosters
        .iter()
        .filter_map(|(key, body)| roster_text(key, body, &cfg.strings, l, today))
        .collect();
    theme::root(commands, Screen::Roster).with_children(|p| {
        tabs(p, cfg, l, Screen::Roster);
        theme::text(p, cfg.t(l, "manager_roster"), 5.0, theme::ACCENT);
        if current.is_empty() {
            theme::text(p, cfg.t(l, "roster_none"), 3.2, theme::MUTED);
        }
        for r in current.iter().take(3) {
            theme::wide_panel(p, |p| {
                theme::text(p, r.title.clone(), 3.4, theme::FG);
                if r.shifts.is_empty() {
                    theme::text(p, cfg.t(l, "roster_no_shifts"), 2.6, theme::MUTED);
                }
                for line in &r.shifts {
                    theme::text(p, line.clone(), 2.6, theme::FG);
                }
                if !r.open.is_empty() {
                    theme::text(p, cfg.t(l, "roster_open"), 2.6, theme::ACCENT);
                }
                for (shift, why) in r.open.iter().take(4) {
                    theme::text(p, shift.clone(), 2.4, theme::FG);
                    theme::text(p, why.clone(), 2.2, theme::MUTED);
                }
                if let Some(n) = &r.note {
                    theme::text(p, n.clone(), 2.2, theme::MUTED);
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
