//! The camera worker: opens the camera on its own thread, sends small preview frames and what the
//! face model sees (presence, how many, size, light) — presence and integrity only, never a
//! judgement of the face — and keeps the observations for the interview's video report.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use image::RgbImage;
use kiosk_perception::camera::{Camera, CameraError};
use kiosk_perception::face::FaceDetector;
use kiosk_perception::video::{Observation, observe, summarise};
use kiosk_screening::VideoSummary;

use super::Link;

/// Builds the camera inside the worker thread.
pub type CameraFactory = Box<dyn FnOnce() -> Result<Box<dyn Camera>, CameraError> + Send>;

/// What the camera should do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CameraCmd {
    /// Start watching (preview and face checks), forgetting earlier observations.
    Start,
    /// Stop and send the report of what was observed since `Start`.
    Report,
    /// Stop and forget everything (idle reset, declined consent).
    Stop,
}

/// What the camera worker reports.
#[derive(Debug, Clone)]
pub enum CameraEvent {
    /// A preview frame (about 320 px wide) with what the face model found in it.
    Frame {
        /// The picture.
        preview: RgbImage,
        /// Faces, light.
        seen: Observation,
        /// Width of the largest face as a share of the frame's width ("move closer" below ~0.15).
        face_share: Option<f32>,
    },
    /// The video report of the interview.
    Report(VideoSummary),
    /// No camera, or the face model is missing: what to tell the user.
    Failed(String),
}

/// Starts the worker; frames are analysed at about `fps`.
pub fn start(camera: CameraFactory, models_dir: PathBuf, fps: f32) -> Link<CameraCmd, CameraEvent> {
    super::spawn("camera", move |cmds, events| {
        // A face check takes ~30 ms of CPU; it runs on what drawing leaves over.
        super::yield_to_frames();
        let mut cam: Option<Box<dyn Camera>> = None;
        let mut camera = Some(camera);
        // The face model loads now, so the device check shows the first verdict at once; the
        // camera itself opens only after consent (the first `Start`).
        let mut detector: Option<FaceDetector> = match FaceDetector::load(&models_dir) {
            Ok(d) => Some(d),
            Err(e) => {
                tracing::error!("face model: {e}");
                None
            }
        };
        let mut seen: Vec<Observation> = Vec::new();
        let mut running = false;
        let period = Duration::from_secs_f32(1.0 / fps.max(0.5));
        loop {
            let cmd = if running {
                match cmds.recv_timeout(period) {
                    Ok(c) => Some(c),
                    Err(crossbeam_channel::RecvTimeoutError::Timeout) => None,
                    Err(crossbeam_channel::RecvTimeoutError::Disconnected) => return,
                }
            } else {
                match cmds.recv() {
                    Ok(c) => Some(c),
                    Err(_) => return,
                }
            };
            match cmd {
                Some(CameraCmd::Start) => {
                    seen.clear();
                    if cam.is_none() {
                        match camera.take().map(|f| f()) {
                            Some(Ok(c)) => cam = Some(c),
                            Some(Err(e)) => {
                                let _ = events.send(CameraEvent::Failed(e.to_string()));
                            }
                            None => {}
                        }
                    }
                    if cam.is_none() {
                        let _ = events.send(CameraEvent::Failed(
                            "no camera found: check it is plugged in (v4l2-ctl --list-devices)"
                                .into(),
                        ));
                        continue;
                    }
                    if detector.is_none() {
                        match FaceDetector::load(&models_dir) {
                            Ok(d) => detector = Some(d),
                            Err(e) => {
                                let _ = events.send(CameraEvent::Failed(e.to_string()));
                                continue;
                            }
                        }
                    }
                    running = true;
                }
                Some(CameraCmd::Report) => {
                    running = false;
                    let _ = events.send(CameraEvent::Report(summarise(&seen)));
                    seen.clear();
                }
                Some(CameraCmd::Stop) => {
                    running = false;
                    seen.clear();
                }
                None => {}
            }
            if !running {
                continue;
            }
            let (Some(c), Some(d)) = (cam.as_mut(), detector.as_mut()) else {
                continue;
            };
            let t = Instant::now();
            let frame = match c.frame() {
                Ok(f) => f,
                Err(e) => {
                    running = false;
                    let _ = events.send(CameraEvent::Failed(e.to_string()));
                    continue;
                }
            };
            match observe(d, &frame) {
                Ok(o) => {
                    seen.push(o.clone());
                    let face_share = o
                        .faces
                        .iter()
                        .map(|f| f.width() / frame.width().max(1) as f32)
                        .reduce(f32::max);
                    let w = 320u32.min(frame.width());
                    let h = (frame.height() * w / frame.width().max(1)).max(1);
                    let preview = image::imageops::resize(
                        &frame,
                        w,
                        h,
                        image::imageops::FilterType::Triangle,
                    );
                    let _ = events.send(CameraEvent::Frame {
                        preview,
                        seen: o,
                        face_share,
                    });
                }
                Err(e) => {
                    running = false;
                    let _ = events.send(CameraEvent::Failed(e.to_string()));
                }
            }
            tracing::trace!(ms = t.elapsed().as_millis() as u64, "camera frame");
        }
    })
}
