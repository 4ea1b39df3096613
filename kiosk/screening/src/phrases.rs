//! Leftmost-longest phrase matching over token sequences, shared by intent and keyword rules.

use crate::text::{Located, Token, join_words, phrase_words};

/// A set of phrases, each carrying a tag (a polarity, a keyword group …).
#[derive(Debug, Clone)]
pub struct PhraseSet<T> {
    /// (words, tag, original text), longest first.
    entries: Vec<(Vec<String>, T, String)>,
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
    /// The words matched, rendered readable (normalised text).
    pub text: String,
}

impl<T: Clone> PhraseSet<T> {
    /// Builds a set from (phrase, tag) pairs; phrases that normalise to nothing are dropped.
    pub fn new(phrases: impl IntoIterator<Item = (String, T)>) -> Self {
        let mut entries: Vec<_> = phrases
            .into_iter()
            .map(|(p, tag)| (phrase_words(&p), tag, p))
            .filter(|(w, _, _)| !w.is_empty())
            .collect();
        entries.sort_by_key(|e| std::cmp::Reverse(e.0.len()));
        Self { entries }
    }

    /// True when no phrase is in the set.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Non-overlapping matches, scanning left to right and preferring the longest phrase at
    /// each position. A phrase never spans a clause boundary.
    pub fn find(&self, tokens: &[Located]) -> Vec<Hit<T>> {
        let mut hits = Vec::new();
        let mut i = 0;
        while i < tokens.len() {
            let found = self.entries.iter().find(|(words, _, _)| {
                words.len() <= tokens.len() - i
                    && words.iter().zip(&tokens[i..]).all(|(w, t)| match &t.token {
                        Token::Word(x) => x == w,
                        Token::Boundary => false,
                    })
            });
            match found {
                Some((words, tag, _)) => {
                    let end = i + words.len();
                    hits.push(Hit {
                        tag: tag.clone(),
                        start: i,
                        end,
                        text: join_words(words.iter().map(String::as_str)),
                    });
                    i = end;
                }
                None => i += 1,
            }
        }
        hits
    }
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
}
