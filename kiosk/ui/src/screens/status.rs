//! Device status for the store manager: camera, microphone, each model's checksum, the sync
//! backlog and when the sync agent last reached the cloud.

use bevy::prelude::*;

use super::{Redraw, View};

use crate::app::{Config, Db, FromDb};
use crate::screens::manager::tabs;
use crate::state::{ManagerView, Rebuild, Screen, Visit};
use crate::theme;
use crate::workers::store::{StoreCmd, StoreEvent};

/// The status screen.
#[derive(Debug)]
pub struct StatusPlugin;

impl Plugin for StatusPlugin {
    fn build(&self, app: &mut App) {
        super::register(app, Screen::Status, build);
        app.add_systems(OnEnter(Screen::Status), query.before(Redraw))
            .add_systems(
                Update,
                (loaded)
                    .chain()
                    .before(Redraw)
                    .run_if(in_state(Screen::Status)),
            );
    }
}

fn query(db: Res<Db>) {
    db.send(StoreCmd::Status);
}

fn build(commands: &mut Commands, v: &View) {
    let (cfg, visit) = (&*v.cfg, &*v.visit);
    let view = &*v.manager;
    let l = visit.locale.as_str();
    let ok = cfg.t(l, "status_ok");
    theme::root(commands, Screen::Status).with_children(|p| {
        tabs(p, cfg, l, Screen::Status);
        theme::text(p, cfg.t(l, "manager_status"), 5.0, theme::ACCENT);
        theme::panel(p, |p| {
            let devices = [
                ("status_camera", &v.health.camera),
                ("status_microphone", &v.health.microphone),
            ];
            for (key, state) in devices {
                let (s, c) = match state {
                    None => (cfg.t(l, "status_unused"), theme::MUTED),
                    Some(Ok(())) => (ok.clone(), theme::OK),
                    Some(Err(e)) => (e.clone(), theme::WARN),
                };
                theme::text(p, format!("{}: {s}", cfg.t(l, key)), 2.8, c);
            }
            for (label, value) in &view.status {
                let c = if value == &ok { theme::OK } else { theme::FG };
                theme::text(p, format!("{label}: {value}"), 2.8, c);
            }
        });
    });
}

fn loaded(
    mut from_db: MessageReader<FromDb>,
    mut view: ResMut<ManagerView>,
    mut rebuild: ResMut<Rebuild>,
    cfg: Res<Config>,
    visit: Res<Visit>,
) {
    let l = visit.locale.as_str();
    for m in from_db.read() {
        let StoreEvent::Status(s) = &m.0 else {
            continue;
        };
        let ok = cfg.t(l, "status_ok");
        let mut lines: Vec<(String, String)> = s
            .models
            .iter()
            .map(|(name, r)| {
                let v = r.as_ref().map_or_else(Clone::clone, |()| ok.clone());
                (format!("{} {name}", cfg.t(l, "status_models")), v)
            })
            .collect();
        lines.push((
            cfg.t(l, "status_backlog"),
            cfg.strings.fill(
                l,
                "status_backlog_detail",
                &[
                    ("pending", &s.backlog.pending.to_string()),
                    ("quarantined", &s.backlog.quarantined.to_string()),
                ],
            ),
        ));
        let last = s
            .sync
            .as_ref()
            .and_then(|x| x.last_publish_at.clone().or(x.last_connected_at.clone()))
            .unwrap_or_else(|| cfg.t(l, "status_never"));
        let err = s
            .sync
            .as_ref()
            .and_then(|x| x.last_error.clone())
            .map(|e| format!(" — {e}"))
            .unwrap_or_default();
        lines.push((cfg.t(l, "status_last_sync"), format!("{last}{err}")));
        let config = if cfg.config_in_force.is_empty() {
            cfg.t(l, "status_config_files")
        } else {
            format!(
                "{} + {}",
                cfg.t(l, "status_config_files"),
                cfg.config_in_force.join(", ")
            )
        };
        lines.push((cfg.t(l, "status_config"), config));
        view.status = lines;
        rebuild.0 = true;
    }
}
