//! Yes/no intent with negation and hedging, in Chinese and English, driven by a lexicon from config.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::availability::{Availability, AvailabilityReader, AvailabilityWords};
use crate::phrases::{Hit, PhraseSet};
use crate::text::{Located, Token};

/// What a lexicon phrase says about the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Polarity {
    /// Agreement ("yes", "没问题").
    Yes,
    /// Refusal ("can't", "不行").
    No,
    /// Hedging ("maybe", "看情况").
    Hedge,
    /// A word that turns a following "yes" into "no" ("not", "不").
    Negator,
}

/// The intent of a whole answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    /// Clear agreement.
    Yes,
    /// Clear refusal.
    No,
    /// Hedged, or both yes and no.
    Hedge,
    /// Nothing in the answer says yes or no.
    Unknown,
}

/// Phrases of one language, as written in `lexicon.toml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LanguageWords {
    /// Agreement phrases.
    #[serde(default)]
    pub yes: Vec<String>,
    /// Refusal phrases.
    #[serde(default)]
    pub no: Vec<String>,
    /// Hedging phrases.
    #[serde(default)]
    pub hedge: Vec<String>,
    /// Negators that flip a following agreement phrase.
    #[serde(default)]
    pub negators: Vec<String>,
}

/// The `lexicon.toml` file: intent words per language, and how far a negator reaches.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LexiconConfig {
    /// Words per language tag (`en`, `zh` …); all languages are matched together.
    pub intent: BTreeMap<String, LanguageWords>,
    /// Maximum number of words between a negator and the agreement phrase it flips.
    #[serde(default = "default_window")]
    pub negation_window: usize,
    /// Words for when a candidate can work, per language (the `availability` question).
    #[serde(default)]
    pub availability: BTreeMap<String, AvailabilityWords>,
}

fn default_window() -> usize {
    3
}

/// A compiled lexicon, ready to classify answers.
#[derive(Debug, Clone)]
pub struct Lexicon {
    phrases: PhraseSet<Polarity>,
    window: usize,
    availability: AvailabilityReader,
}

/// A phrase that decided an intent, with the token where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct IntentCue {
    /// What this phrase (after negation) says.
    pub polarity: Polarity,
    /// The phrase as heard (normalised), e.g. "不能 接受" → "不能接受".
    pub text: String,
    /// Index of its first token.
    pub start: usize,
    /// The lexicon phrase(s) it matched by sound only (toneless pinyin), if it did.
    pub by_sound: Option<String>,
}

/// Intent of an answer with the phrases that drove it.
#[derive(Debug, Clone, PartialEq)]
pub struct IntentReading {
    /// The overall intent.
    pub intent: Intent,
    /// Phrases that support it, in order.
    pub cues: Vec<IntentCue>,
    /// The intent is a refusal (or hedged) only because of phrases matched by sound: it must
    /// not be trusted, a person listens.
    pub no_rests_on_sound: bool,
}

impl Lexicon {
    /// Compiles a lexicon config.
    pub fn new(config: &LexiconConfig) -> Self {
        let mut phrases = Vec::new();
        for words in config.intent.values() {
            for (list, pol) in [
                (&words.yes, Polarity::Yes),
                (&words.no, Polarity::No),
                (&words.hedge, Polarity::Hedge),
                (&words.negators, Polarity::Negator),
            ] {
                phrases.extend(list.iter().map(|p| (p.clone(), pol)));
            }
        }
        let refusals: Vec<(String, Polarity)> = phrases
            .iter()
            .filter(|(_, p)| matches!(p, Polarity::No | Polarity::Negator))
            .cloned()
            .collect();
        let words: Vec<&AvailabilityWords> = config.availability.values().collect();
        Self {
            availability: AvailabilityReader::new(&words, &refusals, config.negation_window),
            phrases: PhraseSet::new(phrases),
            window: config.negation_window,
        }
    }

    /// When an answer says the candidate can work; None when it is unclear (show the chips).
    pub fn read_availability(&self, tokens: &[Located]) -> Option<Availability> {
        self.availability.read(tokens)
    }

    /// Reads the intent of a token sequence.
    pub fn read(&self, tokens: &[Located]) -> IntentReading {
        let hits = self.phrases.find(tokens);
        let mut cues: Vec<IntentCue> = Vec::new();
        // The last refusal or negator that may still flip a following "yes".
        let mut negation: Option<&Hit<Polarity>> = None;
        for hit in &hits {
            match hit.tag {
                Polarity::Yes => {
                    if let Some(neg) = negation.filter(|n| self.reaches(tokens, n, hit)) {
                        // "不能 … 接受", "not … fine": one refusal, not a refusal and an agreement.
                        if neg.tag == Polarity::No {
                            cues.pop();
                        }
                        let by_sound = match (&neg.by_sound, &hit.by_sound) {
                            (None, None) => None,
                            (a, b) => Some(format!(
                                "{} … {}",
                                a.as_deref().unwrap_or(&neg.text),
                                b.as_deref().unwrap_or(&hit.text)
                            )),
                        };
                        cues.push(IntentCue {
                            polarity: Polarity::No,
                            text: format!("{} … {}", neg.text, hit.text),
                            start: neg.start,
                            by_sound,
                        });
                        negation = None;
                    } else {
                        cues.push(cue(hit, Polarity::Yes));
                    }
                }
                Polarity::No => {
                    cues.push(cue(hit, Polarity::No));
                    negation = Some(hit);
                }
                Polarity::Negator => negation = Some(hit),
                Polarity::Hedge => cues.push(cue(hit, Polarity::Hedge)),
            }
        }
        let intent = intent_of(&cues, true);
        // A match by sound may support a "yes" but never decides a "no": when the reading
        // without the refusals heard only by sound is more favourable, it rests on them.
        let no_rests_on_sound =
            intent != intent_of(&cues, false) && matches!(intent, Intent::No | Intent::Hedge);
        IntentReading {
            intent,
            cues,
            no_rests_on_sound,
        }
    }

    /// True when `neg` is close enough before `yes`, in the same clause, to negate it.
    fn reaches(&self, tokens: &[Located], neg: &Hit<Polarity>, yes: &Hit<Polarity>) -> bool {
        let between = &tokens[neg.end..yes.start];
        between.len() <= self.window && !between.iter().any(|t| t.token == Token::Boundary)
    }
}

fn cue(hit: &Hit<Polarity>, polarity: Polarity) -> IntentCue {
    IntentCue {
        polarity,
        text: hit.text.clone(),
        start: hit.start,
        by_sound: hit.by_sound.clone(),
    }
}

/// The intent the cues add up to; refusals heard only by sound count only with `sound_no`.
fn intent_of(cues: &[IntentCue], sound_no: bool) -> Intent {
    let has = |p| {
        cues.iter()
            .any(|c| c.polarity == p && (sound_no || p != Polarity::No || c.by_sound.is_none()))
    };
    match (has(Polarity::Yes), has(Polarity::No), has(Polarity::Hedge)) {
        (_, _, true) | (true, true, _) => Intent::Hedge,
        (true, false, false) => Intent::Yes,
        (false, true, false) => Intent::No,
        (false, false, false) => Intent::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::tokenise;

    /// The lexicon shipped with the product, so these tests guard the real configuration.
    pub(crate) fn shipped() -> Lexicon {
        let text = include_str!("../../../provisioning/examples/roles/lexicon.toml");
        Lexicon::new(&toml::from_str(text).expect("shipped lexicon parses"))
    }

    fn intent(lex: &Lexicon, s: &str) -> Intent {
        let tokens: Vec<Located> = tokenise(s)
            .into_iter()
            .map(|token| Located { token, segment: 0 })
            .collect();
        lex.read(&tokens).intent
    }

    #[test]
    fn intent_table() {
        use Intent::*;
        let lex = shipped();
        let cases = [
            ("yes, two shifts are fine", Yes),
            ("Yes", Yes),
            ("sure, no problem", Yes),
            ("I don't mind working nights", Yes),
            ("of course I can", Yes),
            ("I can't do nights", No),
            ("I cannot work night shifts", No),
            ("No.", No),
            ("not really", No),
            ("that is not fine for me", No),
            ("I'm not able to", No),
            ("maybe", Hedge),
            ("it depends on the pay", Hedge),
            ("I'm not sure", Hedge),
            ("yes but it depends", Hedge),
            ("I can do days, but I can't do nights", Hedge),
            ("我不能接受两班倒", No),
            ("不能接受", No),
            ("两班倒没问题", Yes),
            ("可以", Yes),
            ("行", Yes),
            ("能", Yes),
            ("好的", Yes),
            ("不行", No),
            ("不可以", No),
            ("夜班我上不了", No),
            ("够呛", No),
            ("不，我可以", Yes),
            ("看情况吧", Hedge),
            ("可能吧", Hedge),
            ("不一定", Hedge),
            ("沒問題", Yes),
            ("我不願意", No),
            ("I like apples", Unknown),
            ("", Unknown),
            ("我叫张三", Unknown),
            // What a small model writes for 可以，两班倒没问题: matched by sound.
            ("可已，两班到没问题", Yes),
            ("可已", Yes),
        ];
        for (answer, expected) in cases {
            assert_eq!(intent(&lex, answer), expected, "answer {answer:?}");
        }
    }

    #[test]
    fn negated_agreement_is_one_cue() {
        let lex = shipped();
        let tokens: Vec<Located> = tokenise("我不能接受两班倒")
            .into_iter()
            .map(|token| Located { token, segment: 0 })
            .collect();
        let reading = lex.read(&tokens);
        assert_eq!(reading.cues.len(), 1);
        assert_eq!(reading.cues[0].polarity, Polarity::No);
        assert_eq!(reading.cues[0].text, "不能 … 接受");
    }

    #[test]
    fn a_refusal_heard_only_by_sound_is_flagged() {
        let lex = shipped();
        let read = |s: &str| {
            let tokens: Vec<Located> = tokenise(s)
                .into_iter()
                .map(|token| Located { token, segment: 0 })
                .collect();
            lex.read(&tokens)
        };
        // 不性 reads as 不行 (bu xing): a refusal by sound only.
        let r = read("不性");
        assert_eq!(r.intent, Intent::No);
        assert!(r.no_rests_on_sound, "{r:?}");
        assert_eq!(r.cues[0].by_sound.as_deref(), Some("不行"));
        // As written, it is trusted.
        assert!(!read("不行").no_rests_on_sound);
        // A yes by sound is a yes, with nothing to flag.
        let y = read("可已");
        assert_eq!((y.intent, y.no_rests_on_sound), (Intent::Yes, false));
    }

    #[test]
    fn window_limits_negation_reach() {
        let mut cfg: LexiconConfig = toml::from_str(
            "negation_window = 1\n[intent.en]\nyes = [\"fine\"]\nnegators = [\"not\"]\n",
        )
        .expect("parses");
        let near = Lexicon::new(&cfg);
        assert_eq!(intent(&near, "not fine"), Intent::No);
        assert_eq!(intent(&near, "not at all really fine"), Intent::Yes);
        cfg.negation_window = 5;
        assert_eq!(
            intent(&Lexicon::new(&cfg), "not at all really fine"),
            Intent::No
        );
    }
}
