//! Leftmost-longest phrase matching over token sequences, shared by intent and keyword rules.
//!
//! A phrase matches as written or, for Chinese phrases of two or more characters, by sound: the
//! heard characters read the same in toneless pinyin (两班到 for 两班倒, 可已 for 可以: what
//! a small speech model writes). A single character is never matched by sound: 没, 有 or 行
//! have far too many homophones. At each position the longest phrase wins, and at equal length
//! a phrase as written beats one by sound.

use crate::text::{Located, Token, join_words, phrase_words, single_cjk, sounds};

/// One phrase of a set.
#[derive(Debug, Clone)]
struct Entry<T> {
    words: Vec<String>,
    /// The readings of each character, for phrases that may match by sound.
    sound: Option<Vec<Vec<&'static str>>>,
    tag: T,
}

/// A set of phrases, each carrying a tag (a polarity, a keyword group …).
#[derive(Debug, Clone)]
pub struct PhraseSet<T> {
    /// Longest first.
    entries: Vec<Entry<T>>,
}

/// One phrase found in a token sequence.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit<T> {
    /// Tag of the phrase that matched.
    pub tag: T,
    /// Token range `[start, end)` in the searched sequence.
    pub start: usize,
    /// End of the token range (exclusive).
    pub end: usize,
    /// The words heard, rendered readable (normalised text).
    pub text: String,
    /// When the phrase matched by sound only: the phrase as written in the configuration.
    pub by_sound: Option<String>,
}

impl<T: Clone> PhraseSet<T> {
    /// Builds a set from (phrase, tag) pairs; phrases that normalise to nothing are dropped.
    pub fn new(phrases: impl IntoIterator<Item = (String, T)>) -> Self {
        let mut entries: Vec<Entry<T>> = phrases
            .into_iter()
            .map(|(p, tag)| {
                let words = phrase_words(&p);
                let chars: Option<Vec<char>> = words.iter().map(|w| single_cjk(w)).collect();
                let sound = chars
                    .filter(|c| c.len() >= 2)
                    .map(|c| c.into_iter().map(sounds).collect::<Vec<_>>())
                    .filter(|s| s.iter().all(|r| !r.is_empty()));
                Entry { words, sound, tag }
            })
            .filter(|e| !e.words.is_empty())
            .collect();
        entries.sort_by_key(|e| std::cmp::Reverse(e.words.len()));
        Self { entries }
    }

    /// True when no phrase is in the set.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Non-overlapping matches, scanning left to right and preferring the longest phrase at
    /// each position (as written before by sound). A phrase never spans a clause boundary.
    pub fn find(&self, tokens: &[Located]) -> Vec<Hit<T>> {
        let word = |t: &Located| match &t.token {
            Token::Word(x) => Some(x.clone()),
            Token::Boundary => None,
        };
        let mut hits = Vec::new();
        let mut i = 0;
        while i < tokens.len() {
            let mut found: Option<(&Entry<T>, bool)> = None;
            for e in &self.entries {
                let n = e.words.len();
                if n > tokens.len() - i {
                    continue;
                }
                if found.is_some_and(|(f, _)| f.words.len() > n) {
                    break;
                }
                let here = &tokens[i..i + n];
                let exact = e
                    .words
                    .iter()
                    .zip(here)
                    .all(|(w, t)| matches!(&t.token, Token::Word(x) if x == w));
                if exact {
                    found = Some((e, true));
                    break;
                }
                if found.is_none() && e.sound.as_ref().is_some_and(|s| sounds_like(s, here)) {
                    found = Some((e, false));
                }
            }
            match found {
                Some((e, exact)) => {
                    let end = i + e.words.len();
                    let heard: Vec<String> = tokens[i..end].iter().filter_map(word).collect();
                    hits.push(Hit {
                        tag: e.tag.clone(),
                        start: i,
                        end,
                        text: join_words(heard.iter().map(String::as_str)),
                        by_sound: (!exact).then(|| join_words(e.words.iter().map(String::as_str))),
                    });
                    i = end;
                }
                None => i += 1,
            }
        }
        hits
    }
}

/// True when each heard token is one CJK character sharing a toneless reading with the phrase's.
fn sounds_like(phrase: &[Vec<&'static str>], heard: &[Located]) -> bool {
    phrase.iter().zip(heard).all(|(readings, t)| {
        let Token::Word(w) = &t.token else {
            return false;
        };
        single_cjk(w).is_some_and(|ch| sounds(ch).iter().any(|r| readings.contains(r)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::tokenise;

    fn located(s: &str) -> Vec<Located> {
        tokenise(s)
            .into_iter()
            .map(|token| Located { token, segment: 0 })
            .collect()
    }

    #[test]
    fn longest_phrase_wins_and_words_are_whole() {
        let set = PhraseSet::new([
            ("no".to_string(), 'n'),
            ("no problem".to_string(), 'y'),
            ("没问题".to_string(), 'y'),
            ("没".to_string(), 'x'),
        ]);
        let tags = |s: &str| {
            set.find(&located(s))
                .into_iter()
                .map(|h| h.tag)
                .collect::<String>()
        };
        assert_eq!(tags("no problem"), "y");
        assert_eq!(tags("no"), "n");
        assert_eq!(tags("I know nothing"), "");
        assert_eq!(tags("没问题"), "y");
        assert_eq!(tags("没有"), "x");
        assert_eq!(tags("no, problem"), "n");
    }

    #[test]
    fn chinese_phrases_match_by_sound_and_say_so() {
        let set = PhraseSet::new([
            ("可以".to_string(), 'y'),
            ("两班倒".to_string(), 's'),
            ("行".to_string(), 'x'),
            ("可".to_string(), 'k'),
        ]);
        let hits = set.find(&located("可已，两班到没问题"));
        let got: Vec<(char, &str, Option<&str>)> = hits
            .iter()
            .map(|h| (h.tag, h.text.as_str(), h.by_sound.as_deref()))
            .collect();
        assert_eq!(
            got,
            vec![('y', "可已", Some("可以")), ('s', "两班到", Some("两班倒")),]
        );
        // As written beats by sound at the same length; single characters never match by sound.
        let exact = set.find(&located("可以"));
        assert_eq!(exact[0].by_sound, None);
        assert!(
            set.find(&located("型")).is_empty(),
            "行 is not matched by sound"
        );
        // A longer phrase by sound beats a shorter one as written.
        assert_eq!(set.find(&located("可已"))[0].tag, 'y');
    }
}
