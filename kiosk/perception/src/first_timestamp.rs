//! The one rule of OpenAI's Whisper decoder that whisper.cpp lacks: the first token decoded is a
//! timestamp. The workspace's only `unsafe` code, kept to this file: a C logits-filter callback.
//!
//! OpenAI's `ApplyTimestampRules` masks every text token at the first decoding step, so each
//! segment opens with its start time. whisper.cpp does not, and after an initial prompt the model
//! often opens with text instead: then it writes no timestamps at all, loses its place in the
//! audio and repeats the answer until its token limit, or garbles it (measured with the English
//! role prompt and tiny.en: "Yes, two shifts are no problem." came back four times over).
//!
//! whisper.cpp exposes the mask only as a C callback (`whisper_full_params.logits_filter_callback`),
//! which whisper-rs leaves unsafe. The callback below touches nothing but the logits array
//! whisper.cpp hands it for this step, and reads the timestamp-begin token id off the context.
#![allow(unsafe_code)]

use std::ffi::{c_int, c_void};

use whisper_rs::FullParams;
use whisper_rs::whisper_rs_sys::{
    whisper_context, whisper_state, whisper_token_beg, whisper_token_data,
};

/// Makes every pass decoded with `params` open each segment with a timestamp.
pub fn require(params: &mut FullParams<'_, '_>) {
    // SAFETY: `mask_text_at_start` has the signature whisper.cpp calls it with, uses no user
    // data, and only writes inside the logits array of the current step (see its comment).
    unsafe { params.set_filter_logits_callback(Some(mask_text_at_start)) };
}

/// At the first step of a segment (no token decoded yet), every token below the first
/// timestamp (text, end of text, specials) gets minus infinity, so a timestamp is sampled.
unsafe extern "C" fn mask_text_at_start(
    ctx: *mut whisper_context,
    _state: *mut whisper_state,
    _tokens: *const whisper_token_data,
    n_tokens: c_int,
    logits: *mut f32,
    _user_data: *mut c_void,
) {
    if n_tokens != 0 || ctx.is_null() || logits.is_null() {
        return;
    }
    // SAFETY: whisper.cpp passes its live context (only read here) and `logits` of length
    // n_vocab; the timestamp-begin id is below n_vocab, so the slice stays inside the array,
    // which no one else touches during the callback.
    let text = unsafe {
        let beg = whisper_token_beg(ctx);
        std::slice::from_raw_parts_mut(logits, usize::try_from(beg).unwrap_or(0))
    };
    text.fill(f32::NEG_INFINITY);
}
