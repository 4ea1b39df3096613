//! What Whisper writes when it hears no words it knows: sound annotations ("[BLANK_AUDIO]",
//! "(music)"), the subtitle credits of the videos it was trained on ("字幕由…提供", "请不吝点赞
//! 订阅") and, in a Chinese session, lines without a single Chinese character. Annotations and
//! credits are dropped (no candidate says them); a line in the wrong script is kept for the
//! reviewer but its confidence set to zero, so scoring sends the answer to review instead of
//! reading it.

use kiosk_screening::Segment;
use kiosk_screening::text::is_cjk;

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
            s.text = without_annotations(&s.text);
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
}
