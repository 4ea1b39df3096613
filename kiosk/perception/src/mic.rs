//! Microphones behind one small trait: the real one through cpal (any device rate and channel
//! count, down-mixed and resampled to 16 kHz mono with rubato) and a WAV-file one for tests and
//! demos. Capture runs on the audio thread; chunks arrive over a channel.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::Duration;

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler};

use crate::audio::{RATE, read_wav};

/// A microphone problem.
#[derive(Debug, thiserror::Error)]
pub enum MicError {
    /// No capture device.
    #[error("no microphone found{0}: check it is plugged in and that `arecord -l` lists it")]
    NoDevice(String),
    /// The device refused to start.
    #[error("the microphone `{device}` could not start: {detail}")]
    Start {
        /// Device.
        device: String,
        /// Why.
        detail: String,
    },
    /// The file microphone's file.
    #[error(transparent)]
    File(#[from] crate::audio::AudioError),
}

/// Something that captures 16 kHz mono audio.
pub trait Microphone {
    /// Starts capturing; 16 kHz mono chunks arrive on the receiver until [`Microphone::stop`].
    fn start(&mut self) -> Result<Receiver<Vec<f32>>, MicError>;
    /// Stops capturing.
    fn stop(&mut self);
    /// What it is, for messages and `kiosk check`.
    fn describe(&self) -> String;
    /// The next recording asks again for the answer recorded `back` recordings ago (1: the
    /// last one) — "please say that again". A real microphone has nothing to do; one that
    /// plays a script says that answer again, as a person would.
    fn again(&mut self, back: usize) {
        let _ = back;
    }
}

/// Plays a WAV file as if it were spoken into a microphone, paced in real time or all at once.
#[derive(Debug)]
pub struct FileMic {
    path: PathBuf,
    paced: bool,
}

impl FileMic {
    /// A file microphone.
    pub fn new(path: &Path, paced: bool) -> Self {
        Self {
            path: path.to_path_buf(),
            paced,
        }
    }
}

impl Microphone for FileMic {
    fn start(&mut self) -> Result<Receiver<Vec<f32>>, MicError> {
        Ok(feed(read_wav(&self.path)?, self.paced))
    }

    fn stop(&mut self) {}

    fn describe(&self) -> String {
        format!("file {}", self.path.display())
    }
}

/// Sends `samples` in 32 ms chunks from a thread, in real time when `paced`, as a microphone would.
pub fn feed(samples: Vec<f32>, paced: bool) -> Receiver<Vec<f32>> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for chunk in samples.chunks(512) {
            if tx.send(chunk.to_vec()).is_err() {
                return;
            }
            if paced {
                std::thread::sleep(Duration::from_millis(32));
            }
        }
    });
    rx
}

/// Down-mixes to mono and resamples to 16 kHz, chunk by chunk.
struct Converter {
    channels: usize,
    resampler: Option<Fft<f32>>,
    pending: Vec<f32>,
    out: Vec<f32>,
}

impl Converter {
    fn new(rate: u32, channels: usize) -> Result<Self, String> {
        let resampler = (rate != RATE)
            .then(|| {
                Fft::<f32>::new(rate as usize, RATE as usize, 1024, 1, FixedSync::Input)
                    .map_err(|e| e.to_string())
            })
            .transpose()?;
        let out = vec![0.0; resampler.as_ref().map_or(0, Resampler::output_frames_max)];
        Ok(Self {
            channels: channels.max(1),
            resampler,
            pending: Vec::new(),
            out,
        })
    }

    fn push(&mut self, interleaved: impl Iterator<Item = f32>, tx: &Sender<Vec<f32>>) {
        let mut frame = Vec::with_capacity(self.channels);
        for s in interleaved {
            frame.push(s);
            if frame.len() == self.channels {
                self.pending
                    .push(frame.iter().sum::<f32>() / self.channels as f32);
                frame.clear();
            }
        }
        let Some(r) = self.resampler.as_mut() else {
            let _ = tx.send(std::mem::take(&mut self.pending));
            return;
        };
        while self.pending.len() >= r.input_frames_next() {
            let n = r.input_frames_next();
            let produced = {
                let Ok(input) = InterleavedSlice::new(&self.pending[..n], 1, n) else {
                    return;
                };
                let frames = self.out.len();
                let Ok(mut output) = InterleavedSlice::new_mut(&mut self.out[..], 1, frames) else {
                    return;
                };
                match r.process_into_buffer(&input, &mut output, None) {
                    Ok((_, produced)) => produced,
                    Err(e) => return tracing::error!("resampling failed: {e}"),
                }
            };
            let _ = tx.send(self.out[..produced].to_vec());
            self.pending.drain(..n);
        }
    }
}

/// The system microphone through cpal (ALSA on Linux).
pub struct CpalMic {
    device: Option<String>,
    stream: Option<cpal::Stream>,
}

impl std::fmt::Debug for CpalMic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CpalMic")
            .field("device", &self.device)
            .finish_non_exhaustive()
    }
}

impl CpalMic {
    /// The default input device, or the one whose name contains `device`.
    pub fn new(device: Option<String>) -> Self {
        Self {
            device,
            stream: None,
        }
    }

    fn open(&self) -> Result<cpal::Device, MicError> {
        let host = cpal::default_host();
        match &self.device {
            None => host
                .default_input_device()
                .ok_or_else(|| MicError::NoDevice(String::new())),
            Some(want) => host
                .input_devices()
                .map_err(|e| MicError::NoDevice(format!(" ({e})")))?
                .find(|d| {
                    d.description()
                        .is_ok_and(|n| n.to_string().contains(want.as_str()))
                })
                .ok_or_else(|| MicError::NoDevice(format!(" named `{want}`"))),
        }
    }
}

/// An audio device's name for messages and logs.
pub(crate) fn device_name(device: &cpal::Device) -> String {
    device
        .description()
        .map(|d| d.to_string())
        .unwrap_or_else(|_| "default".into())
}

impl Microphone for CpalMic {
    fn start(&mut self) -> Result<Receiver<Vec<f32>>, MicError> {
        let device = self.open()?;
        let name = device_name(&device);
        let fail = |detail: String| MicError::Start {
            device: name.clone(),
            detail,
        };
        // Prefer what the models want (16 kHz, fewest channels, a format we read): no resampling.
        let native = device.supported_input_configs().ok().and_then(|configs| {
            configs
                .filter(|c| {
                    matches!(
                        c.sample_format(),
                        cpal::SampleFormat::I16 | cpal::SampleFormat::F32
                    )
                })
                .filter_map(|c| c.try_with_sample_rate(RATE))
                .min_by_key(|c| (c.channels(), c.sample_format() != cpal::SampleFormat::I16))
        });
        let supported = match native {
            Some(c) => c,
            None => device
                .default_input_config()
                .map_err(|e| fail(e.to_string()))?,
        };
        let mut config: cpal::StreamConfig = supported.config();
        // Chunks of about 32 ms (one VAD frame), not the driver's few milliseconds: the audio
        // thread wakes ~30 times a second instead of hundreds, which the frame loop feels.
        let want = config.sample_rate / 32;
        if let cpal::SupportedBufferSize::Range { min, max } = supported.buffer_size() {
            config.buffer_size = cpal::BufferSize::Fixed(want.clamp(*min, *max));
        }
        let (tx, rx) = channel();
        let format = supported.sample_format();
        let build = |config: cpal::StreamConfig| -> Result<cpal::Stream, MicError> {
            let mut conv =
                Converter::new(config.sample_rate, usize::from(config.channels)).map_err(&fail)?;
            let tx = tx.clone();
            let on_error = |e: cpal::Error| tracing::warn!("microphone: {e}");
            match format {
                cpal::SampleFormat::F32 => device.build_input_stream::<f32, _, _>(
                    config,
                    move |data, _| conv.push(data.iter().copied(), &tx),
                    on_error,
                    None,
                ),
                cpal::SampleFormat::I16 => device.build_input_stream::<i16, _, _>(
                    config,
                    move |data, _| conv.push(data.iter().map(|s| f32::from(*s) / 32768.0), &tx),
                    on_error,
                    None,
                ),
                cpal::SampleFormat::I32 => device.build_input_stream::<i32, _, _>(
                    config,
                    move |data, _| {
                        conv.push(data.iter().map(|s| *s as f32 / 2_147_483_648.0), &tx);
                    },
                    on_error,
                    None,
                ),
                other => return Err(fail(format!("sample format {other:?} is not supported"))),
            }
            .map_err(|e| fail(e.to_string()))
        };
        // Some devices refuse a buffer size inside the range they report: then their own.
        let (stream, buffer) = match build(config) {
            Ok(s) => (s, config.buffer_size),
            Err(e) => {
                tracing::debug!("{e}: retrying with the device's buffer size");
                let own = cpal::BufferSize::Default;
                let stream = build(cpal::StreamConfig {
                    buffer_size: own,
                    ..config
                })?;
                (stream, own)
            }
        };
        tracing::info!(?buffer, device = %name, rate = config.sample_rate, channels = config.channels, ?format, "microphone opened");
        stream.play().map_err(|e| fail(e.to_string()))?;
        self.stream = Some(stream);
        Ok(rx)
    }

    fn stop(&mut self) {
        self.stream = None;
    }

    fn describe(&self) -> String {
        format!(
            "microphone {}",
            self.device.as_deref().unwrap_or("(default)")
        )
    }
}

/// Capturing an answer failed.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// The microphone.
    #[error(transparent)]
    Mic(#[from] MicError),
    /// The VAD model.
    #[error(transparent)]
    Model(#[from] crate::ModelError),
}

/// Captures one answer: until the end-pointer says it is over, or `limit` passes, or the input ends.
pub fn capture(
    mic: &mut dyn Microphone,
    vad: &mut crate::Vad,
    endpoint: &crate::EndpointConfig,
    limit: Duration,
) -> Result<Vec<f32>, CaptureError> {
    let rx = mic.start()?;
    vad.reset();
    let mut ep = crate::Endpointer::new(endpoint.clone());
    let mut samples: Vec<f32> = Vec::new();
    let mut fed = 0;
    let max = (limit.as_secs_f32() * RATE as f32) as usize;
    'outer: while samples.len() < max {
        let chunk = match rx.recv_timeout(Duration::from_secs(2)) {
            Ok(c) => c,
            Err(_) => break,
        };
        samples.extend(chunk);
        while samples.len() - fed >= crate::vad::FRAME {
            let p = vad.frame(&samples[fed..fed + crate::vad::FRAME])?;
            fed += crate::vad::FRAME;
            if ep.push(p) {
                break 'outer;
            }
        }
    }
    mic.stop();
    tracing::info!(
        captured_ms = samples.len() * 1000 / RATE as usize,
        "answer captured"
    );
    samples.truncate(max);
    Ok(samples)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 48 kHz stereo in, 16 kHz mono out: the right length and the same pitch.
    #[test]
    fn converter_downmixes_and_resamples() {
        let (tx, rx) = channel();
        let mut conv = Converter::new(48_000, 2).expect("converter");
        let tone =
            |i: usize| (2.0 * std::f32::consts::PI * 440.0 * i as f32 / 48_000.0).sin() * 0.5;
        // Two seconds, delivered in uneven callback sizes like a sound card's.
        let frames: Vec<f32> = (0..96_000).flat_map(|i| [tone(i), tone(i)]).collect();
        for chunk in frames.chunks(2 * 441) {
            conv.push(chunk.iter().copied(), &tx);
        }
        drop(tx);
        let out: Vec<f32> = rx.iter().flatten().collect();
        assert!(
            (31_000..=32_000).contains(&out.len()),
            "{} samples for 2 s",
            out.len()
        );
        // 440 Hz: about 880 zero crossings a second.
        let mid = &out[4_000..20_000];
        let crossings = mid
            .windows(2)
            .filter(|w| (w[0] < 0.0) != (w[1] < 0.0))
            .count();
        assert!(
            (870..=890).contains(&crossings),
            "{crossings} crossings in 1 s"
        );
    }
}
