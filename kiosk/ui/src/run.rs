//! Opening the app on screen: the window (fullscreen unless asked otherwise), the CJK-capable
//! font, the UI camera, and an optional script (demo, screenshot tour) and frame log (bench).

use std::path::{Path, PathBuf};

use bevy::ecs::schedule::SingleThreadedExecutor;
use bevy::log::LogPlugin;
use bevy::prelude::*;
use bevy::render::RenderApp;
use bevy::ui_render::UiAntiAlias;
use bevy::window::{MonitorSelection, WindowMode};
use bevy::winit::{UpdateMode, WinitSettings};

use crate::app::{KioskPlugin, Setup};
use crate::bench::{self, FrameLog, FrameStats};
use crate::demo::{self, Script};

/// The font file with [`crate::theme::FONT_FAMILY`]: Chinese and Latin glyphs (Debian package
/// `fonts-wqy-microhei`, Apache-2.0 / GPLv3 with the font exception).
pub const DEFAULT_FONT: &str = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc";

/// How to run.
#[derive(Debug, Default)]
pub struct RunOptions {
    /// A window instead of fullscreen.
    pub windowed: bool,
    /// The window's size (default 1280×800).
    pub window_size: Option<(u32, u32)>,
    /// Steps to play (demo, tour).
    pub script: Option<Script>,
    /// Print a frame-time table when the app exits.
    pub bench: bool,
    /// The empty window's frame times, for the table (see [`bench::run_empty_window`]).
    pub bench_peer: Option<FrameStats>,
    /// The font file (default [`DEFAULT_FONT`]).
    pub font: Option<PathBuf>,
}

/// Starting the app failed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The font is missing.
    #[error(
        "cannot read the font {path}: {detail} (install it with `apt-get install fonts-wqy-microhei`, or give another file with the same family with --font)"
    )]
    Font {
        /// The file.
        path: PathBuf,
        /// Why.
        detail: String,
    },
    /// The app stopped with an error.
    #[error("the kiosk app stopped with an error (exit code {0})")]
    Exit(u8),
}

/// Loads the font file.
pub fn font(path: &Path) -> Result<Font, RunError> {
    std::fs::read(path)
        .map(Font::from_bytes)
        .map_err(|e| RunError::Font {
            path: path.to_path_buf(),
            detail: e.to_string(),
        })
}

/// Runs the kiosk until it exits (window closed, or the script's end).
pub fn run(setup: Setup, opts: RunOptions) -> Result<(), RunError> {
    let font = font(opts.font.as_deref().unwrap_or(Path::new(DEFAULT_FONT)))?;
    let mut app = window_app(
        opts.windowed
            .then(|| opts.window_size.unwrap_or(WINDOW_SIZE)),
    );
    // Registered before any text is laid out; the handle is kept so the font stays loaded.
    let handle = app.world_mut().resource_mut::<Assets<Font>>().add(font);
    app.insert_resource(UiFont(handle));
    app.add_plugins(KioskPlugin::new(setup));
    app.add_plugins(crate::watchdog::WatchdogPlugin);
    if let Some(script) = opts.script {
        app.insert_resource(script).add_systems(Update, demo::drive);
    }
    if opts.bench {
        app.insert_resource(FrameLog::with_peer(opts.bench_peer))
            .add_systems(Last, (bench::log_frames, print_bench).chain());
    }
    app.add_plugins(OneThreadSchedules);
    match app.run() {
        AppExit::Success => Ok(()),
        AppExit::Error(code) => Err(RunError::Exit(code.get())),
    }
}

/// The window's size unless asked otherwise.
pub const WINDOW_SIZE: (u32, u32) = (1280, 800);

/// The window, frame pacing, clear colour and UI camera, shared by the kiosk and the empty
/// window it is benchmarked against: a window of the given size, or fullscreen.
pub(crate) fn window_app(window: Option<(u32, u32)>) -> App {
    let mode = if window.is_some() {
        WindowMode::Windowed
    } else {
        WindowMode::BorderlessFullscreen(MonitorSelection::Primary)
    };
    let mut app = App::new();
    app.add_plugins(
        DefaultPlugins
            .build()
            // The binary sets up tracing itself.
            .disable::<LogPlugin>()
            .set(WindowPlugin {
                primary_window: Some(Window {
                    title: "Job interview · 求职面试".into(),
                    mode,
                    resolution: window.unwrap_or(WINDOW_SIZE).into(),
                    // Frames are paced by the update mode below; waiting for vertical sync
                    // as well only adds latency (and, rendering in software, lost frames).
                    present_mode: bevy::window::PresentMode::AutoNoVsync,
                    ..default()
                }),
                ..default()
            }),
    );
    // At most one frame every 16 ms (≈ 60 fps): the UI needs no more, and the CPU left over
    // goes to the models.
    app.insert_resource(WinitSettings {
        focused_mode: UpdateMode::reactive(std::time::Duration::from_millis(16)),
        unfocused_mode: UpdateMode::reactive(std::time::Duration::from_millis(16)),
    });
    // The background is the clear colour: no full-screen quad to shade every frame.
    app.insert_resource(ClearColor(crate::theme::BG));
    app.add_systems(Startup, |mut commands: Commands| {
        // No multisampling and no UI anti-aliasing: flat UI gains little from them, and they
        // cost most on a software rasteriser (Mesa llvmpipe when there is no GPU).
        commands.spawn((Camera2d, Msaa::Off, UiAntiAlias::Off));
    });
    app
}

/// Runs every schedule of the app and of its render world on one thread each. On a two-core
/// kiosk Bevy's multi-threaded executor mostly adds thread wake-ups (several thousand a second,
/// measured) that compete with drawing and the models; the render world still runs beside the
/// main one (pipelined rendering). Add it last: it sets the executors in `cleanup`, after every
/// other plugin has finished adding schedules.
#[derive(Debug)]
pub(crate) struct OneThreadSchedules;

impl Plugin for OneThreadSchedules {
    fn build(&self, _app: &mut App) {}

    fn cleanup(&self, app: &mut App) {
        fn set(world: &mut World) {
            if let Some(mut schedules) = world.get_resource_mut::<Schedules>() {
                for (_, schedule) in schedules.iter_mut() {
                    schedule.set_executor(SingleThreadedExecutor::new());
                }
            }
        }
        set(app.world_mut());
        if let Some(render) = app.get_sub_app_mut(RenderApp) {
            set(render.world_mut());
        }
    }
}

/// Keeps the UI font loaded.
#[derive(Resource, Debug)]
struct UiFont(#[allow(dead_code)] Handle<Font>);

fn print_bench(mut exit: MessageReader<AppExit>, log: Res<FrameLog>) {
    if exit.read().next().is_some() {
        println!("{}", log.table());
    }
}
