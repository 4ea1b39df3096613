//! Face presence with MTCNN (three ONNX stages via ort): boxes and five landmarks per face.
//! Used only for presence and integrity — is someone there, is it one person, are they facing the
//! camera — never to judge a face: no emotion, expression or personality inference.

use std::path::Path;

use image::imageops::{FilterType, resize};
use image::{Rgb, RgbImage};
use ndarray::Array4;
use ort::session::Session;
use ort::value::Tensor;

use crate::models::ModelError;

/// A detected face.
#[derive(Debug, Clone, PartialEq)]
pub struct Face {
    /// Box, pixels: left, top, right, bottom.
    pub bbox: [f32; 4],
    /// Detector confidence.
    pub score: f32,
    /// Left eye, right eye, nose, mouth left, mouth right.
    pub landmarks: [(f32, f32); 5],
}

impl Face {
    /// Box width.
    pub fn width(&self) -> f32 {
        self.bbox[2] - self.bbox[0]
    }

    /// Facing the camera: eyes level and the nose between them, near their midpoint.
    pub fn frontal(&self) -> bool {
        let [(lx, ly), (rx, ry), (nx, _), _, _] = self.landmarks;
        let eye_dist = ((rx - lx).powi(2) + (ry - ly).powi(2)).sqrt().max(1.0);
        let level = (ry - ly).abs() < 0.3 * eye_dist;
        let centred_nose = (nx - (lx + rx) / 2.0).abs() < 0.3 * eye_dist;
        level && centred_nose
    }
}

/// Detection settings.
#[derive(Debug, Clone, PartialEq)]
pub struct FaceConfig {
    /// Smallest face looked for, in pixels.
    pub min_face: f32,
    /// Stage thresholds.
    pub thresholds: [f32; 3],
    /// Pyramid step.
    pub scale_factor: f32,
}

impl Default for FaceConfig {
    fn default() -> Self {
        Self {
            min_face: 40.0,
            thresholds: [0.6, 0.7, 0.7],
            scale_factor: 0.709,
        }
    }
}

/// The three-stage MTCNN detector.
pub struct FaceDetector {
    pnet: Session,
    rnet: Session,
    onet: Session,
    cfg: FaceConfig,
}

impl std::fmt::Debug for FaceDetector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaceDetector")
            .field("cfg", &self.cfg)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Copy)]
struct Cand {
    b: [f32; 4],
    score: f32,
    reg: [f32; 4],
}

fn load_err(name: &str) -> impl Fn(ort::Error) -> ModelError + '_ {
    move |e| ModelError::Load {
        name: name.to_string(),
        path: name.into(),
        detail: e.to_string(),
    }
}

/// Pixels to the networks' input: [n, x, y, channel], (v − 127.5) / 128.
fn fill(batch: &mut Array4<f32>, n: usize, img: &RgbImage) {
    for (x, y, p) in img.enumerate_pixels() {
        for c in 0..3 {
            batch[[n, x as usize, y as usize, c]] = (f32::from(p[c]) - 127.5) * 0.0078125;
        }
    }
}

/// Intersection over union (or over the smaller box), with MTCNN's inclusive pixel areas.
fn overlap(a: &[f32; 4], b: &[f32; 4], min: bool) -> f32 {
    let area = |r: &[f32; 4]| (r[2] - r[0] + 1.0) * (r[3] - r[1] + 1.0);
    let w = (a[2].min(b[2]) - a[0].max(b[0]) + 1.0).max(0.0);
    let h = (a[3].min(b[3]) - a[1].max(b[1]) + 1.0).max(0.0);
    let inter = w * h;
    if min {
        inter / area(a).min(area(b))
    } else {
        inter / (area(a) + area(b) - inter)
    }
}

fn nms(mut c: Vec<Cand>, threshold: f32, min: bool) -> Vec<Cand> {
    c.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut keep: Vec<Cand> = Vec::new();
    for cand in c {
        if keep
            .iter()
            .all(|k| overlap(&k.b, &cand.b, min) <= threshold)
        {
            keep.push(cand);
        }
    }
    keep
}

fn square(b: [f32; 4]) -> [f32; 4] {
    let (w, h) = (b[2] - b[0], b[3] - b[1]);
    let side = w.max(h);
    let x1 = b[0] + w * 0.5 - side * 0.5;
    let y1 = b[1] + h * 0.5 - side * 0.5;
    [x1, y1, x1 + side, y1 + side]
}

fn regress(b: [f32; 4], r: [f32; 4]) -> [f32; 4] {
    let (w, h) = (b[2] - b[0] + 1.0, b[3] - b[1] + 1.0);
    [
        b[0] + r[0] * w,
        b[1] + r[1] * h,
        b[2] + r[2] * w,
        b[3] + r[3] * h,
    ]
}

/// The box's pixels (zero outside the image), resized to `size`×`size`.
fn crop(img: &RgbImage, b: &[f32; 4], size: u32) -> RgbImage {
    let (x1, y1) = (b[0].trunc() as i64, b[1].trunc() as i64);
    let (w, h) = (
        (b[2].trunc() as i64 - x1 + 1).max(1),
        (b[3].trunc() as i64 - y1 + 1).max(1),
    );
    let mut out = RgbImage::new(w as u32, h as u32);
    for j in 0..h {
        for i in 0..w {
            let (x, y) = (x1 + i, y1 + j);
            if x >= 0 && y >= 0 && (x as u32) < img.width() && (y as u32) < img.height() {
                out.put_pixel(i as u32, j as u32, *img.get_pixel(x as u32, y as u32));
            } else {
                out.put_pixel(i as u32, j as u32, Rgb([0, 0, 0]));
            }
        }
    }
    resize(&out, size, size, FilterType::Triangle)
}

impl FaceDetector {
    /// Loads the three verified stages from `models_dir`.
    pub fn load(models_dir: &Path) -> Result<Self, ModelError> {
        Ok(Self {
            pnet: crate::onnx::session(models_dir, "mtcnn-pnet", 1)?,
            rnet: crate::onnx::session(models_dir, "mtcnn-rnet", 1)?,
            onet: crate::onnx::session(models_dir, "mtcnn-onet", 1)?,
            cfg: FaceConfig::default(),
        })
    }

    /// Changes the detection settings.
    pub fn with_config(mut self, cfg: FaceConfig) -> Self {
        self.cfg = cfg;
        self
    }

    /// Faces in an RGB image, most confident first.
    pub fn detect(&mut self, img: &RgbImage) -> Result<Vec<Face>, ModelError> {
        let c = self.stage1(img)?;
        let c = self.stage2(img, c)?;
        self.stage3(img, c)
    }

    fn stage1(&mut self, img: &RgbImage) -> Result<Vec<Cand>, ModelError> {
        let (w, h) = (img.width() as f32, img.height() as f32);
        let m = 12.0 / self.cfg.min_face;
        let mut min_layer = w.min(h) * m;
        let mut scale = m;
        let mut all = Vec::new();
        // Each level is resized from the one before (a small step, so a small filter) rather
        // than from the full frame: the pyramid was most of a face check's time.
        let mut prev: Option<RgbImage> = None;
        while min_layer >= 12.0 {
            let (sw, sh) = ((w * scale).ceil() as u32, (h * scale).ceil() as u32);
            let scaled = resize(prev.as_ref().unwrap_or(img), sw, sh, FilterType::Triangle);
            let mut input = Array4::<f32>::zeros((1, sw as usize, sh as usize, 3));
            fill(&mut input, 0, &scaled);
            let err = load_err("mtcnn-pnet");
            let outputs = self
                .pnet
                .run(ort::inputs![Tensor::from_array(input).map_err(&err)?])
                .map_err(&err)?;
            let reg = outputs[0].try_extract_array::<f32>().map_err(&err)?;
            let prob = outputs[1].try_extract_array::<f32>().map_err(&err)?;
            let shape = prob.shape();
            let mut level = Vec::new();
            for col in 0..shape[1] {
                for row in 0..shape[2] {
                    let p = prob[[0, col, row, 1]];
                    if p >= self.cfg.thresholds[0] {
                        let (cx, cy) = (col as f32, row as f32);
                        level.push(Cand {
                            b: [
                                ((2.0 * cx + 1.0) / scale).trunc(),
                                ((2.0 * cy + 1.0) / scale).trunc(),
                                ((2.0 * cx + 12.0) / scale).trunc(),
                                ((2.0 * cy + 12.0) / scale).trunc(),
                            ],
                            score: p,
                            reg: [
                                reg[[0, col, row, 0]],
                                reg[[0, col, row, 1]],
                                reg[[0, col, row, 2]],
                                reg[[0, col, row, 3]],
                            ],
                        });
                    }
                }
            }
            all.extend(nms(level, 0.5, false));
            prev = Some(scaled);
            scale *= self.cfg.scale_factor;
            min_layer *= self.cfg.scale_factor;
        }
        Ok(nms(all, 0.7, false)
            .into_iter()
            .map(|c| {
                let (bw, bh) = (c.b[2] - c.b[0], c.b[3] - c.b[1]);
                let b = [
                    c.b[0] + c.reg[0] * bw,
                    c.b[1] + c.reg[1] * bh,
                    c.b[2] + c.reg[2] * bw,
                    c.b[3] + c.reg[3] * bh,
                ];
                let s = square(b);
                Cand {
                    b: s.map(f32::trunc),
                    ..c
                }
            })
            .collect())
    }

    fn stage2(&mut self, img: &RgbImage, c: Vec<Cand>) -> Result<Vec<Cand>, ModelError> {
        if c.is_empty() {
            return Ok(c);
        }
        let mut input = Array4::<f32>::zeros((c.len(), 24, 24, 3));
        for (n, cand) in c.iter().enumerate() {
            fill(&mut input, n, &crop(img, &cand.b, 24));
        }
        let err = load_err("mtcnn-rnet");
        let outputs = self
            .rnet
            .run(ort::inputs![Tensor::from_array(input).map_err(&err)?])
            .map_err(&err)?;
        let reg = outputs[0].try_extract_array::<f32>().map_err(&err)?;
        let prob = outputs[1].try_extract_array::<f32>().map_err(&err)?;
        let kept: Vec<Cand> = c
            .iter()
            .enumerate()
            .filter(|(n, _)| prob[[*n, 1]] > self.cfg.thresholds[1])
            .map(|(n, cand)| Cand {
                b: cand.b,
                score: prob[[n, 1]],
                reg: [reg[[n, 0]], reg[[n, 1]], reg[[n, 2]], reg[[n, 3]]],
            })
            .collect();
        Ok(nms(kept, 0.7, false)
            .into_iter()
            .map(|c| Cand {
                b: square(regress(c.b, c.reg)),
                ..c
            })
            .collect())
    }

    fn stage3(&mut self, img: &RgbImage, c: Vec<Cand>) -> Result<Vec<Face>, ModelError> {
        if c.is_empty() {
            return Ok(Vec::new());
        }
        let c: Vec<Cand> = c
            .into_iter()
            .map(|x| Cand {
                b: x.b.map(f32::trunc),
                ..x
            })
            .collect();
        let mut input = Array4::<f32>::zeros((c.len(), 48, 48, 3));
        for (n, cand) in c.iter().enumerate() {
            fill(&mut input, n, &crop(img, &cand.b, 48));
        }
        let err = load_err("mtcnn-onet");
        let outputs = self
            .onet
            .run(ort::inputs![Tensor::from_array(input).map_err(&err)?])
            .map_err(&err)?;
        let reg = outputs[0].try_extract_array::<f32>().map_err(&err)?;
        let pts = outputs[1].try_extract_array::<f32>().map_err(&err)?;
        let prob = outputs[2].try_extract_array::<f32>().map_err(&err)?;
        let mut faces: Vec<(Cand, [(f32, f32); 5])> = Vec::new();
        for (n, cand) in c.iter().enumerate() {
            let p = prob[[n, 1]];
            if p <= self.cfg.thresholds[2] {
                continue;
            }
            let (w, h) = (cand.b[2] - cand.b[0] + 1.0, cand.b[3] - cand.b[1] + 1.0);
            let mut lm = [(0.0, 0.0); 5];
            for (k, l) in lm.iter_mut().enumerate() {
                *l = (
                    w * pts[[n, k]] + cand.b[0] - 1.0,
                    h * pts[[n, k + 5]] + cand.b[1] - 1.0,
                );
            }
            let r = [reg[[n, 0]], reg[[n, 1]], reg[[n, 2]], reg[[n, 3]]];
            faces.push((
                Cand {
                    b: regress(cand.b, r),
                    score: p,
                    reg: r,
                },
                lm,
            ));
        }
        faces.sort_by(|a, b| b.0.score.total_cmp(&a.0.score));
        let mut keep: Vec<(Cand, [(f32, f32); 5])> = Vec::new();
        for f in faces {
            if keep.iter().all(|k| overlap(&k.0.b, &f.0.b, true) <= 0.7) {
                keep.push(f);
            }
        }
        Ok(keep
            .into_iter()
            .map(|(c, landmarks)| Face {
                bbox: c.b,
                score: c.score,
                landmarks,
            })
            .collect())
    }
}
