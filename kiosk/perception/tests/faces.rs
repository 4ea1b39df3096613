//! MTCNN face presence on real photographs: one face found with sensible landmarks, none on a cat
//! or a coffee cup, two side by side flagged; the video report summarises frames; the file camera
//! and a missing camera behave.

use std::path::{Path, PathBuf};

use image::{RgbImage, imageops};
use kiosk_perception::camera::{Camera, FileCamera, NokhwaCamera};
use kiosk_perception::face::FaceDetector;
use kiosk_perception::video::{observe, summarise};

fn models() -> PathBuf {
    std::env::var_os("KIOSK_MODELS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../var/models"))
}

fn fixture(name: &str) -> RgbImage {
    image::open(models().join("fixtures").join(name))
        .expect("fixture (models/fetch.sh installs it)")
        .to_rgb8()
}

/// The kiosk's camera resolution: 640×480, the photo letterboxed in.
fn frame_640(img: &RgbImage) -> RgbImage {
    let scaled = imageops::resize(img, 480, 480, imageops::FilterType::Triangle);
    let mut out = RgbImage::from_pixel(640, 480, image::Rgb([90, 90, 90]));
    imageops::overlay(&mut out, &scaled, 80, 0);
    out
}

#[test]
fn one_face_none_and_two_faces() {
    let mut det = FaceDetector::load(&models()).expect("MTCNN loads");
    let astronaut = frame_640(&fixture("astronaut.png"));
    let faces = det.detect(&astronaut).expect("detects");
    let confident: Vec<_> = faces.iter().filter(|f| f.score > 0.9).collect();
    assert_eq!(confident.len(), 1, "{faces:?}");
    let f = confident[0];
    // The astronaut's face is in the upper middle of the photo.
    let (cx, cy) = ((f.bbox[0] + f.bbox[2]) / 2.0, (f.bbox[1] + f.bbox[3]) / 2.0);
    assert!(
        (200.0..=400.0).contains(&cx) && (50.0..=250.0).contains(&cy),
        "{f:?}"
    );
    let [(lx, _), (rx, _), (nx, ny), _, (_, my)] = f.landmarks;
    assert!(
        lx < nx && nx < rx && ny < my,
        "eyes either side of the nose, mouth below it: {f:?}"
    );
    assert!(f.frontal(), "{f:?}");

    for name in ["chelsea.png", "coffee.png"] {
        let faces = det.detect(&frame_640(&fixture(name))).expect("detects");
        assert!(faces.iter().all(|f| f.score < 0.9), "{name}: {faces:?}");
    }

    // Two people side by side.
    let half = imageops::resize(
        &fixture("astronaut.png"),
        320,
        320,
        imageops::FilterType::Triangle,
    );
    let mut two = RgbImage::from_pixel(640, 480, image::Rgb([90, 90, 90]));
    imageops::overlay(&mut two, &half, 0, 80);
    imageops::overlay(&mut two, &half, 320, 80);
    let report = summarise(&[observe(&mut det, &two).expect("observes")]);
    assert_eq!(report.multiple_faces_ratio, 1.0, "{report:?}");
}

#[test]
fn the_video_report_counts_presence_darkness_and_crowds() {
    let mut det = FaceDetector::load(&models()).expect("MTCNN loads");
    let face = frame_640(&fixture("astronaut.png"));
    let empty = frame_640(&fixture("coffee.png"));
    let dark = RgbImage::from_pixel(640, 480, image::Rgb([8, 8, 8]));
    let frames = [&face, &face, &face, &empty, &dark];
    let obs: Vec<_> = frames
        .iter()
        .map(|f| observe(&mut det, f).expect("observes"))
        .collect();
    let r = summarise(&obs);
    assert_eq!(r.frames, 5);
    assert!((r.face_present_ratio - 0.6).abs() < 1e-6, "{r:?}");
    assert!((r.too_dark_ratio - 0.2).abs() < 1e-6, "{r:?}");
    assert_eq!(r.multiple_faces_ratio, 0.0);
    assert!((r.frontal_ratio - 0.6).abs() < 1e-6, "{r:?}");
}

#[test]
fn file_camera_and_missing_camera() {
    let dir = tempfile::tempdir().expect("tmp");
    for (i, name) in ["astronaut.png", "coffee.png"].iter().enumerate() {
        fixture(name)
            .save(dir.path().join(format!("{i:03}.png")))
            .expect("save");
    }
    let mut cam = FileCamera::open(dir.path(), 10.0).expect("folder camera");
    assert_eq!(cam.all().expect("frames").len(), 2);
    assert_eq!(cam.frame().expect("frame").width(), 512);
    let err = FileCamera::open(&dir.path().join("nope"), 10.0).expect_err("missing");
    assert!(err.to_string().contains("nope"), "{err}");
    // This machine has no camera: the real one fails with a message that says what to check.
    if !Path::new("/dev/video0").exists() {
        let err = NokhwaCamera::open(0).expect_err("no camera here");
        assert!(
            err.to_string().contains("no camera found") && err.to_string().contains("/dev/video0"),
            "{err}"
        );
    }
}
