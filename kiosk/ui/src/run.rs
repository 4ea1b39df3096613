//! Opening the app on screen: the window (fullscreen unless asked otherwise), the CJK-capable
//! font, the UI camera, and an optional script (demo, screenshot tour) and frame log (bench).

use std::path::{Path, PathBuf};

use bevy::asset::AssetId;
use bevy::log::LogPlugin;
use bevy::prelude::*;
use bevy::window::{MonitorSelection, WindowMode};

use crate::app::{KioskPlugin, Setup};
use crate::demo::{self, FrameLog, Script};

/// The font used for every text: Droid Sans Fallback covers Chinese and Latin (Apache-2.0,
/// Debian package `fonts-droid-fallback`).
pub const DEFAULT_FONT: &str = "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf";

/// How to run.
#[derive(Debug, Default)]
pub struct RunOptions {
    /// A 1280×800 window instead of fullscreen.
    pub windowed: bool,
    /// Steps to play (demo, tour).
    pub script: Option<Script>,
    /// Print a frame-time table when the app exits.
    pub bench: bool,
    /// The font file (default [`DEFAULT_FONT`]).
    pub font: Option<PathBuf>,
}

/// Starting the app failed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The font is missing.
    #[error(
        "cannot read the font {path}: {detail} (install it with `apt-get install fonts-droid-fallback`, or set another with --font)"
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
    let mode = if opts.windowed {
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
                    resolution: (1280, 800).into(),
                    ..default()
                }),
                ..default()
            }),
    );
    // Replaces the built-in Latin-only font before any text is laid out.
    let _ = app
        .world_mut()
        .resource_mut::<Assets<Font>>()
        .insert(AssetId::default(), font);
    app.add_plugins(KioskPlugin::new(setup))
        .add_systems(Startup, |mut commands: Commands| {
            commands.spawn(Camera2d);
        });
    if let Some(script) = opts.script {
        app.insert_resource(script).add_systems(Update, demo::drive);
    }
    if opts.bench {
        app.init_resource::<FrameLog>()
            .add_systems(Last, (demo::log_frames, print_bench).chain());
    }
    match app.run() {
        AppExit::Success => Ok(()),
        AppExit::Error(code) => Err(RunError::Exit(code.get())),
    }
}

fn print_bench(mut exit: MessageReader<AppExit>, log: Res<FrameLog>) {
    if exit.read().next().is_some() {
        println!("{}", log.table());
    }
}
