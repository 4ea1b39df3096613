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

use bevy::ecs::system::SystemParam;
use bevy::prelude::*;

use crate::Screen;
use crate::app::Config;
use crate::state::{DeviceHealth, ManagerView, OutOfService, Rebuild, Visit};
use crate::theme::ScreenRoot;

/// Everything a screen is built from.
#[derive(SystemParam)]
#[allow(missing_debug_implementations)] // a bundle of resource borrows
pub struct View<'w> {
    /// Configuration and texts.
    pub cfg: Res<'w, Config>,
    /// The candidate's visit.
    pub visit: Res<'w, Visit>,
    /// The manager's session.
    pub manager: Res<'w, ManagerView>,
    /// What the devices last did.
    pub health: Res<'w, DeviceHealth>,
    /// Why the kiosk cannot take candidates now, if so.
    pub service: Res<'w, OutOfService>,
    /// The camera preview picture (on screen only).
    pub preview: Option<Res<'w, Preview>>,
    /// The receipt's QR code (on screen only).
    pub qr: Option<Res<'w, Qr>>,
}

/// The camera preview picture.
#[derive(Resource, Debug)]
pub struct Preview(pub Handle<Image>);

/// The receipt's QR code picture.
#[derive(Resource, Debug)]
pub struct Qr(pub Handle<Image>);

/// Building a screen's nodes: after the screen's own systems, so it shows their result.
#[derive(SystemSet, Debug, Clone, PartialEq, Eq, Hash)]
pub struct Redraw;

/// Builds `screen` with `build` when it is entered and again whenever [`Rebuild`] is set.
pub fn register(app: &mut App, screen: Screen, build: fn(&mut Commands, &View)) {
    app.add_systems(
        OnEnter(screen),
        (move |mut commands: Commands, view: View| build(&mut commands, &view)).in_set(Redraw),
    )
    .add_systems(
        Update,
        (move |mut commands: Commands,
               roots: Query<Entity, With<ScreenRoot>>,
               mut rebuild: ResMut<Rebuild>,
               view: View| {
            if clear(&mut commands, &roots, &mut rebuild) {
                build(&mut commands, &view);
            }
        })
        .in_set(Redraw)
        .run_if(in_state(screen)),
    );
}

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
