//! The per-interview video report: presence and integrity only (someone there, one person,
//! facing the camera, enough light). No emotion, expression or personality inference.

use image::RgbImage;
use kiosk_screening::VideoSummary;

use crate::face::{Face, FaceDetector};
use crate::models::ModelError;

/// Faces below this detector confidence are not counted.
const MIN_SCORE: f32 = 0.9;
/// Mean luma below this is too dark to see anyone reliably.
const DARK_LUMA: f32 = 40.0;

/// Mean luma (0–255) of an image.
pub fn luma(img: &RgbImage) -> f32 {
    let n = (img.width() * img.height()).max(1) as f32;
    img.pixels()
        .map(|p| 0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2]))
        .sum::<f32>()
        / n
}

/// What one frame shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    /// Confident faces.
    pub faces: Vec<Face>,
    /// Too dark.
    pub dark: bool,
}

/// Looks at one frame.
pub fn observe(detector: &mut FaceDetector, frame: &RgbImage) -> Result<Observation, ModelError> {
    let faces = detector
        .detect(frame)?
        .into_iter()
        .filter(|f| f.score >= MIN_SCORE)
        .collect();
    Ok(Observation {
        faces,
        dark: luma(frame) < DARK_LUMA,
    })
}

/// Summarises observations into the report kept with the interview.
pub fn summarise(obs: &[Observation]) -> VideoSummary {
    let n = obs.len().max(1) as f32;
    let ratio = |f: &dyn Fn(&Observation) -> bool| obs.iter().filter(|o| f(o)).count() as f32 / n;
    VideoSummary {
        frames: obs.len() as u32,
        face_present_ratio: ratio(&|o| !o.faces.is_empty()),
        multiple_faces_ratio: ratio(&|o| o.faces.len() > 1),
        frontal_ratio: ratio(&|o| o.faces.first().is_some_and(Face::frontal)),
        too_dark_ratio: ratio(&|o| o.dark),
    }
}
