//! Text normalisation and tokenisation shared by every matcher: NFKC, simplified Chinese (OpenCC), lower case, no punctuation; toneless pinyin for matching by sound.
//!
//! Matching is done on token sequences, never on raw substrings, so "no" does not match inside
//! "know" and a Chinese phrase matches character by character. Every CJK ideograph is its own
//! token; runs of Latin letters and digits form word tokens; apostrophes vanish ("can't" → "cant").
//! Sentence punctuation becomes a clause boundary, which negation never crosses.

use unicode_normalization::UnicodeNormalization;

/// One unit of normalised text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    /// A Latin/digit word or a single CJK character, normalised.
    Word(String),
    /// A clause boundary (comma, full stop, question mark … in either script).
    Boundary,
}

/// A token with the index of the transcript segment it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// The token.
    pub token: Token,
    /// Index of the segment the token came from (0 for typed text).
    pub segment: usize,
}

/// True for CJK ideographs (each is one token and one "unit" of speech).
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2A6DF | 0x2A700..=0x2EBEF | 0x30000..=0x3134F)
}

fn is_boundary(c: char) -> bool {
    matches!(
        c,
        ',' | '.'
            | '!'
            | '?'
            | ';'
            | ':'
            | '\n'
            | '，'
            | '。'
            | '！'
            | '？'
            | '；'
            | '：'
            | '、'
            | '…'
    )
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '’' | '‘' | 'ʼ')
}

/// Converts traditional Chinese to simplified with OpenCC's phrase and character dictionaries
/// (so 頭髮 → 头发, not character by character); other text is unchanged. This is what a zh-CN
/// kiosk stores, sends and shows.
pub fn simplified(text: &str) -> String {
    use ferrous_opencc::OpenCC;
    use ferrous_opencc::config::BuiltinConfig;
    static T2S: std::sync::OnceLock<Option<OpenCC>> = std::sync::OnceLock::new();
    if !text.chars().any(is_cjk) {
        return text.to_string();
    }
    // The dictionaries are compiled into the binary: building them cannot fail at run time
    // unless the crate is broken, and then text is left as it is rather than lost.
    match T2S.get_or_init(|| OpenCC::from_config(BuiltinConfig::T2s).ok()) {
        Some(cc) => cc.convert(text),
        None => text.to_string(),
    }
}

/// Normalises text: NFKC (full-width → half-width), traditional → simplified Chinese, lower case.
pub fn normalise(text: &str) -> String {
    let nfkc: String = text.nfkc().collect();
    simplified(&nfkc).to_lowercase()
}

/// The character of a token that is a single CJK character (as every Chinese token is).
pub fn single_cjk(word: &str) -> Option<char> {
    let mut c = word.chars();
    match (c.next(), c.next()) {
        (Some(ch), None) if is_cjk(ch) => Some(ch),
        _ => None,
    }
}

/// The toneless pinyin readings of one CJK character (several for a heteronym, e.g. 行: xing,
/// hang); empty for anything else.
pub fn sounds(c: char) -> Vec<&'static str> {
    use pinyin::ToPinyinMulti;
    let mut out: Vec<&'static str> = c
        .to_pinyin_multi()
        .map(|m| m.into_iter().map(|p| p.plain()).collect())
        .unwrap_or_default();
    out.sort_unstable();
    out.dedup();
    out
}

/// Splits text into normalised tokens.
pub fn tokenise(text: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut Vec<Token>| {
        if !word.is_empty() {
            out.push(Token::Word(std::mem::take(word)));
        }
    };
    for c in normalise(text).chars() {
        if is_cjk(c) {
            flush(&mut word, &mut out);
            out.push(Token::Word(c.to_string()));
        } else if c.is_alphanumeric() {
            word.push(c);
        } else if is_apostrophe(c) {
            // "can't" → "cant": keep the word whole.
        } else {
            flush(&mut word, &mut out);
            if is_boundary(c) && !matches!(out.last(), Some(Token::Boundary) | None) {
                out.push(Token::Boundary);
            }
        }
    }
    flush(&mut word, &mut out);
    if matches!(out.last(), Some(Token::Boundary)) {
        out.pop();
    }
    out
}

/// The words of a phrase (boundaries dropped), as used for lexicon entries.
pub fn phrase_words(phrase: &str) -> Vec<String> {
    tokenise(phrase)
        .into_iter()
        .filter_map(|t| match t {
            Token::Word(w) => Some(w),
            Token::Boundary => None,
        })
        .collect()
}

/// Renders a run of words back to readable text: CJK characters joined tight, words with spaces.
pub fn join_words<'a>(words: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::new();
    let mut prev_cjk = true;
    for w in words {
        let cjk = w.chars().all(is_cjk);
        if !(out.is_empty() || cjk && prev_cjk) {
            out.push(' ');
        }
        out.push_str(w);
        prev_cjk = cjk;
    }
    out
}

/// Number of speech units: Latin words plus CJK characters.
pub fn units(tokens: &[Located]) -> usize {
    tokens
        .iter()
        .filter(|t| matches!(t.token, Token::Word(_)))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        phrase_words(s)
    }

    #[test]
    fn normalisation_table() {
        let cases: &[(&str, &[&str])] = &[
            (
                "Yes, two shifts are FINE!",
                &["yes", "two", "shifts", "are", "fine"],
            ),
            ("I can't do nights", &["i", "cant", "do", "nights"]),
            ("I can’t", &["i", "cant"]),
            ("沒問題", &["没", "问", "题"]),
            (
                "我不能接受兩班倒。",
                &["我", "不", "能", "接", "受", "两", "班", "倒"],
            ),
            ("ＯＫ，可以", &["ok", "可", "以"]),
            ("3年经验", &["3", "年", "经", "验"]),
            ("", &[]),
        ];
        for (input, expected) in cases {
            assert_eq!(words(input), *expected, "input {input:?}");
        }
    }

    #[test]
    fn traditional_text_becomes_simplified_phrase_by_phrase() {
        assert_eq!(simplified("廣州市房地產中介協會"), "广州市房地产中介协会");
        assert_eq!(simplified("我的頭髮乾了"), "我的头发干了");
        assert_eq!(simplified("沒問題，兩班倒"), "没问题，两班倒");
        assert_eq!(simplified("Yes, no problem"), "Yes, no problem");
    }

    #[test]
    fn characters_have_toneless_readings() {
        assert_eq!(sounds('倒'), vec!["dao"]);
        assert_eq!(sounds('到'), vec!["dao"]);
        assert!(sounds('行').contains(&"xing") && sounds('行').contains(&"hang"));
        assert!(sounds('a').is_empty());
    }

    #[test]
    fn boundaries_are_kept_between_clauses_only() {
        let t = tokenise("No, I can.");
        assert_eq!(
            t,
            vec![
                Token::Word("no".into()),
                Token::Boundary,
                Token::Word("i".into()),
                Token::Word("can".into())
            ]
        );
        assert_eq!(tokenise(",,,"), vec![]);
    }

    #[test]
    fn join_words_keeps_scripts_readable() {
        assert_eq!(join_words(["没", "问", "题"]), "没问题");
        assert_eq!(join_words(["no", "problem"]), "no problem");
        assert_eq!(join_words(["ok", "没", "问", "题"]), "ok 没问题");
    }
}
