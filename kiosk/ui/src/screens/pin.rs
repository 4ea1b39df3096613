//! The manager's PIN pad behind the hidden gesture: digits are checked against the argon2id hash
//! on the store worker, wrong PINs lock the pad for growing delays, every attempt is audited.

use bevy::prelude::*;

use super::{Redraw, View};

use crate::action::Action;
use crate::app::{Config, Db, FromDb};
use crate::state::{ManagerView, Rebuild, Screen, Visit};
use crate::theme::{self, Kind};
use crate::workers::store::{PinOutcome, StoreCmd, StoreEvent};

/// The PIN pad.
#[derive(Debug)]
pub struct PinPlugin;

impl Plugin for PinPlugin {
    fn build(&self, app: &mut App) {
        super::register(app, Screen::Pin, build);
        app.add_systems(
            Update,
            (handle, checked)
                .chain()
                .before(Redraw)
                .run_if(in_state(Screen::Pin)),
        );
    }
}

fn build(commands: &mut Commands, v: &View) {
    let (cfg, visit) = (&*v.cfg, &*v.visit);
    let view = &*v.manager;
    let l = visit.locale.as_str();
    theme::root(commands, Screen::Pin).with_children(|p| {
        theme::text(p, cfg.t(l, "pin_title"), 5.5, theme::ACCENT);
        let dots: String = "●".repeat(view.pin.len());
        theme::text(
            p,
            if dots.is_empty() {
                "—".to_string()
            } else {
                dots
            },
            6.0,
            theme::FG,
        );
        if let Some(m) = &view.pin_message {
            theme::text(p, m.clone(), 3.2, theme::WARN);
        }
        theme::panel(p, |p| {
            for line in [[1, 2, 3], [4, 5, 6], [7, 8, 9]] {
                theme::row(p, 1.5, |p| {
                    for d in line {
                        theme::button(p, d.to_string(), Action::PinDigit(d), Kind::Key);
                    }
                });
            }
            theme::row(p, 1.5, |p| {
                theme::button(p, cfg.t(l, "pin_clear"), Action::PinClear, Kind::Key);
                theme::button(p, "0", Action::PinDigit(0), Kind::Key);
                theme::button(p, cfg.t(l, "pin_enter"), Action::PinEnter, Kind::Key);
            });
        });
        theme::button(p, cfg.t(l, "cancel"), Action::Cancel, Kind::Secondary);
    });
}

fn handle(
    mut actions: MessageReader<Action>,
    mut view: ResMut<ManagerView>,
    mut rebuild: ResMut<Rebuild>,
    db: Res<Db>,
    mut next: ResMut<NextState<Screen>>,
) {
    for a in actions.read() {
        match a {
            Action::PinDigit(d) if view.pin.len() < 12 => view.pin.push(char::from(b'0' + d)),
            Action::PinClear => view.pin.clear(),
            Action::PinEnter => {
                let pin = std::mem::take(&mut view.pin);
                db.send(StoreCmd::CheckPin(pin));
            }
            Action::Cancel => {
                next.set(Screen::Attract);
                continue;
            }
            _ => continue,
        }
        rebuild.0 = true;
    }
}

fn checked(
    mut from_db: MessageReader<FromDb>,
    mut view: ResMut<ManagerView>,
    mut rebuild: ResMut<Rebuild>,
    cfg: Res<Config>,
    visit: Res<Visit>,
    mut next: ResMut<NextState<Screen>>,
) {
    let l = visit.locale.as_str();
    for m in from_db.read() {
        let StoreEvent::Pin(outcome) = &m.0 else {
            continue;
        };
        view.pin_message = match outcome {
            PinOutcome::Ok => {
                next.set(Screen::Manager);
                None
            }
            PinOutcome::Wrong { locked_for, .. } if locked_for.is_zero() => {
                Some(cfg.t(l, "pin_wrong"))
            }
            PinOutcome::Wrong { locked_for: d, .. } | PinOutcome::Locked(d) => Some(
                cfg.strings
                    .fill(l, "pin_locked", &[("s", &d.as_secs().max(1).to_string())]),
            ),
            PinOutcome::Unavailable(why) => Some(format!("{} {why}", cfg.t(l, "pin_unset"))),
        };
        rebuild.0 = true;
    }
}
