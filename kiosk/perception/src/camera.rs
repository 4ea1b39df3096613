//! Cameras behind one small trait: the real one through nokhwa (V4L2 on Linux) and a file-backed
//! one (a still image, or a folder of frames played at a given rate) for tests and demos.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use image::RgbImage;

/// A camera problem.
#[derive(Debug, thiserror::Error)]
pub enum CameraError {
    /// No camera.
    #[error(
        "no camera found{0}: check it is plugged in and that /dev/video0 exists (v4l2-ctl --list-devices)"
    )]
    NoDevice(String),
    /// The camera failed.
    #[error("the camera failed: {0}")]
    Device(String),
    /// A frame file.
    #[error("cannot read the frame {path}: {detail}")]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        detail: String,
    },
}

/// Something that gives RGB frames.
pub trait Camera {
    /// The next frame.
    fn frame(&mut self) -> Result<RgbImage, CameraError>;
    /// What it is, for messages and `kiosk check`.
    fn describe(&self) -> String;
}

/// Frames from files: one still image, or every image in a folder (sorted) at `fps`.
#[derive(Debug)]
pub struct FileCamera {
    frames: Vec<PathBuf>,
    fps: f32,
    started: Option<Instant>,
    source: PathBuf,
}

fn is_image(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "png" | "jpg" | "jpeg"))
}

impl FileCamera {
    /// A camera showing `path` (an image file or a folder of frames).
    pub fn open(path: &Path, fps: f32) -> Result<Self, CameraError> {
        let err = |detail: String| CameraError::File {
            path: path.to_path_buf(),
            detail,
        };
        let frames = if path.is_dir() {
            let mut v: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|e| err(e.to_string()))?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| is_image(p))
                .collect();
            v.sort();
            v
        } else if path.exists() {
            vec![path.to_path_buf()]
        } else {
            return Err(err("no such file or folder".into()));
        };
        if frames.is_empty() {
            return Err(err("the folder has no .png or .jpg frames".into()));
        }
        Ok(Self {
            frames,
            fps: fps.max(0.1),
            started: None,
            source: path.to_path_buf(),
        })
    }

    /// Every frame once, in order (for reports over a recording).
    pub fn all(&self) -> Result<Vec<RgbImage>, CameraError> {
        self.frames.iter().map(|p| load(p)).collect()
    }
}

fn load(p: &Path) -> Result<RgbImage, CameraError> {
    image::open(p)
        .map(|i| i.to_rgb8())
        .map_err(|e| CameraError::File {
            path: p.to_path_buf(),
            detail: e.to_string(),
        })
}

impl Camera for FileCamera {
    fn frame(&mut self) -> Result<RgbImage, CameraError> {
        let started = *self.started.get_or_insert_with(Instant::now);
        let i = (started.elapsed().as_secs_f32() * self.fps) as usize % self.frames.len();
        load(&self.frames[i])
    }

    fn describe(&self) -> String {
        format!("frames from {}", self.source.display())
    }
}

/// The system camera through nokhwa.
pub struct NokhwaCamera {
    camera: nokhwa::Camera,
    index: u32,
}

impl std::fmt::Debug for NokhwaCamera {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NokhwaCamera")
            .field("index", &self.index)
            .finish_non_exhaustive()
    }
}

impl NokhwaCamera {
    /// Opens camera `index` (0 is the first) at the highest frame rate it offers.
    pub fn open(index: u32) -> Result<Self, CameraError> {
        use nokhwa::utils::{CameraIndex, RequestedFormat, RequestedFormatType};
        let format = RequestedFormat::new::<nokhwa::pixel_format::RgbFormat>(
            RequestedFormatType::AbsoluteHighestFrameRate,
        );
        let mut camera = nokhwa::Camera::new(CameraIndex::Index(index), format)
            .map_err(|e| CameraError::NoDevice(format!(" at index {index} ({e})")))?;
        camera
            .open_stream()
            .map_err(|e| CameraError::Device(e.to_string()))?;
        Ok(Self { camera, index })
    }
}

impl Camera for NokhwaCamera {
    fn frame(&mut self) -> Result<RgbImage, CameraError> {
        let buffer = self
            .camera
            .frame()
            .map_err(|e| CameraError::Device(e.to_string()))?;
        let decoded = buffer
            .decode_image::<nokhwa::pixel_format::RgbFormat>()
            .map_err(|e| CameraError::Device(e.to_string()))?;
        RgbImage::from_raw(decoded.width(), decoded.height(), decoded.into_raw())
            .ok_or_else(|| CameraError::Device("frame of the wrong size".into()))
    }

    fn describe(&self) -> String {
        format!("camera {}", self.index)
    }
}

/// Samples `seconds` of frames at about `fps` from a live camera.
pub fn sample(
    camera: &mut dyn Camera,
    seconds: f32,
    fps: f32,
) -> Result<Vec<RgbImage>, CameraError> {
    let end = Instant::now() + Duration::from_secs_f32(seconds);
    let mut frames = Vec::new();
    while Instant::now() < end {
        frames.push(camera.frame()?);
        std::thread::sleep(Duration::from_secs_f32(1.0 / fps.max(0.1)));
    }
    Ok(frames)
}
