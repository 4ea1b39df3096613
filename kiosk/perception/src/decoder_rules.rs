//! Two rules applied to whisper.cpp's decoder at every step, through its C logits-filter callback
//! (the workspace's only `unsafe` code, kept to this file): the first token decoded is a
//! timestamp, and a pass that has written the same words three times in a row ends there.
//!
//! OpenAI's `ApplyTimestampRules` masks every text token at the first decoding step, so each
//! segment opens with its start time. whisper.cpp does not, and after an initial prompt the model
//! often opens with text instead: then it writes no timestamps at all, loses its place in the
//! audio and repeats the answer until its token limit, or garbles it (measured with the English
//! role prompt and tiny.en: "Yes, two shifts are no problem." came back four times over).
//!
//! A decoder in a repetition loop ("I can come in on Sundays." over and over) otherwise runs on
//! to the pass's token cap, each token costing a decoder step, before the caller can see the loop
//! and decode again ([`crate::hallucination::looped`]). Three copies are enough to know: the pass
//! stops there. People do say a short phrase twice, so two copies never stop it.
//!
//! whisper.cpp exposes the logits only to a C callback (`whisper_full_params.logits_filter_callback`),
//! which whisper-rs leaves unsafe. The callback below reads the tokens decoded so far, writes
//! nothing but the logits array whisper.cpp hands it for this step, and reads two token ids off
//! the context.
#![allow(unsafe_code)]

use std::ffi::{c_int, c_void};

use whisper_rs::FullParams;
use whisper_rs::whisper_rs_sys::{
    whisper_context, whisper_n_vocab, whisper_state, whisper_token_beg, whisper_token_data,
    whisper_token_eot,
};

/// Copies of the same words, one straight after another, that end a pass.
pub const LOOP_COPIES: usize = 3;
/// The fewest text tokens those words must span: "no, no, no" is speech, not a loop.
pub const LOOP_MIN_TOKENS: usize = 3;

/// Makes every pass decoded with `params` open each segment with a timestamp and stop at a
/// repetition loop.
pub fn require(params: &mut FullParams<'_, '_>) {
    // SAFETY: `filter` has the signature whisper.cpp calls it with, uses no user data, reads
    // only the tokens whisper.cpp passes and writes only inside the logits array of the current
    // step (see its comments).
    unsafe { params.set_filter_logits_callback(Some(filter)) };
}

/// Whether the text tokens `text` (ids, in order) end with [`LOOP_COPIES`] copies of the same
/// run of at least [`LOOP_MIN_TOKENS`] tokens.
pub fn ends_in_loop(text: &[i32]) -> bool {
    let n = text.len();
    (LOOP_MIN_TOKENS..=n / LOOP_COPIES).any(|len| {
        let last = &text[n - len..];
        (2..=LOOP_COPIES).all(|k| &text[n - k * len..n - (k - 1) * len] == last)
    })
}

/// At the first step of a segment (no token decoded yet), every token below the first
/// timestamp (text, end of text, specials) gets minus infinity, so a timestamp is sampled.
/// Once the text decoded so far ends in a loop ([`ends_in_loop`]), every token but the end of
/// text does, so the pass ends.
unsafe extern "C" fn filter(
    ctx: *mut whisper_context,
    _state: *mut whisper_state,
    tokens: *const whisper_token_data,
    n_tokens: c_int,
    logits: *mut f32,
    _user_data: *mut c_void,
) {
    if ctx.is_null() || logits.is_null() {
        return;
    }
    // SAFETY: whisper.cpp passes its live context, only read here.
    let (beg, eot, n_vocab) = unsafe {
        (
            whisper_token_beg(ctx),
            whisper_token_eot(ctx),
            whisper_n_vocab(ctx),
        )
    };
    let (Ok(beg), Ok(eot), Ok(n_vocab)) = (
        usize::try_from(beg),
        usize::try_from(eot),
        usize::try_from(n_vocab),
    ) else {
        return;
    };
    if n_tokens == 0 {
        // SAFETY: `logits` has n_vocab entries and the timestamp-begin id is below n_vocab, so
        // the slice stays inside the array, which no one else touches during the callback.
        unsafe { std::slice::from_raw_parts_mut(logits, beg) }.fill(f32::NEG_INFINITY);
        return;
    }
    if tokens.is_null() {
        return;
    }
    // SAFETY: whisper.cpp passes the `n_tokens` tokens decoded so far in this segment.
    let decoded =
        unsafe { std::slice::from_raw_parts(tokens, usize::try_from(n_tokens).unwrap_or(0)) };
    let text: Vec<i32> = decoded
        .iter()
        .map(|t| t.id)
        .filter(|&id| usize::try_from(id).is_ok_and(|id| id < eot))
        .collect();
    if ends_in_loop(&text) {
        // SAFETY: as above; whisper.cpp's logits array holds exactly n_vocab entries.
        let all = unsafe { std::slice::from_raw_parts_mut(logits, n_vocab) };
        for (id, l) in all.iter_mut().enumerate() {
            if id != eot {
                *l = f32::NEG_INFINITY;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_copies_of_some_words_are_a_loop_two_are_not() {
        let sundays = [40, 41, 42, 43, 44, 13];
        let mut text = vec![1, 2, 3, 14];
        text.extend(sundays);
        text.extend(sundays);
        assert!(!ends_in_loop(&text), "said twice: speech");
        text.extend(sundays);
        assert!(ends_in_loop(&text));
        // Not yet at the end of the third copy: decoding goes on.
        assert!(!ends_in_loop(&text[..text.len() - 1]));
        // Short runs are speech ("no, no, no").
        assert!(!ends_in_loop(&[5, 6, 7, 8, 9, 8, 9, 8, 9]));
        assert!(ends_in_loop(&[1, 7, 8, 9, 7, 8, 9, 7, 8, 9]));
        assert!(!ends_in_loop(&[]));
    }
}
