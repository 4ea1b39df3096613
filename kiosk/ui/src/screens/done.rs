//! Thank-you screen: what happens next and the receipt code (with a QR code) that identifies the
//! interview for questions and deletion requests. Back to the start after a timeout.

use bevy::asset::RenderAssetUsages;
use bevy::prelude::*;

use super::{Qr, Redraw, View};
use qrcode::{Color as QrColor, QrCode};

use crate::action::Action;
use crate::app::FromDb;
use crate::state::{Activity, Rebuild, Screen, Visit};
use crate::theme::{self, Kind};
use crate::workers::store::StoreEvent;

/// The thank-you screen.
#[derive(Debug)]
pub struct DonePlugin;

impl Plugin for DonePlugin {
    fn build(&self, app: &mut App) {
        super::register(app, Screen::Done, build);
        app.add_systems(OnEnter(Screen::Done), restart_timer.before(Redraw));
        app.add_systems(
            Update,
            (saved, handle)
                .chain()
                .before(Redraw)
                .run_if(in_state(Screen::Done)),
        );
    }
}

fn build(commands: &mut Commands, v: &View) {
    let (cfg, visit) = (&*v.cfg, &*v.visit);
    let qr = v.qr.as_deref();
    let l = visit.locale.as_str();
    theme::root(commands, Screen::Done).with_children(|p| {
        theme::text(p, cfg.t(l, "done_title"), 8.0, theme::ACCENT);
        match &visit.receipt {
            None => {
                theme::text(p, cfg.t(l, "question_wait"), 4.0, theme::MUTED);
            }
            Some(Err(_)) => {
                theme::text(p, cfg.t(l, "done_failed"), 4.0, theme::WARN);
            }
            Some(Ok(code)) => {
                theme::text(p, cfg.t(l, "done_next"), 4.0, theme::FG);
                theme::panel(p, |p| {
                    theme::text(p, cfg.t(l, "done_receipt"), 3.0, theme::MUTED);
                    theme::text(p, code.clone(), 8.0, theme::FG);
                    if let Some(qr) = qr {
                        p.spawn((
                            ImageNode::new(qr.0.clone()),
                            Node {
                                width: Val::Vh(22.0),
                                height: Val::Vh(22.0),
                                ..default()
                            },
                        ));
                    }
                    theme::text(
                        p,
                        cfg.strings.fill(
                            l,
                            "done_receipt_help",
                            &[("contact", &cfg.kiosk.privacy_contact)],
                        ),
                        2.6,
                        theme::MUTED,
                    );
                });
            }
        }
        theme::button(p, cfg.t(l, "done_finish"), Action::Next, Kind::Primary);
    });
}

/// A QR code picture of `text`: black modules on white with a quiet zone, 8 px per module.
pub fn qr_image(text: &str) -> Option<image::RgbImage> {
    let code = QrCode::new(text.as_bytes()).ok()?;
    let width = code.width() as u32;
    let colors = code.to_colors();
    let (scale, quiet) = (8u32, 4u32);
    let side = (width + 2 * quiet) * scale;
    Some(image::RgbImage::from_fn(side, side, |x, y| {
        let (mx, my) = (x / scale, y / scale);
        let dark = mx >= quiet
            && my >= quiet
            && mx < width + quiet
            && my < width + quiet
            && colors[((my - quiet) * width + (mx - quiet)) as usize] == QrColor::Dark;
        if dark {
            image::Rgb([0, 0, 0])
        } else {
            image::Rgb([255, 255, 255])
        }
    }))
}

fn saved(
    mut commands: Commands,
    mut from_db: MessageReader<FromDb>,
    mut visit: ResMut<Visit>,
    mut rebuild: ResMut<Rebuild>,
    mut images: Option<ResMut<Assets<Image>>>,
) {
    for m in from_db.read() {
        match &m.0 {
            StoreEvent::Saved { receipt, .. } => {
                if let (Some(images), Some(img)) =
                    (images.as_mut(), qr_image(&format!("RECEIPT:{receipt}")))
                {
                    let handle = images.add(Image::from_dynamic(
                        image::DynamicImage::ImageRgb8(img),
                        true,
                        RenderAssetUsages::default(),
                    ));
                    commands.insert_resource(Qr(handle));
                }
                visit.receipt = Some(Ok(receipt.clone()));
                rebuild.0 = true;
            }
            StoreEvent::SaveFailed(e) => {
                visit.receipt = Some(Err(e.clone()));
                rebuild.0 = true;
            }
            _ => {}
        }
    }
}

fn handle(mut actions: MessageReader<Action>, mut next: ResMut<NextState<Screen>>) {
    for a in actions.read() {
        if *a == Action::Next {
            next.set(Screen::Attract);
        }
    }
}

/// The thank-you screen's own timeout starts when it shows.
fn restart_timer(mut activity: ResMut<Activity>) {
    activity.0 = std::time::Instant::now();
}
