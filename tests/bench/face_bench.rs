//! `face-bench`: MTCNN face presence at the kiosk's 640×480 — frames per second and peak memory.
//! Not a test. Run: `cargo build --release --workspace --bins && target/release/face-bench`.

use std::time::Instant;

use image::{RgbImage, imageops};
use kiosk_perception::face::FaceDetector;
use system_tests::repo_models;

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn main() {
    let models = repo_models();
    let photo = image::open(models.join("fixtures/astronaut.png"))
        .expect("fixture (models/fetch.sh)")
        .to_rgb8();
    let face = imageops::resize(&photo, 480, 480, imageops::FilterType::Triangle);
    let mut frame = RgbImage::from_pixel(640, 480, image::Rgb([90, 90, 90]));
    imageops::overlay(&mut frame, &face, 80, 0);
    let empty = RgbImage::from_pixel(640, 480, image::Rgb([90, 90, 90]));
    let mut det = FaceDetector::load(&models).expect("MTCNN loads");
    det.detect(&frame).expect("warm-up");
    println!("face presence benchmark — MTCNN (ort, 1 thread per stage), 640×480, min face 40 px");
    println!("| frame | frames/s | ms/frame |");
    println!("|---|---:|---:|");
    for (name, img) in [("one face", &frame), ("no face", &empty)] {
        let n = 30;
        let t = Instant::now();
        for _ in 0..n {
            det.detect(img).expect("detects");
        }
        let s = t.elapsed().as_secs_f64();
        println!(
            "| {name} | {:.1} | {:.1} |",
            n as f64 / s,
            s * 1000.0 / n as f64
        );
    }
    println!(
        "| peak RSS of this process (models loaded) | {:.1} MB | |",
        peak_rss_mb()
    );
}
