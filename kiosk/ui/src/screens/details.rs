//! Candidate details with an on-screen keypad (name, phone; a hardware keyboard works too) and
//! the role choice.

use bevy::input::keyboard::{Key, KeyboardInput};
use bevy::prelude::*;

use super::{Redraw, View};

use crate::action::Action;
use crate::state::{Field, Rebuild, Screen, Visit};
use crate::theme::{self, Kind};

/// The details screen.
#[derive(Debug)]
pub struct DetailsPlugin;

impl Plugin for DetailsPlugin {
    fn build(&self, app: &mut App) {
        super::register(app, Screen::Details, build);
        app.add_systems(
            Update,
            (keyboard, handle)
                .chain()
                .before(Redraw)
                .run_if(in_state(Screen::Details)),
        );
    }
}

/// Longest name and phone accepted.
const MAX_NAME: usize = 40;
const MAX_PHONE: usize = 15;

fn field(p: &mut ChildSpawnerCommands, label: String, value: &str, f: Field, focused: bool) {
    let shown = if focused {
        format!("{label}: {value}_")
    } else {
        format!("{label}: {value}")
    };
    let kind = if focused {
        Kind::Selected
    } else {
        Kind::Secondary
    };
    theme::button(p, shown, Action::Focus(f), kind);
}

fn build(commands: &mut Commands, v: &View) {
    let (cfg, visit) = (&*v.cfg, &*v.visit);
    let l = visit.locale.as_str();
    theme::root(commands, Screen::Details).with_children(|p| {
        theme::text(p, cfg.t(l, "details_title"), 5.5, theme::ACCENT);
        theme::row(p, 2.0, |p| {
            field(
                p,
                cfg.t(l, "details_name"),
                &visit.name,
                Field::Name,
                visit.field == Field::Name,
            );
            field(
                p,
                cfg.t(l, "details_phone"),
                &visit.phone,
                Field::Phone,
                visit.field == Field::Phone,
            );
        });
        let keys: &[&str] = match visit.field {
            Field::Name => &["QWERTYUIOP", "ASDFGHJKL", "ZXCVBNM"],
            Field::Phone => &["123", "456", "789", "0"],
        };
        theme::panel(p, |p| {
            for line in keys {
                theme::row(p, 1.0, |p| {
                    for c in line.chars() {
                        theme::button(p, c.to_string(), Action::Key(c), Kind::Key);
                    }
                });
            }
            theme::row(p, 1.0, |p| {
                if visit.field == Field::Name {
                    theme::button(p, cfg.t(l, "key_space"), Action::Key(' '), Kind::Key);
                }
                theme::button(p, cfg.t(l, "key_delete"), Action::Backspace, Kind::Key);
            });
        });
        theme::text(p, cfg.t(l, "details_role"), 3.2, theme::MUTED);
        theme::row(p, 2.0, |p| {
            for r in &cfg.roles {
                let kind = if visit.role.as_deref() == Some(r.id.as_str()) {
                    Kind::Selected
                } else {
                    Kind::Secondary
                };
                theme::button(p, r.name.get(l), Action::Role(r.id.clone()), kind);
            }
        });
        if let Some(n) = &visit.notice {
            theme::text(p, cfg.t(l, n), 3.0, theme::WARN);
        }
        theme::button(p, cfg.t(l, "details_next"), Action::Next, Kind::Primary);
    });
}

/// A hardware keyboard types into the focused field (handy for staff and for names in pinyin).
fn keyboard(mut keys: MessageReader<KeyboardInput>, mut out: MessageWriter<Action>) {
    for k in keys.read().filter(|k| k.state.is_pressed()) {
        match &k.logical_key {
            Key::Character(s) => s.chars().for_each(|c| {
                out.write(Action::Key(c));
            }),
            Key::Space => {
                out.write(Action::Key(' '));
            }
            Key::Backspace => {
                out.write(Action::Backspace);
            }
            Key::Tab => {
                out.write(Action::Focus(Field::Phone));
            }
            Key::Enter => {
                out.write(Action::Next);
            }
            _ => {}
        }
    }
}

/// True when the details are enough to go on.
pub fn complete(visit: &Visit) -> bool {
    !visit.name.trim().is_empty()
        && visit.phone.chars().filter(char::is_ascii_digit).count() >= 7
        && visit.role.is_some()
}

fn handle(
    mut actions: MessageReader<Action>,
    mut visit: ResMut<Visit>,
    mut rebuild: ResMut<Rebuild>,
    mut next: ResMut<NextState<Screen>>,
) {
    for a in actions.read() {
        match a {
            Action::Focus(f) => visit.field = *f,
            Action::Key(c) => match visit.field {
                Field::Name if visit.name.chars().count() < MAX_NAME && !c.is_control() => {
                    visit.name.push(*c)
                }
                Field::Phone if visit.phone.len() < MAX_PHONE && c.is_ascii_digit() => {
                    visit.phone.push(*c)
                }
                _ => {}
            },
            Action::Backspace => {
                match visit.field {
                    Field::Name => visit.name.pop(),
                    Field::Phone => visit.phone.pop(),
                };
            }
            Action::Role(r) => visit.role = Some(r.clone()),
            Action::Next if complete(&visit) => {
                visit.notice = None;
                next.set(Screen::DeviceCheck);
            }
            Action::Next => visit.notice = Some("details_missing".into()),
            _ => continue,
        }
        rebuild.0 = true;
    }
}
