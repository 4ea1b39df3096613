//! Devices for the app beyond the perception crate's: a microphone that plays prepared clips
//! (tests, and the demo without ALSA), a microphone that feeds each clip through ALSA's `file`
//! device (the screenshot tour: real cpal capture without hardware), a microphone that hears the
//! clips spoken on the speaker (the demo, paced like a real one), and answer playback.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use kiosk_perception::audio::{RATE, read_wav};
use kiosk_perception::mic::{CpalMic, MicError, Microphone, feed};
use kiosk_perception::speaker::{self, Playing};

/// The prepared answers of a scripted candidate, in order; asked again, it repeats the answer
/// it gave then.
#[derive(Debug, Default)]
struct Script {
    clips: VecDeque<Vec<f32>>,
    said: Vec<Vec<f32>>,
}

impl Script {
    fn new(clips: VecDeque<Vec<f32>>) -> Self {
        Self {
            clips,
            said: Vec::new(),
        }
    }

    /// The next answer to say, if any is left.
    fn next(&mut self) -> Option<Vec<f32>> {
        let clip = self.clips.pop_front()?;
        self.said.push(clip.clone());
        Some(clip)
    }

    /// The next answer is the one said `back` recordings ago.
    fn again(&mut self, back: usize) {
        let Some(i) = self.said.len().checked_sub(back.max(1)) else {
            return;
        };
        let clip = self.said.remove(i);
        self.clips.push_front(clip);
    }

    fn len(&self) -> usize {
        self.clips.len()
    }
}

/// Plays one prepared clip per `start`, then silence: the n-th recording hears the n-th clip.
#[derive(Debug)]
pub struct ClipsMic {
    clips: Script,
    paced: bool,
}

impl ClipsMic {
    /// Clips in the order the app will record.
    pub fn new(clips: Vec<Vec<f32>>, paced: bool) -> Self {
        Self {
            clips: Script::new(clips.into()),
            paced,
        }
    }

    /// Clips from WAV files.
    pub fn from_files(files: &[PathBuf], paced: bool) -> Result<Self, MicError> {
        Ok(Self {
            clips: Script::new(read_clips(files)?),
            paced,
        })
    }
}

/// The clips of WAV files, in order.
fn read_clips(files: &[PathBuf]) -> Result<VecDeque<Vec<f32>>, MicError> {
    Ok(files
        .iter()
        .map(|f| read_wav(f))
        .collect::<Result<_, _>>()?)
}

impl Microphone for ClipsMic {
    fn start(&mut self) -> Result<Receiver<Vec<f32>>, MicError> {
        let clip = self
            .clips
            .next()
            .unwrap_or_else(|| vec![0.0; RATE as usize * 3]);
        Ok(feed(clip, self.paced))
    }

    fn stop(&mut self) {}

    fn again(&mut self, back: usize) {
        self.clips.again(back);
    }

    fn describe(&self) -> String {
        format!("{} prepared clips", self.clips.len())
    }
}

/// Real capture through cpal and ALSA, where ALSA's default device is a `file` PCM reading
/// `infile`: before each recording the next clip is written there as raw S16_LE 16 kHz mono,
/// and what cpal captures is passed on at real-time pace.
#[derive(Debug)]
pub struct AlsaFileMic {
    clips: Script,
    infile: PathBuf,
    inner: CpalMic,
}

impl AlsaFileMic {
    /// Clips from WAV files, fed through `infile`.
    pub fn new(files: &[PathBuf], infile: &Path) -> Result<Self, MicError> {
        Ok(Self {
            clips: Script::new(read_clips(files)?),
            infile: infile.to_path_buf(),
            inner: CpalMic::new(None),
        })
    }
}

impl Microphone for AlsaFileMic {
    fn start(&mut self) -> Result<Receiver<Vec<f32>>, MicError> {
        let clip = self
            .clips
            .next()
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

    fn again(&mut self, back: usize) {
        self.clips.again(back);
    }
}

/// Real capture through cpal with the prepared clips spoken on the speaker: each recording
/// starts the microphone, then plays the next clip on the default output device. On a kiosk the
/// microphone hears the room; in the demo both defaults are one PulseAudio null sink and its
/// monitor, so capture is paced like a real microphone (see provisioning/dev.sh demo).
pub struct SpokenMic {
    clips: Script,
    inner: CpalMic,
    playing: Option<Playing>,
}

impl std::fmt::Debug for SpokenMic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpokenMic")
            .field("clips", &self.clips.len())
            .finish_non_exhaustive()
    }
}

impl SpokenMic {
    /// Clips from WAV files, heard by microphone `device` (None: the default).
    pub fn new(files: &[PathBuf], device: Option<String>) -> Result<Self, MicError> {
        Ok(Self {
            clips: Script::new(read_clips(files)?),
            inner: CpalMic::new(device),
            playing: None,
        })
    }
}

impl Microphone for SpokenMic {
    fn start(&mut self) -> Result<Receiver<Vec<f32>>, MicError> {
        self.playing = None;
        let captured = self.inner.start()?;
        if let Some(clip) = self.clips.next() {
            match speaker::play(&clip) {
                Ok(p) => self.playing = Some(p),
                Err(e) => tracing::error!("the demo cannot speak its answer: {e}"),
            }
        }
        Ok(captured)
    }

    fn stop(&mut self) {
        self.playing = None;
        self.inner.stop();
    }

    fn describe(&self) -> String {
        format!(
            "{} ({} clips left to speak)",
            self.inner.describe(),
            self.clips.len()
        )
    }

    fn again(&mut self, back: usize) {
        self.clips.again(back);
    }
}

/// Whether playback started, and then how long it lasts.
pub type PlaybackStart = Receiver<Result<Duration, String>>;

/// Where the app's voice goes (spoken question prompts, answer playback).
#[derive(Debug, Clone, Default)]
pub enum Speaker {
    /// The default output device, through cpal.
    #[default]
    Device,
    /// Each playback written to this folder as `<n>-<file name>` and "played" for the
    /// recording's length: the tests, which must not depend on the machine's sound card.
    Files(PathBuf),
}

impl Speaker {
    /// Plays a 16 kHz WAV file (a spoken prompt) in the background. The receiver says whether
    /// playback could start, and for how long it plays.
    pub fn play_wav(&self, path: &Path) -> PlaybackStart {
        self.play_with(path, |p| read_wav(p).map_err(|e| e.to_string()))
    }

    /// Plays an answer recording: sealed with the store key in `key_file` (an older plaintext
    /// WAV plays too). Decrypted in memory only.
    pub fn play_answer(&self, path: &Path, key_file: &Path) -> PlaybackStart {
        let key_file = key_file.to_path_buf();
        self.play_with(path, move |p| {
            let wav = if p.to_string_lossy().ends_with(kiosk_store::SEALED_SUFFIX) {
                let key = kiosk_store::StoreKey::load(&kiosk_store::locate_key(&key_file))
                    .map_err(|e| e.to_string())?;
                key.unseal_file(p).map_err(|e| e.to_string())?
            } else {
                std::fs::read(p).map_err(|e| e.to_string())?
            };
            kiosk_perception::audio::read_wav_bytes(&wav, p).map_err(|e| e.to_string())
        })
    }

    fn play_with(
        &self,
        path: &Path,
        load: impl FnOnce(&Path) -> Result<Vec<f32>, String> + Send + 'static,
    ) -> PlaybackStart {
        let (tx, rx) = channel();
        let path = path.to_path_buf();
        let speaker = self.clone();
        std::thread::spawn(move || {
            let fail = |e: String| format!("cannot play {}: {e}", path.display());
            let samples = match load(&path) {
                Ok(s) => s,
                Err(e) => {
                    let _ = tx.send(Err(fail(e)));
                    return;
                }
            };
            match speaker {
                Speaker::Device => match speaker::play(&samples) {
                    Ok(playing) => {
                        let _ = tx.send(Ok(playing.length));
                        std::thread::sleep(playing.length + Duration::from_millis(300));
                        drop(playing);
                    }
                    Err(e) => {
                        let _ = tx.send(Err(fail(e.to_string())));
                    }
                },
                Speaker::Files(dir) => {
                    let _ = tx.send(played_to(&dir, &path, &samples).map_err(fail));
                }
            }
        });
        rx
    }
}

/// Writes one playback into `dir`, numbered after the ones before it; returns its length.
fn played_to(dir: &Path, path: &Path, samples: &[f32]) -> Result<Duration, String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let n = std::fs::read_dir(dir).map_err(|e| e.to_string())?.count();
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let name = name.trim_end_matches(kiosk_store::SEALED_SUFFIX);
    kiosk_perception::audio::write_wav(&dir.join(format!("{n:03}-{name}")), samples)
        .map_err(|e| e.to_string())?;
    Ok(Duration::from_secs_f64(
        samples.len() as f64 / f64::from(RATE),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scripted_candidate_repeats_the_answer_asked_for_again() {
        let clip = |n: f32| vec![n; 4];
        let mut mic = ClipsMic::new(vec![clip(0.0), clip(1.0), clip(2.0), clip(3.0)], false);
        let said =
            |mic: &mut ClipsMic| -> f32 { mic.start().expect("start").recv().expect("clip")[0] };
        // Device check, question 1, question 2.
        assert_eq!(
            [said(&mut mic), said(&mut mic), said(&mut mic)],
            [0.0, 1.0, 2.0]
        );
        // Question 1 is asked again after question 2 (two recordings back): its answer again.
        mic.again(2);
        assert_eq!(said(&mut mic), 1.0);
        // Then the script goes on; asked again at once, the last answer is said again.
        assert_eq!(said(&mut mic), 3.0);
        mic.again(1);
        assert_eq!(said(&mut mic), 3.0);
        // Past the script: silence, and asking again for something never said changes nothing.
        mic.again(40);
        assert_eq!(said(&mut mic), 0.0);
    }
}
