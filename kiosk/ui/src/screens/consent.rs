//! Notice and consent, before anything is recorded: what is recorded, that a local AI helps and a
//! person decides, retention and deletion, and a separate consent for the camera. Declining
//! everything returns to the start with nothing stored.

use bevy::prelude::*;

use super::{Redraw, View};

use crate::action::Action;
use crate::state::{Screen, Visit};
use crate::theme::{self, Kind};

/// The consent screen.
#[derive(Debug)]
pub struct ConsentPlugin;

impl Plugin for ConsentPlugin {
    fn build(&self, app: &mut App) {
        super::register(app, Screen::Consent, build);
        app.add_systems(
            Update,
            (handle)
                .chain()
                .before(Redraw)
                .run_if(in_state(Screen::Consent)),
        );
    }
}

fn build(commands: &mut Commands, v: &View) {
    let (cfg, visit) = (&*v.cfg, &*v.visit);
    let l = visit.locale.as_str();
    let days = cfg.kiosk.media_retention_days.to_string();
    theme::root(commands, Screen::Consent).with_children(|p| {
        theme::text(p, cfg.t(l, "consent_title"), 6.0, theme::ACCENT);
        theme::panel(p, |p| {
            theme::text(p, cfg.t(l, "consent_what"), 3.0, theme::FG);
            theme::text(p, cfg.t(l, "consent_human"), 3.0, theme::FG);
            theme::text(
                p,
                cfg.strings.fill(
                    l,
                    "consent_retention",
                    &[("days", &days), ("contact", &cfg.kiosk.privacy_contact)],
                ),
                2.8,
                theme::MUTED,
            );
        });
        theme::panel(p, |p| {
            theme::text(p, cfg.t(l, "consent_face"), 2.8, theme::FG);
        });
        theme::row(p, 2.0, |p| {
            theme::button(
                p,
                cfg.t(l, "consent_accept_all"),
                Action::ConsentAll,
                Kind::Primary,
            );
            theme::button(
                p,
                cfg.t(l, "consent_voice_only"),
                Action::ConsentVoiceOnly,
                Kind::Primary,
            );
        });
        theme::button(
            p,
            cfg.t(l, "consent_decline"),
            Action::Decline,
            Kind::Secondary,
        );
    });
}

fn handle(
    mut actions: MessageReader<Action>,
    mut visit: ResMut<Visit>,
    mut next: ResMut<NextState<Screen>>,
) {
    for a in actions.read() {
        let face = match a {
            Action::ConsentAll => true,
            Action::ConsentVoiceOnly => false,
            Action::Decline => {
                next.set(Screen::Attract);
                continue;
            }
            _ => continue,
        };
        visit.recording_consent = true;
        visit.face_consent = face;
        visit.started_at = Some(kiosk_store::now());
        next.set(Screen::Details);
    }
}
