//! Devices and local models, no Bevy: audio input and output, Silero VAD via ort, Whisper ASR via whisper-rs,
//! and the model files they load (verified against `models/manifest.toml`).

pub mod asr;
pub mod audio;
pub mod camera;
pub mod decoder_rules;
pub mod ears;
pub mod face;
pub mod hallucination;
pub mod listen;
pub mod mic;
pub mod models;
pub mod onnx;
pub mod speaker;
pub mod timestamps;
pub mod vad;
pub mod video;

pub use asr::{Asr, AsrOptions};
pub use ears::{Ears, EarsError};
pub use models::ModelError;
pub use vad::{EndpointConfig, Endpointer, SpeechSpan, Vad};
