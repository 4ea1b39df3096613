//! Audio in the form every model here takes: 16 kHz mono f32 samples in [-1, 1].

use std::path::{Path, PathBuf};

/// The sample rate of everything downstream.
pub const RATE: u32 = 16_000;

/// An audio input problem.
#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    /// The file cannot be read as WAV.
    #[error("cannot read {path} as WAV audio: {detail}")]
    Wav {
        /// The file.
        path: PathBuf,
        /// Why.
        detail: String,
    },
    /// The file's rate is not 16 kHz (resampling of files comes with the live-microphone path).
    #[error("{path} is {rate} Hz; give 16 kHz audio (e.g. `sox in.wav -r 16000 -c 1 out.wav`)")]
    Rate {
        /// The file.
        path: PathBuf,
        /// Its rate.
        rate: u32,
    },
}

/// Reads a 16 kHz WAV file (any channel count, integer or float samples) as mono f32.
pub fn read_wav(path: &Path) -> Result<Vec<f32>, AudioError> {
    let reader = hound::WavReader::open(path).map_err(|e| AudioError::Wav {
        path: path.to_path_buf(),
        detail: e.to_string(),
    })?;
    samples_of(reader, path)
}

/// Reads WAV audio held in memory (a recording unsealed from the store); `path` names it in
/// errors.
pub fn read_wav_bytes(bytes: &[u8], path: &Path) -> Result<Vec<f32>, AudioError> {
    let reader =
        hound::WavReader::new(std::io::Cursor::new(bytes)).map_err(|e| AudioError::Wav {
            path: path.to_path_buf(),
            detail: e.to_string(),
        })?;
    samples_of(reader, path)
}

fn samples_of<R: std::io::Read>(
    mut reader: hound::WavReader<R>,
    path: &Path,
) -> Result<Vec<f32>, AudioError> {
    let err = |detail: String| AudioError::Wav {
        path: path.to_path_buf(),
        detail,
    };
    let spec = reader.spec();
    if spec.sample_rate != RATE {
        return Err(AudioError::Rate {
            path: path.to_path_buf(),
            rate: spec.sample_rate,
        });
    }
    let interleaved: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => reader
            .samples::<f32>()
            .collect::<Result<_, _>>()
            .map_err(|e| err(e.to_string()))?,
        hound::SampleFormat::Int => {
            let scale = (1i64 << (spec.bits_per_sample - 1)) as f32;
            reader
                .samples::<i32>()
                .map(|s| s.map(|v| v as f32 / scale))
                .collect::<Result<_, _>>()
                .map_err(|e| err(e.to_string()))?
        }
    };
    let ch = usize::from(spec.channels.max(1));
    Ok(interleaved
        .chunks(ch)
        .map(|frame| frame.iter().sum::<f32>() / ch as f32)
        .collect())
}

/// Root-mean-square level in dBFS (−inf for silence).
pub fn dbfs(samples: &[f32]) -> f32 {
    if samples.is_empty() {
        return f32::NEG_INFINITY;
    }
    let ms = samples.iter().map(|s| s * s).sum::<f32>() / samples.len() as f32;
    10.0 * ms.log10()
}

/// 16 kHz mono samples as the bytes of a 16-bit PCM WAV file (to be sealed before it is stored).
pub fn wav_bytes(samples: &[f32]) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::with_capacity(44 + 2 * samples.len()));
    let mut w = hound::WavWriter::new(&mut out, SPEC).expect("a WAV header fits in memory");
    for s in samples {
        w.write_sample((s.clamp(-1.0, 1.0) * f32::from(i16::MAX)) as i16)
            .expect("memory takes every sample");
    }
    w.finalize().expect("memory takes the WAV trailer");
    out.into_inner()
}

const SPEC: hound::WavSpec = hound::WavSpec {
    channels: 1,
    sample_rate: RATE,
    bits_per_sample: 16,
    sample_format: hound::SampleFormat::Int,
};

/// Writes 16 kHz mono samples as a 16-bit PCM WAV file (written beside, then renamed into
/// place, so a crash never leaves half a file under the final name). Returns the bytes written.
pub fn write_wav(path: &Path, samples: &[f32]) -> Result<u64, std::io::Error> {
    let spec = SPEC;
    let tmp = path.with_extension("wav.part");
    let io = |e: hound::Error| match e {
        hound::Error::IoError(e) => e,
        other => std::io::Error::other(other.to_string()),
    };
    let mut w = hound::WavWriter::create(&tmp, spec).map_err(io)?;
    for s in samples {
        w.write_sample((s.clamp(-1.0, 1.0) * f32::from(i16::MAX)) as i16)
            .map_err(io)?;
    }
    w.finalize().map_err(io)?;
    std::fs::File::open(&tmp)?.sync_all()?;
    std::fs::rename(&tmp, path)?;
    Ok(std::fs::metadata(path)?.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wav_bytes_read_back_as_the_samples_written() {
        let samples: Vec<f32> = (0..1600).map(|i| ((i as f32) * 0.01).sin() * 0.5).collect();
        let bytes = wav_bytes(&samples);
        assert!(bytes.starts_with(b"RIFF"));
        let back = read_wav_bytes(&bytes, Path::new("mem")).expect("reads");
        assert_eq!(back.len(), samples.len());
        assert!(back.iter().zip(&samples).all(|(a, b)| (a - b).abs() < 1e-3));
        assert!(read_wav_bytes(b"not a wav", Path::new("mem")).is_err());
    }
}
