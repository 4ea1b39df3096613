//! Whisper's output for one audio window, decoded as a single segment, split back into the
//! segments its timestamp tokens mark: `<|0.00|> I want a job.<|2.40|><|2.60|> Evenings
//! suit me.<|5.00|>` is two segments, 0–2.4 s and 2.6–5 s.
//!
//! Why one segment: decoded the usual way, whisper.cpp starts a second pass over the audio after
//! the last timestamp when the decoder stops before the end, encoding the whole window again to
//! hear the last second or so of silence — a second pass that costs as much as the first and is
//! where it writes "[BLANK_AUDIO]" or repeats a sentence. Decoded as one segment it stops at the
//! end of text; the caller decides whether what is left holds speech worth a pass of its own.

/// One decoded token.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    /// Whisper's token id.
    pub id: i32,
    /// The bytes it stands for (a Chinese character can span two tokens).
    pub bytes: Vec<u8>,
    /// Its probability.
    pub p: f32,
}

/// A piece of text between two timestamps: times in centiseconds from the window's start, and
/// the probabilities of the tokens that carry words.
#[derive(Debug, Clone, PartialEq)]
pub struct Piece {
    /// Start, centiseconds.
    pub t0: i64,
    /// End, centiseconds (`end_cs` when the decoder wrote no closing timestamp).
    pub t1: i64,
    /// The text, trimmed.
    pub text: String,
    /// Probabilities of the word-carrying tokens.
    pub probs: Vec<f32>,
}

/// Splits `tokens` at their timestamp tokens (ids from `beg`, the token of `<|0.00|>`; each step
/// is 20 ms). Special tokens (from `eot` up to `beg`) are dropped; text after the last timestamp
/// ends at `end_cs`.
pub fn split(tokens: &[Token], eot: i32, beg: i32, end_cs: i64) -> Vec<Piece> {
    let mut out = Vec::new();
    let (mut t0, mut bytes, mut probs) = (0i64, Vec::new(), Vec::new());
    let mut flush = |t0: i64, t1: i64, bytes: &mut Vec<u8>, probs: &mut Vec<f32>| {
        let text = String::from_utf8_lossy(bytes).trim().to_string();
        if !text.is_empty() {
            out.push(Piece {
                t0,
                t1: t1.max(t0),
                text,
                probs: std::mem::take(probs),
            });
        }
        bytes.clear();
        probs.clear();
    };
    for t in tokens {
        if t.id >= beg {
            let at = 2 * i64::from(t.id - beg);
            flush(t0, at, &mut bytes, &mut probs);
            t0 = at;
        } else if t.id < eot {
            bytes.extend_from_slice(&t.bytes);
            if carries_words(t) {
                probs.push(t.p);
            }
        }
    }
    flush(t0, end_cs, &mut bytes, &mut probs);
    out
}

/// Whether a text token carries (part of) a word, not punctuation: only those count towards a
/// segment's confidence (punctuation's probability says little about what was heard).
pub fn carries_words(t: &Token) -> bool {
    String::from_utf8_lossy(&t.bytes)
        .chars()
        .any(char::is_alphanumeric)
}

/// Where decoding stopped: the last timestamp the decoder wrote (centiseconds), if any. Text
/// after it (the decoder ended without a closing timestamp) runs to the end of the audio, as in
/// [`split`], so then nothing is left unheard: `None`.
pub fn last_timestamp(tokens: &[Token], eot: i32, beg: i32) -> Option<i64> {
    let mut last = None;
    for t in tokens {
        if t.id >= beg {
            last = Some(2 * i64::from(t.id - beg));
        } else if t.id < eot && last.is_some() && carries_words(t) {
            last = None;
        }
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;

    const EOT: i32 = 50256;
    const BEG: i32 = 50363;

    fn text(s: &str) -> Token {
        Token {
            id: 100,
            bytes: s.as_bytes().to_vec(),
            p: 0.9,
        }
    }

    fn ts(seconds: f32) -> Token {
        Token {
            id: BEG + (seconds * 50.0).round() as i32,
            bytes: Vec::new(),
            p: 1.0,
        }
    }

    fn special(id: i32) -> Token {
        Token {
            id,
            bytes: b"<|x|>".to_vec(),
            p: 1.0,
        }
    }

    #[test]
    fn timestamps_split_the_text_into_segments() {
        let tokens = vec![
            special(EOT + 1),
            ts(0.0),
            text(" I want"),
            text(" a job."),
            ts(2.4),
            ts(2.6),
            text(" Evenings"),
            text(" suit me."),
            ts(5.0),
            special(EOT),
        ];
        let pieces = split(&tokens, EOT, BEG, 900);
        let got: Vec<(i64, i64, &str, usize)> = pieces
            .iter()
            .map(|p| (p.t0, p.t1, p.text.as_str(), p.probs.len()))
            .collect();
        assert_eq!(
            got,
            vec![
                (0, 240, "I want a job.", 2),
                (260, 500, "Evenings suit me.", 2)
            ]
        );
        assert_eq!(last_timestamp(&tokens, EOT, BEG), Some(500));
    }

    #[test]
    fn text_without_a_closing_timestamp_ends_with_the_audio_and_split_characters_join() {
        // 房 is three bytes; the model can write it as two tokens.
        let fang = "房".as_bytes();
        let tokens = vec![
            ts(1.0),
            Token {
                id: 200,
                bytes: fang[..2].to_vec(),
                p: 0.5,
            },
            Token {
                id: 201,
                bytes: fang[2..].to_vec(),
                p: 0.5,
            },
            text("子"),
        ];
        let pieces = split(&tokens, EOT, BEG, 420);
        assert_eq!(pieces.len(), 1);
        assert_eq!(pieces[0].text, "房子");
        assert_eq!((pieces[0].t0, pieces[0].t1), (100, 420));
        // Nothing but timestamps and specials: no segment.
        assert!(split(&[ts(0.0), special(EOT), ts(3.0)], EOT, BEG, 300).is_empty());
        assert_eq!(last_timestamp(&[text("x")], EOT, BEG), None);
        // Text after the only timestamp: decoded to the end, nothing left for a second pass.
        assert_eq!(last_timestamp(&tokens, EOT, BEG), None);
        assert_eq!(
            last_timestamp(&[ts(0.0), text(" Yes."), special(EOT)], EOT, BEG),
            None
        );
        assert_eq!(
            last_timestamp(&[ts(0.0), text(" Yes."), ts(1.2), special(EOT)], EOT, BEG),
            Some(120)
        );
    }
}
