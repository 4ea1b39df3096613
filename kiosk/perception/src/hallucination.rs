//! What Whisper writes when it hears no words it knows: sound annotations ("[BLANK_AUDIO]",
//! "(music)"), the subtitle credits of the videos it was trained on ("字幕由…提供", "请不吝点赞
//! 订阅") and, in a Chinese session, lines without a single Chinese character. Annotations and
//! credits are dropped (no candidate says them); a line in the wrong script is kept for the
//! reviewer but its confidence set to zero, so scoring sends the answer to review instead of
//! reading it. Whisper's repetition loop, one sentence written again and again faster than
//! anyone speaks ("I can work in a shop before." four times in 1.9 s), keeps one copy.

use kiosk_screening::Segment;
use kiosk_screening::text::is_cjk;

use crate::decoder_rules::LOOP_COPIES;

/// Phrases of the subtitle credits Whisper's multilingual models write into silence and noise
/// (simplified: transcripts are converted before this check).
const CREDITS: &[&str] = &[
    "字幕",
    "请不吝点赞",
    "点赞订阅",
    "订阅转发",
    "打赏支持",
    "明镜与点点",
    "优优独播剧场",
    "谢谢观看",
    "感谢观看",
    "subtitles by",
    "amara.org",
];

/// Applies the checks to one session's segments in `language` (`zh`, `en`).
pub fn screen(segments: Vec<Segment>, language: &str) -> Vec<Segment> {
    segments
        .into_iter()
        .filter_map(|mut s| {
            s.text = without_loops(
                &without_annotations(&s.text),
                s.end_ms.saturating_sub(s.start_ms),
            );
            (!s.text.is_empty() && !is_credit(&s.text)).then_some(s)
        })
        .map(|mut s| {
            if language == "zh" && !s.text.chars().any(is_cjk) {
                s.confidence = Some(0.0);
            }
            s
        })
        .collect()
}

/// `text` without Whisper's sound annotations: anything in square brackets, and a line that is
/// all in round brackets.
pub fn without_annotations(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut depth = 0usize;
    for c in text.chars() {
        match c {
            '[' => depth += 1,
            ']' if depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    let out = out.split_whitespace().collect::<Vec<_>>().join(" ");
    let all_round = out.starts_with(['(', '（']) && out.ends_with([')', '）']);
    if all_round { String::new() } else { out }
}

/// Speech units (English words, Chinese characters) per second no one says; people speak
/// about 2–4 words or 4–6 characters a second.
const UNITS_PER_SECOND: f32 = 7.0;

/// `text` heard in `ms` milliseconds, with Whisper's repetition loops undone: a sentence that
/// follows an identical one is dropped when the text is too fast to have been said, and a
/// sentence or clause of two words or more that comes three times or more in a row keeps one
/// copy (the decoder stops a loop at its third copy, [`crate::decoder_rules`]). A candidate who
/// really says "Yes. Yes." or "no, no, no" keeps them.
pub fn without_loops(text: &str, ms: u32) -> String {
    let text = if too_fast(text, ms) {
        collapse(text, &sentences(text), 2, 0)
    } else {
        text.to_string()
    };
    let text = collapse(&text, &sentences(&text), LOOP_COPIES, 2);
    collapse(&text, &clauses(&text), LOOP_COPIES, 2)
}

/// `text`, cut into `pieces`, with every run of `min_run` or more identical pieces (of at least
/// `min_units` speech units) kept once; `text` itself when there is none.
fn collapse(text: &str, pieces: &[&str], min_run: usize, min_units: usize) -> String {
    let mut kept: Vec<&str> = Vec::new();
    let mut i = 0;
    while i < pieces.len() {
        let run = pieces[i..]
            .iter()
            .take_while(|p| same_words(p, pieces[i]))
            .count();
        let keep = if run >= min_run && units(pieces[i]) >= min_units {
            1
        } else {
            run
        };
        kept.extend(&pieces[i..i + keep]);
        i += run;
    }
    if kept.len() == pieces.len() {
        return text.to_string();
    }
    let mut out = String::new();
    for piece in kept.iter().map(|p| p.trim()) {
        // Chinese runs on without spaces; English words are spaced.
        if out
            .chars()
            .last()
            .is_some_and(|c| !is_cjk(c) && !is_full_width_mark(c))
        {
            out.push(' ');
        }
        out.push_str(piece);
    }
    // A loop cut at a comma leaves one at the end.
    out.trim_end_matches(CLAUSE_MARKS).to_string()
}

/// Chinese punctuation, which no space follows.
fn is_full_width_mark(c: char) -> bool {
    matches!(c, '，' | '。' | '！' | '？' | '；' | '、' | '：')
}

/// Whether Whisper's output looks like a repetition loop, worth decoding again another way: a
/// sentence of two words or more written twice in a row, the same segment twice in a row, or
/// more words than anyone says in the time.
pub fn looped(segments: &[Segment]) -> bool {
    let repeats = |text: &str| {
        sentences(text)
            .windows(2)
            .any(|w| units(w[0]) >= 2 && same_words(w[0], w[1]))
    };
    segments
        .iter()
        .any(|s| repeats(&s.text) || too_fast(&s.text, s.end_ms.saturating_sub(s.start_ms)))
        || segments
            .windows(2)
            .any(|w| units(&w[0].text) >= 2 && same_words(&w[0].text, &w[1].text))
}

/// Speech units in `text`: words, with each Chinese character a unit of its own.
fn units(text: &str) -> usize {
    text.split_whitespace()
        .map(|w| w.chars().filter(|c| is_cjk(*c)).count().max(1))
        .sum()
}

/// More speech units than anyone says in `ms` milliseconds.
fn too_fast(text: &str, ms: u32) -> bool {
    units(text) as f32 > UNITS_PER_SECOND * ms.max(1) as f32 / 1000.0
}

/// Marks that end a sentence.
const SENTENCE_MARKS: [char; 6] = ['.', '?', '!', '。', '？', '！'];

/// Marks that end a clause inside a sentence: commas and semicolons.
const CLAUSE_MARKS: [char; 5] = [',', '，', ';', '；', '、'];

/// `text` cut after each sentence's end mark, marks kept.
fn sentences(text: &str) -> Vec<&str> {
    cut_after(text, |c| SENTENCE_MARKS.contains(&c))
}

/// `text` cut after each sentence's end mark and each comma or semicolon, marks kept.
fn clauses(text: &str) -> Vec<&str> {
    cut_after(text, |c| {
        SENTENCE_MARKS.contains(&c) || CLAUSE_MARKS.contains(&c)
    })
}

/// `text` cut after each character that is a `mark`, marks kept; no piece is blank.
fn cut_after(text: &str, mark: impl Fn(char) -> bool) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if mark(c) {
            let end = i + c.len_utf8();
            if !text[start..end].trim().is_empty() {
                out.push(&text[start..end]);
            }
            start = end;
        }
    }
    if !text[start..].trim().is_empty() {
        out.push(&text[start..]);
    }
    out
}

/// The same words, ignoring case, spacing and punctuation.
fn same_words(a: &str, b: &str) -> bool {
    let key = |s: &str| {
        s.chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect::<String>()
    };
    key(a) == key(b)
}

/// A subtitle credit, not speech.
pub fn is_credit(text: &str) -> bool {
    let squeezed: String = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_lowercase();
    CREDITS
        .iter()
        .any(|c| squeezed.contains(&c.replace(' ', "")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(text: &str) -> Segment {
        Segment {
            start_ms: 0,
            end_ms: 1000,
            text: text.into(),
            confidence: Some(0.8),
        }
    }

    #[test]
    fn credits_are_dropped_and_wrong_script_lines_are_not_trusted() {
        let out = screen(
            vec![
                seg("(字幕:J Chong) 字幕:J Chong"),
                seg("可以，两班倒没问题。"),
                seg("请不吝点赞 订阅 转发 打赏支持明镜与点点栏目"),
                seg("war fun before the fun, May 2-1-3-3"),
            ],
            "zh",
        );
        assert_eq!(out.len(), 2, "{out:?}");
        assert_eq!(out[0].text, "可以，两班倒没问题。");
        assert_eq!(out[0].confidence, Some(0.8));
        assert_eq!(out[1].confidence, Some(0.0), "English in a Chinese session");
        // English sessions: English is the script; credits and annotations still go.
        let en = screen(
            vec![
                seg("Evenings suit me best. [BLANK_AUDIO]"),
                seg("Subtitles by the Amara.org community"),
                seg("(upbeat music)"),
                seg("[Music]"),
            ],
            "en",
        );
        assert_eq!(en.len(), 1, "{en:?}");
        assert_eq!(en[0].text, "Evenings suit me best.");
        assert_eq!(en[0].confidence, Some(0.8));
    }

    #[test]
    fn repetition_loops_keep_one_copy_but_a_real_repeat_stays() {
        let looped = "I can work in a shop before. I can work in a shop before. \
                      I can work in a shop before. I can work in a shop before.";
        assert_eq!(without_loops(looped, 1913), "I can work in a shop before.");
        // Said slowly enough to be real: kept.
        assert_eq!(without_loops("Yes. Yes.", 3000), "Yes. Yes.");
        // Three times in a row, where the decoder stops a loop: one copy, however slow.
        assert_eq!(
            without_loops(
                "I am a nurse. I can come in on Sundays. I can come in on Sundays. \
                 I can come in on Sundays.",
                12_000
            ),
            "I am a nurse. I can come in on Sundays."
        );
        assert_eq!(
            without_loops("I can start. I can start. I can start", 9000),
            "I can start."
        );
        assert_eq!(
            without_loops(&"Yes, two shifts are no problem. ".repeat(3), 9000),
            "Yes, two shifts are no problem."
        );
        assert_eq!(without_loops("No. No. No.", 3000), "No. No. No.");
        assert_eq!(
            without_loops("no, no, no, I can't.", 3000),
            "no, no, no, I can't."
        );
        // Chinese loops run on with commas.
        assert_eq!(
            without_loops("我一会来找你,我一会来找你,我一会来找你。", 9000),
            "我一会来找你"
        );
        assert_eq!(
            without_loops("车间，夜班，夜班，夜班，夜班", 9000),
            "车间，夜班"
        );
        // Fast but not a loop: nothing to drop.
        let fast = "One two three four five six seven eight nine ten.";
        assert_eq!(without_loops(fast, 1000), fast);
        // Chinese counts characters.
        assert_eq!(
            without_loops(
                "可以，两班倒没问题。可以，两班倒没问题。可以，两班倒没问题。",
                2000
            ),
            "可以，两班倒没问题。"
        );
        assert_eq!(
            without_loops("可以。可以。", 3000),
            "可以。可以。",
            "a real repeat, said in time"
        );
        // The screen applies it over the segment's own span.
        let out = screen(
            vec![Segment {
                start_ms: 0,
                end_ms: 3335,
                text: "Yes, two shifts are no problem. ".repeat(4),
                confidence: Some(0.8),
            }],
            "en",
        );
        assert_eq!(out[0].text, "Yes, two shifts are no problem.");
    }

    #[test]
    fn loops_are_recognised_and_plain_answers_are_not() {
        let at = |text: &str, ms: u32| Segment {
            start_ms: 0,
            end_ms: ms,
            text: text.into(),
            confidence: None,
        };
        // Twice in a row, at a pace a person could say it: still a loop.
        assert!(looped(&[at(
            "I have worked in a shop before. I have worked in a shop before.",
            3247
        )]));
        assert!(looped(&[
            at("Yes, two shifts. ", 1500),
            at("Yes, two shifts.", 3000)
        ]));
        // Too many words for the time.
        assert!(looped(&[at(
            "Even soon to be best. Even soon soon be best.",
            1000
        )]));
        assert!(!looped(&[at("I want a stable job close to home.", 2400)]));
        assert!(
            !looped(&[at("Yes. Yes.", 1200)]),
            "one-word repeats are speech"
        );
        assert!(!looped(&[at("我想找一个稳定的工作。", 2500)]));
        assert!(looped(&[at("可以，两班倒。可以，两班倒。", 3000)]));
    }
}
