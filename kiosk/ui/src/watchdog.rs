//! systemd's side of the app: `READY=1` on the first update (the window is up and every plugin
//! started), then `WATCHDOG=1` from the update loop itself. The loop keeps turning when nothing is
//! drawn (screen off, window covered: winit still wakes the reactive update every 16 ms and
//! presenting never waits for vsync), so a healthy app is never killed and a hung one is.

use bevy::prelude::*;
use kiosk_service::{Watchdog, notify_ready};

/// Readiness and the watchdog.
#[derive(Debug)]
pub struct WatchdogPlugin;

#[derive(Resource, Debug)]
struct Dog {
    watchdog: Watchdog,
    ready: bool,
}

impl Plugin for WatchdogPlugin {
    fn build(&self, app: &mut App) {
        app.insert_resource(Dog {
            watchdog: Watchdog::from_env(),
            ready: false,
        })
        .add_systems(First, feed);
    }
}

fn feed(mut dog: ResMut<Dog>) {
    if !dog.ready {
        dog.ready = true;
        notify_ready("on screen");
        tracing::info!("kiosk app ready");
    }
    dog.watchdog.feed();
}
