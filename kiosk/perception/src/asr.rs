//! Speech-to-text with whisper-rs: loaded once, greedy by default, language from the locale, a
//! domain prompt from the role, per-segment timings and a confidence. Call it from a worker
//! thread: inference blocks for hundreds of milliseconds.

use std::path::Path;

use kiosk_screening::Segment;
use whisper_rs::{
    FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters, WhisperState,
};

use crate::audio::RATE;
use crate::models::{ModelError, verified};
use crate::timestamps::{self, Piece, Token};

/// How to transcribe.
#[derive(Debug, Clone, PartialEq)]
pub struct AsrOptions {
    /// Whisper language code: `en`, `zh`.
    pub language: String,
    /// CPU threads.
    pub threads: usize,
    /// Domain words that help recognition (from the role's `asr_prompt`); `None`: a general
    /// prompt for Chinese, none for English; `Some("")`: none at all.
    pub prompt: Option<String>,
    /// Encode only as much of Whisper's 30 s window as the answer needs: much faster on short
    /// answers and accurate with tiny.en, but it garbles Chinese with the multilingual base model
    /// (measured), so it is off by default and enabled per model.
    pub trim_audio_ctx: bool,
    /// Decode again at higher temperatures when the first pass looks wrong. Costly (it re-decodes
    /// often with trimmed windows); English tiny.en keeps the same WER without it, Chinese needs it.
    pub temperature_fallback: bool,
    /// With a trimmed window and two or more threads, cut a long answer at its pauses and
    /// transcribe the parts two at a time (see [`Asr::transcribe_parts`]).
    pub split_long_answers: bool,
    /// Beam search width; 1 decodes greedily.
    pub beam_size: usize,
    /// Suppress tokens that are not speech (music notes, bracketed sounds).
    pub suppress_non_speech: bool,
}

impl Default for AsrOptions {
    fn default() -> Self {
        Self {
            language: "en".into(),
            threads: 2,
            prompt: None,
            trim_audio_ctx: false,
            temperature_fallback: true,
            split_long_answers: true,
            beam_size: 1,
            suppress_non_speech: false,
        }
    }
}

/// A loaded Whisper model.
pub struct Asr {
    name: String,
    state: WhisperState,
    /// A second state, for the second lane of a long answer's parts (made on first use).
    second: Option<WhisperState>,
    ctx: WhisperContext,
}

impl std::fmt::Debug for Asr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Asr")
            .field("model", &self.name)
            .finish_non_exhaustive()
    }
}

/// Whisper's audio window: 1500 encoder positions for 30 s, 50 per second.
const CTX_PER_SECOND: f32 = 50.0;
const MAX_CTX: i32 = 1500;

/// The encoder positions to use for `seconds` of audio: the answer plus half a second of margin,
/// rounded up to a multiple of 64, never more than the full window.
pub fn audio_ctx_for(seconds: f32) -> i32 {
    let needed = ((seconds + 0.5) * CTX_PER_SECOND).ceil() as i32;
    (((needed + 63) / 64) * 64).clamp(64, MAX_CTX)
}

impl Asr {
    /// Loads model `name` (a manifest name such as `whisper-base`), verified first. Flash
    /// attention is faster on CPU but degraded transcripts in our tests; stations keep it off.
    pub fn load(models_dir: &Path, name: &str, flash_attn: bool) -> Result<Self, ModelError> {
        static HOOKS: std::sync::Once = std::sync::Once::new();
        HOOKS.call_once(|| {
            whisper_rs::install_logging_hooks();
            tracing::info!(kernels = %cpu_kernels(), "whisper CPU kernels");
        });
        let path = verified(models_dir, name)?;
        let load = |detail: String| ModelError::Load {
            name: name.to_string(),
            path: path.clone(),
            detail,
        };
        let mut params = WhisperContextParameters::default();
        params.use_gpu(false);
        params.flash_attn(flash_attn);
        let ctx =
            WhisperContext::new_with_params(&path, params).map_err(|e| load(e.to_string()))?;
        let state = ctx.create_state().map_err(|e| load(e.to_string()))?;
        Ok(Self {
            name: name.to_string(),
            state,
            second: None,
            ctx,
        })
    }

    /// Transcribes 16 kHz mono audio into segments (timings in ms from the start of `samples`).
    ///
    /// A long answer with a pause near its middle (with a trimmed window and long answers split)
    /// is cut at that pause: see [`Asr::transcribe_parts`]. An answer whose pauses are known
    /// (the VAD found them) is better cut there, with `transcribe_parts`.
    pub fn transcribe(
        &mut self,
        samples: &[f32],
        opts: &AsrOptions,
    ) -> Result<Vec<Segment>, ModelError> {
        let cuts: Vec<usize> = if splits(opts) {
            split_point(samples).into_iter().collect()
        } else {
            Vec::new()
        };
        self.transcribe_parts(samples, &cuts, opts)
    }

    /// Transcribes `samples` cut at `cuts` (sample indices, ascending; each a pause), each part
    /// in a Whisper pass of its own, and joins the segments (timings from the start of
    /// `samples`). With two or more threads, two parts are transcribed at once, one thread each:
    /// Whisper's decoder gains little from a second thread, and short windows cost less than one
    /// long one. Without cuts: one pass with every thread.
    pub fn transcribe_parts(
        &mut self,
        samples: &[f32],
        cuts: &[usize],
        opts: &AsrOptions,
    ) -> Result<Vec<Segment>, ModelError> {
        if samples.is_empty() {
            return Ok(Vec::new());
        }
        let mut bounds = vec![0];
        bounds.extend(cuts.iter().copied().filter(|&c| c > 0 && c < samples.len()));
        bounds.push(samples.len());
        bounds.dedup();
        let parts: Vec<(usize, usize)> = bounds.windows(2).map(|w| (w[0], w[1])).collect();
        if parts.len() == 1 {
            return run(
                &self.ctx,
                &mut self.state,
                &self.name,
                samples,
                opts,
                opts.threads,
            );
        }
        let lanes = opts.threads.clamp(1, 2);
        if lanes == 2 && self.second.is_none() {
            self.second = Some(
                self.ctx
                    .create_state()
                    .map_err(|e| self.fail(e.to_string()))?,
            );
        }
        let next = std::sync::atomic::AtomicUsize::new(0);
        let (ctx, name, parts) = (&self.ctx, &self.name, &parts);
        // Each lane takes the next part until none is left; results go back in order.
        let lane = |state: &mut WhisperState, threads: usize| {
            let mut done = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(&(from, to)) = parts.get(i) else {
                    return Ok::<_, ModelError>(done);
                };
                let offset = (from as u64 * 1000 / u64::from(RATE)) as u32;
                let segs = run(ctx, state, name, &samples[from..to], opts, threads)?;
                done.push((
                    i,
                    segs.into_iter()
                        .map(|mut s| {
                            s.start_ms += offset;
                            s.end_ms += offset;
                            s
                        })
                        .collect::<Vec<_>>(),
                ));
            }
        };
        let (first, second) = (&mut self.state, self.second.as_mut());
        let mut all = match second.filter(|_| lanes == 2) {
            None => lane(first, opts.threads)?,
            Some(second) => {
                let (ta, tb) = (opts.threads.div_ceil(2), opts.threads / 2);
                let (ra, rb) = std::thread::scope(|sc| {
                    let hb = sc.spawn(|| lane(second, tb));
                    (lane(first, ta), hb.join())
                });
                let rb =
                    rb.map_err(|_| failed(name, "the transcription thread panicked".into()))?;
                let mut all = ra?;
                all.extend(rb?);
                all
            }
        };
        all.sort_by_key(|(i, _)| *i);
        Ok(all.into_iter().flat_map(|(_, s)| s).collect())
    }

    fn fail(&self, detail: String) -> ModelError {
        failed(&self.name, detail)
    }
}

/// The CPU kernels whisper.cpp was built with, e.g. `AVX2 F16C FMA AVX512 LLAMAFILE REPACK`.
/// Without `LLAMAFILE` (llamafile's matrix kernels, switched on in `.cargo/config.toml`) the
/// encoder is about a third slower: `kiosk check` and the bench show this.
pub fn cpu_kernels() -> &'static str {
    // Read once: whisper.cpp writes the text into one static buffer on every call.
    static KERNELS: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    KERNELS.get_or_init(|| kernels_on(whisper_rs::print_system_info()))
}

/// The names set to 1 in whisper.cpp's system info (`CPU : SSE3 = 1 | AVX = 1 | … |`).
fn kernels_on(info: &str) -> String {
    let on: Vec<&str> = info
        .split('|')
        .filter_map(|part| {
            let (key, value) = part.rsplit_once('=')?;
            let key = key.rsplit(':').next()?.trim();
            (value.trim() == "1" && !key.is_empty()).then_some(key)
        })
        .collect();
    on.join(" ")
}

/// The prompt for Chinese when the role gives none (`kiosk transcribe` without a role).
pub const GENERAL_ZH_PROMPT: &str = "以下是普通话的句子。";

/// Answers shorter than this are transcribed in one piece.
pub const SPLIT_MIN_S: f32 = 12.0;

/// Whether `opts` let a long answer be cut into parts: only with a trimmed window (a full 30 s
/// window per part would cost more than it saves) and two threads (the parts gain from running
/// side by side).
pub fn splits(opts: &AsrOptions) -> bool {
    opts.split_long_answers && opts.trim_audio_ctx && opts.threads >= 2
}

/// Where to cut a long answer in two: the middle of the pause (at least 200 ms at least 20 dB
/// below the answer's speech level) nearest the answer's middle, within its middle half. None
/// for short answers and for answers without such a pause.
pub fn split_point(samples: &[f32]) -> Option<usize> {
    const PAUSE: usize = 10; // 200 ms
    if (samples.len() as f32) < SPLIT_MIN_S * RATE as f32 {
        return None;
    }
    let energy = frame_energy(samples);
    let quiet = speech_level(&energy) * 0.01;
    let (lo, hi, mid) = (energy.len() / 4, energy.len() * 3 / 4, energy.len() / 2);
    let mut best: Option<usize> = None;
    let mut i = lo;
    while i < hi {
        if energy[i] >= quiet {
            i += 1;
            continue;
        }
        let start = i;
        while i < energy.len() && energy[i] < quiet {
            i += 1;
        }
        let centre = (start + i) / 2;
        if i - start >= PAUSE
            && (lo..hi).contains(&centre)
            && best.is_none_or(|b| centre.abs_diff(mid) < b.abs_diff(mid))
        {
            best = Some(centre);
        }
    }
    best.map(|f| f * FRAME)
}

/// 20 ms frames, for the energy measures.
const FRAME: usize = RATE as usize / 50;

/// Mean energy of each 20 ms frame.
fn frame_energy(samples: &[f32]) -> Vec<f32> {
    samples
        .chunks(FRAME)
        .map(|c| c.iter().map(|x| x * x).sum::<f32>() / c.len() as f32)
        .collect()
}

/// The level of speech in `energy` (not empty): its 75th-percentile frame.
fn speech_level(energy: &[f32]) -> f32 {
    let mut sorted = energy.to_vec();
    sorted.sort_by(f32::total_cmp);
    sorted[sorted.len() * 3 / 4]
}

/// A failure of model `name` after it loaded.
fn failed(name: &str, detail: String) -> ModelError {
    ModelError::Load {
        name: name.to_string(),
        path: name.into(),
        detail,
    }
}

/// One Whisper pass over `samples` on `state` with `threads` threads.
///
/// Audio that fits in one window is decoded as a single segment and split at its timestamps
/// ([`crate::timestamps`]; every segment opens with one, [`crate::decoder_rules`]):
/// whisper.cpp would otherwise encode the window a second time to hear what follows the last
/// timestamp, usually the last second of silence (and write "[BLANK_AUDIO]" or a stray word into
/// it). When more than a second is left there and it holds sound at speech level, it gets a pass
/// of its own, so words the decoder stopped short of are still heard. A pass over a trimmed
/// window that came out as a repetition loop ([`crate::hallucination::looped`]; the decoder
/// stops one at its third copy) is decoded again over a window 5 s longer.
fn run(
    ctx: &WhisperContext,
    state: &mut WhisperState,
    name: &str,
    samples: &[f32],
    opts: &AsrOptions,
    threads: usize,
) -> Result<Vec<Segment>, ModelError> {
    let (mut out, mut stopped_cs) = pass(ctx, state, name, samples, opts, threads, 0.0)?;
    if opts.trim_audio_ctx && crate::hallucination::looped(&out) {
        // A trimmed window, above all after a prompt, sometimes sends tiny.en into a loop that
        // a longer window does not (measured: 3 of 12 short answers with the English role
        // prompt). Decode once more over a window [`LOOP_RETRY_MARGIN_S`] longer than the
        // answer; it costs time only then.
        tracing::debug!(
            model = name,
            "repetition loop in a trimmed window: decoding again over a longer one"
        );
        (out, stopped_cs) = pass(
            ctx,
            state,
            name,
            samples,
            opts,
            threads,
            LOOP_RETRY_MARGIN_S,
        )?;
    }
    let from = stopped_cs.map_or(samples.len(), |cs| (cs as usize * RATE as usize) / 100);
    if samples.len().saturating_sub(from) >= RATE as usize && speech_after(samples, from) {
        let offset = (from as u64 * 1000 / u64::from(RATE)) as u32;
        let (more, _) = pass(ctx, state, name, &samples[from..], opts, threads, 0.0)?;
        out.extend(more.into_iter().map(|mut s| {
            s.start_ms += offset;
            s.end_ms += offset;
            s
        }));
    }
    Ok(crate::hallucination::screen(out, &opts.language))
}

/// How much longer than the answer the window is when a trimmed pass looped: 5 s ended every
/// loop the full 30 s window ended, with the same words, in a fraction of its time (2 s did not:
/// "Yes, two shifts are no problem." still came three times).
pub const LOOP_RETRY_MARGIN_S: f32 = 5.0;

/// The most tokens a pass over `seconds` of audio may write: 16 plus 15 a second, twice what
/// the fastest speakers need (about 7 words or Chinese characters a second, some of them two
/// tokens) but far short of a repetition loop's hundreds.
pub fn max_tokens_for(seconds: f32) -> i32 {
    16 + (15.0 * seconds).ceil() as i32
}

/// One call of whisper.cpp: the segments, and where decoding stopped (centiseconds) when the
/// audio fit in one window. A trimmed window runs `margin_s` seconds past the answer's end, on
/// top of [`audio_ctx_for`]'s half second.
fn pass(
    ctx: &WhisperContext,
    state: &mut WhisperState,
    name: &str,
    samples: &[f32],
    opts: &AsrOptions,
    threads: usize,
    margin_s: f32,
) -> Result<(Vec<Segment>, Option<i64>), ModelError> {
    let mut p = FullParams::new(if opts.beam_size > 1 {
        SamplingStrategy::BeamSearch {
            beam_size: opts.beam_size as i32,
            patience: -1.0,
        }
    } else {
        SamplingStrategy::Greedy { best_of: 1 }
    });
    p.set_suppress_nst(opts.suppress_non_speech);
    p.set_language(Some(&opts.language));
    p.set_n_threads(threads.max(1) as i32);
    p.set_print_progress(false);
    p.set_print_realtime(false);
    p.set_print_special(false);
    p.set_print_timestamps(false);
    p.set_no_context(true);
    if !opts.temperature_fallback {
        p.set_temperature_inc(0.0);
    }
    p.set_suppress_blank(true);
    crate::decoder_rules::require(&mut p);
    let prompt = match &opts.prompt {
        // An empty prompt: explicitly none.
        Some(prompt) if prompt.is_empty() => None,
        Some(prompt) => Some(prompt.as_str()),
        // Without a role's prompt, a general one in simplified Chinese: it steers the
        // multilingual model towards Mandarin in simplified characters.
        None if opts.language == "zh" => Some(GENERAL_ZH_PROMPT),
        None => None,
    };
    if let Some(prompt) = prompt {
        p.set_initial_prompt(prompt);
    }
    // Whisper needs at least a second of audio; pad short answers with silence.
    let mut padded;
    let audio = if samples.len() < RATE as usize + RATE as usize / 4 {
        padded = samples.to_vec();
        padded.resize(RATE as usize + RATE as usize / 4, 0.0);
        &padded[..]
    } else {
        samples
    };
    let seconds = audio.len() as f32 / RATE as f32;
    if opts.trim_audio_ctx && seconds + margin_s < 29.0 {
        p.set_audio_ctx(audio_ctx_for(seconds + margin_s));
    }
    let one_window = seconds < 29.0;
    p.set_single_segment(one_window);
    // No one says more than a few words a second: a decoder still writing past this is in a
    // repetition loop, and every token it adds costs time (one 2 s answer ran to 220 tokens).
    p.set_max_tokens(max_tokens_for(seconds));
    state
        .full(p, audio)
        .map_err(|e| failed(name, format!("transcription failed: {e}")))?;
    let (eot, beg) = (ctx.token_eot(), ctx.token_beg());
    // Whisper times against its 30 s window: a last segment it does not close ends at 30 s
    // even when the answer was 4 s long. Keep every time within the audio.
    let audio_ms = (samples.len() as u64 * 1000 / u64::from(RATE)) as u32;
    let to_ms = |cs: i64| {
        u32::try_from(cs.max(0) * 10)
            .unwrap_or(u32::MAX)
            .min(audio_ms)
    };
    let mut pieces = Vec::new();
    let mut stopped = None;
    for seg in state.as_iter() {
        let tokens: Vec<Token> = (0..seg.n_tokens())
            .filter_map(|i| seg.get_token(i))
            .map(|t| Token {
                id: t.token_id(),
                bytes: t.to_bytes().map(<[u8]>::to_vec).unwrap_or_default(),
                p: t.token_probability(),
            })
            .collect();
        if one_window {
            stopped = stopped.max(timestamps::last_timestamp(&tokens, eot, beg));
            pieces.extend(timestamps::split(
                &tokens,
                eot,
                beg,
                i64::from(audio_ms / 10),
            ));
        } else {
            // Several windows: whisper.cpp's own segments, timed from the audio's start.
            let text = String::from_utf8_lossy(
                &tokens
                    .iter()
                    .filter(|t| t.id < eot)
                    .flat_map(|t| t.bytes.iter().copied())
                    .collect::<Vec<u8>>(),
            )
            .trim()
            .to_string();
            let probs = tokens
                .iter()
                .filter(|t| t.id < eot && timestamps::carries_words(t))
                .map(|t| t.p)
                .collect();
            pieces.push(Piece {
                t0: seg.start_timestamp(),
                t1: seg.end_timestamp(),
                text,
                probs,
            });
        }
    }
    let out = pieces
        .into_iter()
        .filter(|p| !p.text.is_empty())
        .map(|p| {
            // Whisper writes traditional characters as often as simplified ones: a zh-CN kiosk
            // stores, sends and shows simplified Chinese (OpenCC's phrase dictionaries).
            let text = if opts.language == "zh" {
                kiosk_screening::text::simplified(&p.text)
            } else {
                p.text
            };
            // Confidence: mean probability of the tokens that carry words.
            let confidence =
                (!p.probs.is_empty()).then(|| p.probs.iter().sum::<f32>() / p.probs.len() as f32);
            Segment {
                start_ms: to_ms(p.t0),
                end_ms: to_ms(p.t1),
                text,
                confidence,
            }
        })
        .collect();
    Ok((out, stopped))
}

/// Whether `samples` hold sound at speech level after sample `from`: 200 ms or more within
/// 10 dB of the answer's speech level (its 75th-percentile 20 ms frame).
pub fn speech_after(samples: &[f32], from: usize) -> bool {
    const PAUSE: usize = 10; // 200 ms
    let energy = frame_energy(samples);
    if energy.is_empty() {
        return false;
    }
    let level = speech_level(&energy) * 0.1;
    let mut run = 0;
    for e in energy.iter().skip(from / FRAME) {
        run = if *e >= level { run + 1 } else { 0 };
        if run >= PAUSE {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `seconds` of a loud tone with silent gaps at `gaps` (start s, length s).
    fn tone_with_gaps(seconds: f32, gaps: &[(f32, f32)]) -> Vec<f32> {
        (0..(seconds * RATE as f32) as usize)
            .map(|i| {
                let t = i as f32 / RATE as f32;
                let silent = gaps.iter().any(|(s, l)| t >= *s && t < s + l);
                if silent {
                    0.0
                } else {
                    (t * 300.0 * std::f32::consts::TAU).sin() * 0.3
                }
            })
            .collect()
    }

    #[test]
    fn long_answers_are_cut_at_the_pause_nearest_their_middle() {
        let at = |s: &[f32]| split_point(s).map(|i| i as f32 / RATE as f32);
        // Pauses at 7 s and 10.5 s of 20 s: the one nearer the middle, cut in its middle.
        let cut = at(&tone_with_gaps(20.0, &[(7.0, 0.4), (10.5, 0.3)])).expect("a cut");
        assert!((10.5..10.8).contains(&cut), "{cut}");
        // Too short to be worth it, no pause at all, a pause too short to be one, and a pause
        // only near the start: no cut.
        assert_eq!(at(&tone_with_gaps(10.0, &[(5.0, 0.5)])), None);
        assert_eq!(at(&tone_with_gaps(20.0, &[])), None);
        assert_eq!(at(&tone_with_gaps(20.0, &[(10.0, 0.1)])), None);
        assert_eq!(at(&tone_with_gaps(20.0, &[(2.0, 1.0)])), None);
    }

    #[test]
    fn speech_left_after_the_decoder_stopped_is_found() {
        let at = |s: f32| (s * RATE as f32) as usize;
        // Speech to 6 s, then 3 s of silence: nothing left after 6.2 s.
        let quiet_end = tone_with_gaps(9.0, &[(6.0, 3.0)]);
        assert!(!speech_after(&quiet_end, at(6.2)));
        assert!(speech_after(&quiet_end, at(4.0)));
        // Speech again from 8 s: the decoder stopping at 6.2 s left words behind.
        let more = tone_with_gaps(10.0, &[(6.0, 2.0)]);
        assert!(speech_after(&more, at(6.2)));
        // A click shorter than 200 ms is not speech.
        let click = tone_with_gaps(9.0, &[(6.0, 1.0), (7.1, 1.9)]);
        assert!(!speech_after(&click, at(6.2)));
    }

    #[test]
    fn kernel_names_are_read_off_the_system_info() {
        let info = "WHISPER : COREML = 0 | OPENVINO = 0 | CPU : SSE3 = 1 | AVX512 = 1 | LLAMAFILE = 1 | OPENMP = 0 | REPACK = 1 |";
        assert_eq!(kernels_on(info), "SSE3 AVX512 LLAMAFILE REPACK");
        let ours = cpu_kernels();
        assert!(
            ours.contains("LLAMAFILE"),
            "built without llamafile's kernels: {ours}"
        );
    }

    #[test]
    fn audio_ctx_covers_the_answer_with_margin() {
        for (s, ctx) in [
            (0.5, 64),
            (3.0, 192),
            (8.0, 448),
            (20.0, 1088),
            (29.0, 1500),
            (60.0, 1500),
        ] {
            assert_eq!(audio_ctx_for(s), ctx, "{s} s");
            assert!(audio_ctx_for(s) as f32 >= (s.min(30.0)) * CTX_PER_SECOND);
        }
    }
}
