//! The speaker through cpal: the manager plays an answer back, and the demo speaks its prepared
//! answers out loud for the microphone to hear. 16 kHz mono in, any device rate and channel count
//! out (resampled with rubato when the device cannot take 16 kHz).

use std::time::Duration;

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler};

use crate::audio::RATE;

/// A speaker problem.
#[derive(Debug, thiserror::Error)]
pub enum SpeakerError {
    /// No output device.
    #[error("no speaker found: check it is plugged in and that `aplay -l` lists it")]
    NoDevice,
    /// The device has no configuration we can feed.
    #[error("the speaker `{device}` cannot play this audio: {detail}")]
    Config {
        /// Device.
        device: String,
        /// Why.
        detail: String,
    },
    /// The device refused to start.
    #[error("the speaker `{device}` could not start: {detail}")]
    Start {
        /// Device.
        device: String,
        /// Why.
        detail: String,
    },
}

/// Sound playing until this is dropped (or it has played to the end).
pub struct Playing {
    _stream: cpal::Stream,
    /// How long the sound lasts.
    pub length: Duration,
}

impl std::fmt::Debug for Playing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Playing")
            .field("length", &self.length)
            .finish_non_exhaustive()
    }
}

/// Resamples mono audio from 16 kHz to `rate`.
pub fn resample_from_16k(samples: &[f32], rate: u32) -> Result<Vec<f32>, String> {
    if rate == RATE || samples.is_empty() {
        return Ok(samples.to_vec());
    }
    let mut r = Fft::<f32>::new(RATE as usize, rate as usize, 1024, 1, FixedSync::Both)
        .map_err(|e| e.to_string())?;
    let mut out = vec![0.0; r.process_all_needed_output_len(samples.len())];
    let input = InterleavedSlice::new(samples, 1, samples.len()).map_err(|e| e.to_string())?;
    let frames = out.len();
    let mut output =
        InterleavedSlice::new_mut(&mut out[..], 1, frames).map_err(|e| e.to_string())?;
    let (_, produced) = r
        .process_all_into_buffer(&input, &mut output, samples.len(), None)
        .map_err(|e| e.to_string())?;
    out.truncate(produced);
    Ok(out)
}

/// Starts playing 16 kHz mono `samples` on the default output device, in the background.
pub fn play(samples: &[f32]) -> Result<Playing, SpeakerError> {
    let device = cpal::default_host()
        .default_output_device()
        .ok_or(SpeakerError::NoDevice)?;
    let name = crate::mic::device_name(&device);
    let config_err = |detail: String| SpeakerError::Config {
        device: name.clone(),
        detail,
    };
    let start_err = |e: &dyn std::fmt::Display| SpeakerError::Start {
        device: name.clone(),
        detail: e.to_string(),
    };
    let f32_configs: Vec<_> = device
        .supported_output_configs()
        .map_err(|e| config_err(e.to_string()))?
        .filter(|c| c.sample_format() == cpal::SampleFormat::F32)
        .collect();
    // 16 kHz if the device takes it (no resampling), else its default rate.
    let config = f32_configs
        .iter()
        .filter_map(|c| c.try_with_sample_rate(RATE))
        .min_by_key(cpal::SupportedStreamConfig::channels)
        .or_else(|| {
            let rate = device.default_output_config().ok()?.sample_rate();
            f32_configs
                .iter()
                .filter_map(|c| c.try_with_sample_rate(rate))
                .min_by_key(cpal::SupportedStreamConfig::channels)
        })
        .ok_or_else(|| config_err("it takes no 32-bit float format".into()))?
        .config();
    let rate = config.sample_rate;
    let audio = resample_from_16k(samples, rate).map_err(config_err)?;
    let length = Duration::from_secs_f64(audio.len() as f64 / f64::from(rate));
    let channels = usize::from(config.channels);
    let mut it = audio.into_iter();
    let stream = device
        .build_output_stream::<f32, _, _>(
            config,
            move |out, _| {
                for frame in out.chunks_mut(channels) {
                    frame.fill(it.next().unwrap_or(0.0));
                }
            },
            {
                // Some ALSA plugins report the same error on every period (PulseAudio's, for
                // a few milliseconds while its stream starts): say it once, count the rest.
                let mut reported = 0u64;
                move |e| {
                    reported += 1;
                    if reported == 1 {
                        tracing::warn!("playback: {e}");
                    } else if reported.is_power_of_two() {
                        tracing::debug!(times = reported, "playback: {e}");
                    }
                }
            },
            None,
        )
        .map_err(|e| start_err(&e))?;
    stream.play().map_err(|e| start_err(&e))?;
    Ok(Playing {
        _stream: stream,
        length,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resampling_keeps_length_and_pitch() {
        // One second of 440 Hz at 16 kHz → 48 kHz: three times the samples, same zero crossings.
        let tone: Vec<f32> = (0..RATE)
            .map(|i| (i as f32 * 440.0 * std::f32::consts::TAU / RATE as f32).sin() * 0.5)
            .collect();
        let out = resample_from_16k(&tone, 48_000).expect("resample");
        assert!((out.len() as i64 - 48_000).abs() < 64, "{}", out.len());
        let crossings = out.windows(2).filter(|w| w[0] < 0.0 && w[1] >= 0.0).count();
        assert!((438..=442).contains(&crossings), "{crossings}");
    }
}
