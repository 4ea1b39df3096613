//! One Bevy plugin per screen. Each builds its screen from state on entry and again whenever
//! [`Rebuild`] is set; systems react to [`crate::action::Action`]s and worker messages.

pub mod attract;
pub mod consent;
pub mod details;
pub mod device_check;
pub mod done;
pub mod manager;
pub mod pin;
pub mod question;
pub mod review;
pub mod roster;
pub mod status;

use bevy::prelude::*;

use crate::state::Rebuild;
use crate::theme::ScreenRoot;

/// Every screen.
#[derive(Debug)]
pub struct ScreensPlugin;

impl Plugin for ScreensPlugin {
    fn build(&self, app: &mut App) {
        app.add_plugins((
            attract::AttractPlugin,
            consent::ConsentPlugin,
            details::DetailsPlugin,
            device_check::DeviceCheckPlugin,
            question::QuestionPlugin,
            done::DonePlugin,
            pin::PinPlugin,
            manager::ManagerPlugin,
            review::ReviewPlugin,
            status::StatusPlugin,
            roster::RosterPlugin,
        ));
    }
}

/// If a rebuild was asked for, removes the current screen's nodes and returns true.
pub fn clear(
    commands: &mut Commands,
    roots: &Query<Entity, With<ScreenRoot>>,
    rebuild: &mut Rebuild,
) -> bool {
    if !std::mem::take(&mut rebuild.0) {
        return false;
    }
    for e in roots {
        commands.entity(e).despawn();
    }
    true
}
