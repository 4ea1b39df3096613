//! Device check: live camera preview with a face guide ("move closer", "more light") and a live
//! microphone level meter; a clear message and a way on when either is missing.

use bevy::asset::RenderAssetUsages;
use bevy::prelude::*;

use super::{Preview, Redraw, View};

use crate::action::Action;
use crate::app::{Cam, FromCam, Mic};
use crate::state::{Screen, Visit};
use crate::theme::{self, Kind};
use crate::workers::camera::{CameraCmd, CameraEvent};
use crate::workers::capture::CaptureCmd;

/// The device-check screen.
#[derive(Debug)]
pub struct DeviceCheckPlugin;

impl Plugin for DeviceCheckPlugin {
    fn build(&self, app: &mut App) {
        super::register(app, Screen::DeviceCheck, build);
        app.add_systems(OnEnter(Screen::DeviceCheck), start_devices.before(Redraw))
            .add_systems(
                Update,
                (handle, preview, level_meter)
                    .chain()
                    .before(Redraw)
                    .run_if(in_state(Screen::DeviceCheck)),
            )
            .add_systems(Update, level_meter.run_if(in_state(Screen::Question)));
    }
}

/// The level meter's fill.
#[derive(Component, Debug)]
pub struct LevelBar;

fn start_devices(
    mut commands: Commands,
    visit: Res<Visit>,
    mic: Res<Mic>,
    cam: Res<Cam>,
    images: Option<ResMut<Assets<Image>>>,
) {
    mic.send(CaptureCmd::Monitor);
    if visit.face_consent {
        cam.send(CameraCmd::Start);
    }
    if let Some(mut images) = images {
        let blank = Image::from_dynamic(
            image::DynamicImage::ImageRgb8(image::RgbImage::from_pixel(
                320,
                240,
                image::Rgb([30, 36, 51]),
            )),
            true,
            RenderAssetUsages::default(),
        );
        commands.insert_resource(Preview(images.add(blank)));
    }
}

/// What the face guide says, as a string key.
pub fn face_guide(visit: &Visit) -> &'static str {
    if !visit.face_consent {
        return "check_camera_off";
    }
    if visit.camera_error.is_some() {
        return "check_no_camera";
    }
    match &visit.seen {
        None => "check_face_none",
        Some((o, _)) if o.dark => "check_face_dark",
        Some((o, _)) if o.faces.is_empty() => "check_face_none",
        Some((o, _)) if o.faces.len() > 1 => "check_face_many",
        Some((_, Some(share))) if *share < 0.15 => "check_face_small",
        Some(_) => "check_face_ok",
    }
}

/// What the microphone line says, as a string key.
pub fn mic_guide(visit: &Visit) -> &'static str {
    match (&visit.mic_error, visit.heard_speech) {
        (Some(_), _) => "check_no_mic",
        (None, true) => "check_heard",
        (None, false) => "check_not_heard",
    }
}

fn build(commands: &mut Commands, v: &View) {
    let (cfg, visit) = (&*v.cfg, &*v.visit);
    let preview = v.preview.as_deref();
    let l = visit.locale.as_str();
    let face = face_guide(visit);
    let mic = mic_guide(visit);
    theme::root(commands, Screen::DeviceCheck).with_children(|p| {
        theme::text(p, cfg.t(l, "check_title"), 5.5, theme::ACCENT);
        theme::row(p, 4.0, |p| {
            theme::panel(p, |p| {
                if let (Some(pv), true) =
                    (preview, visit.face_consent && visit.camera_error.is_none())
                {
                    p.spawn((
                        ImageNode::new(pv.0.clone()),
                        Node {
                            width: Val::Vh(40.0),
                            height: Val::Vh(30.0),
                            ..default()
                        },
                    ));
                }
                let color = if face == "check_face_ok" {
                    theme::OK
                } else {
                    theme::ACCENT
                };
                theme::text(p, cfg.t(l, face), 3.2, color);
            });
            theme::panel(p, |p| {
                theme::text(p, cfg.t(l, "check_say"), 3.2, theme::FG);
                theme::bar(p, LevelBar, theme::OK);
                let color = if mic == "check_heard" {
                    theme::OK
                } else {
                    theme::ACCENT
                };
                theme::text(p, cfg.t(l, mic), 3.0, color);
            });
        });
        theme::button(p, cfg.t(l, "check_start"), Action::Next, Kind::Primary);
    });
}

/// Shows the newest camera frame.
fn preview(
    mut frames: MessageReader<FromCam>,
    preview: Option<Res<Preview>>,
    images: Option<ResMut<Assets<Image>>>,
) {
    let Some(frame) = frames
        .read()
        .filter_map(|m| match &m.0 {
            CameraEvent::Frame { preview, .. } => Some(preview.clone()),
            _ => None,
        })
        .last()
    else {
        return;
    };
    if let (Some(pv), Some(mut images)) = (preview, images) {
        let _ = images.insert(
            &pv.0,
            Image::from_dynamic(
                image::DynamicImage::ImageRgb8(frame),
                true,
                RenderAssetUsages::default(),
            ),
        );
    }
}

/// Fills level meters from the microphone level (-60 dBFS empty, -10 dBFS full).
pub fn level_meter(visit: Res<Visit>, mut bars: Query<&mut Node, With<LevelBar>>) {
    let f = ((visit.level + 60.0) / 50.0).clamp(0.0, 1.0);
    for mut n in &mut bars {
        n.width = Val::Percent(f * 100.0);
    }
}

fn handle(mut actions: MessageReader<Action>, mut next: ResMut<NextState<Screen>>) {
    for a in actions.read() {
        if *a == Action::Next {
            next.set(Screen::Question);
        }
    }
}
