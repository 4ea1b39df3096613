//! Devices for the app beyond the perception crate's: a microphone that plays prepared clips
//! (tests, and the demo without ALSA), a microphone that feeds each clip through ALSA's `file`
//! device (the demo: real cpal capture without hardware), and answer playback for the manager.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use kiosk_perception::audio::{RATE, read_wav};
use kiosk_perception::mic::{CpalMic, MicError, Microphone, feed};

/// Plays one prepared clip per `start`, then silence: the n-th recording hears the n-th clip.
#[derive(Debug)]
pub struct ClipsMic {
    clips: VecDeque<Vec<f32>>,
    paced: bool,
}

impl ClipsMic {
    /// Clips in the order the app will record.
    pub fn new(clips: Vec<Vec<f32>>, paced: bool) -> Self {
        Self {
            clips: clips.into(),
            paced,
        }
    }

    /// Clips from WAV files.
    pub fn from_files(files: &[PathBuf], paced: bool) -> Result<Self, MicError> {
        let clips = files
            .iter()
            .map(|f| read_wav(f))
            .collect::<Result<_, _>>()?;
        Ok(Self::new(clips, paced))
    }
}

impl Microphone for ClipsMic {
    fn start(&mut self) -> Result<Receiver<Vec<f32>>, MicError> {
        let clip = self
            .clips
            .pop_front()
            .unwrap_or_else(|| vec![0.0; RATE as usize * 3]);
        Ok(feed(clip, self.paced))
    }

    fn stop(&mut self) {}

    fn describe(&self) -> String {
        format!("{} prepared clips", self.clips.len())
    }
}

/// Real capture through cpal and ALSA, where ALSA's default device is a `file` PCM reading
/// `infile`: before each recording the next clip is written there as raw S16_LE 16 kHz mono,
/// and what cpal captures is passed on at real-time pace.
#[derive(Debug)]
pub struct AlsaFileMic {
    clips: VecDeque<Vec<f32>>,
    infile: PathBuf,
    inner: CpalMic,
}

impl AlsaFileMic {
    /// Clips from WAV files, fed through `infile`.
    pub fn new(files: &[PathBuf], infile: &Path) -> Result<Self, MicError> {
        let clips = files
            .iter()
            .map(|f| read_wav(f))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            clips,
            infile: infile.to_path_buf(),
            inner: CpalMic::new(None),
        })
    }
}

impl Microphone for AlsaFileMic {
    fn start(&mut self) -> Result<Receiver<Vec<f32>>, MicError> {
        let clip = self
            .clips
            .pop_front()
            .unwrap_or_else(|| vec![0.0; RATE as usize * 3]);
        let raw: Vec<u8> = clip
            .iter()
            .flat_map(|s| ((s.clamp(-1.0, 1.0) * 32767.0) as i16).to_le_bytes())
            .collect();
        std::fs::write(&self.infile, raw).map_err(|e| MicError::Start {
            device: self.infile.display().to_string(),
            detail: e.to_string(),
        })?;
        let captured = self.inner.start()?;
        let (tx, rx) = channel();
        let len = clip.len();
        std::thread::spawn(move || {
            let mut sent = 0;
            while sent < len {
                let Ok(chunk) = captured.recv_timeout(Duration::from_secs(2)) else {
                    return;
                };
                sent += chunk.len();
                let ms = chunk.len() as u64 * 1000 / u64::from(RATE);
                if tx.send(chunk).is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(ms));
            }
        });
        Ok(rx)
    }

    fn stop(&mut self) {
        self.inner.stop();
    }

    fn describe(&self) -> String {
        format!("ALSA file device fed from {}", self.infile.display())
    }
}

/// Plays a 16 kHz answer recording on the default output device, in the background. The
/// receiver says whether playback could start.
pub fn play_wav(path: &Path) -> Receiver<Result<(), String>> {
    let (tx, rx) = channel();
    let path = path.to_path_buf();
    std::thread::spawn(move || {
        let started = (|| -> Result<(cpal::Stream, Duration), String> {
            let samples = read_wav(&path).map_err(|e| e.to_string())?;
            let device = cpal::default_host()
                .default_output_device()
                .ok_or("no speaker found: check the audio output (aplay -l)")?;
            let config = device
                .supported_output_configs()
                .map_err(|e| e.to_string())?
                .filter(|c| c.sample_format() == cpal::SampleFormat::F32)
                .filter_map(|c| c.try_with_sample_rate(RATE))
                .min_by_key(cpal::SupportedStreamConfig::channels)
                .ok_or("the speaker cannot play 16 kHz audio")?
                .config();
            let channels = usize::from(config.channels);
            let seconds = samples.len() as f32 / RATE as f32;
            let mut it = samples.into_iter();
            let stream = device
                .build_output_stream::<f32, _, _>(
                    config,
                    move |out, _| {
                        for frame in out.chunks_mut(channels) {
                            let s = it.next().unwrap_or(0.0);
                            frame.fill(s);
                        }
                    },
                    |e| tracing::warn!("playback: {e}"),
                    None,
                )
                .map_err(|e| e.to_string())?;
            stream.play().map_err(|e| e.to_string())?;
            Ok((stream, Duration::from_secs_f32(seconds + 0.3)))
        })();
        match started {
            Ok((stream, length)) => {
                let _ = tx.send(Ok(()));
                std::thread::sleep(length);
                drop(stream);
            }
            Err(e) => {
                let _ = tx.send(Err(format!("cannot play {}: {e}", path.display())));
            }
        }
    });
    rx
}
