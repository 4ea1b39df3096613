//! The result in the manager's language: every evidence line, reason and knockout rendered from
//! the result's codes and values with the role's own names (dimension, question prompt,
//! keyword group), never an id, a rule name or a file name.

use kiosk_screening::RoleConfig;
use kiosk_screening::result::{Evidence, Knockout, PhraseMatch, Reason, ReasonCode};
use kiosk_screening::role::RuleConfig;

use crate::strings::Strings;

/// Renders a result's parts for one role and locale.
#[derive(Debug, Clone, Copy)]
pub struct Explain<'a> {
    /// The texts.
    pub strings: &'a Strings,
    /// The interview's role, if this kiosk still offers it.
    pub role: Option<&'a RoleConfig>,
    /// The viewer's locale.
    pub locale: &'a str,
}

impl Explain<'_> {
    fn t(&self, key: &str) -> String {
        self.strings.get(self.locale, key)
    }

    fn fill(&self, key: &str, args: &[(&str, &str)]) -> String {
        self.strings.fill(self.locale, key, args)
    }

    /// The question as the manager knows it: its prompt (or a neutral "question N").
    pub fn question(&self, id: &str) -> String {
        let role = self.role;
        match role.and_then(|r| r.questions.iter().position(|q| q.id == id)) {
            Some(i) => role.map_or_else(String::new, |r| {
                r.questions[i].prompt.get(self.locale).to_string()
            }),
            None => self.fill("ev_question_n", &[("n", "?")]),
        }
    }

    /// A dimension's name.
    pub fn dimension(&self, id: &str) -> String {
        self.role.and_then(|r| r.dimension(id)).map_or_else(
            || self.t("ev_other_dimension"),
            |d| d.name.get(self.locale).to_string(),
        )
    }

    /// What a matched phrase counted as: yes / no / unsure, or a keyword group's name.
    fn meaning(&self, question_id: &str, m: &PhraseMatch) -> String {
        match m.meaning.as_str() {
            "yes" => return self.t("ev_yes"),
            "no" => return self.t("ev_no"),
            "hedge" => return self.t("ev_hedge"),
            _ => {}
        }
        let group = self
            .role
            .and_then(|r| r.questions.iter().find(|q| q.id == question_id))
            .into_iter()
            .flat_map(|q| &q.rules)
            .filter_map(|rule| match rule {
                RuleConfig::Keywords { groups, .. } => Some(groups),
                _ => None,
            })
            .flatten()
            .find(|g| g.label == m.meaning);
        group
            .and_then(|g| g.name.as_ref())
            .map_or_else(|| m.meaning.clone(), |n| n.get(self.locale).to_string())
    }

    /// One phrase heard, with what it counted as; a match by sound says so.
    fn phrase(&self, question_id: &str, m: &PhraseMatch) -> String {
        let meaning = self.meaning(question_id, m);
        if let Some(tapped) = m.phrase.strip_prefix("tapped ") {
            let key = if tapped == "yes" {
                "ev_tapped_yes"
            } else {
                "ev_tapped_no"
            };
            return self.t(key);
        }
        match &m.by_sound {
            Some(like) => self.fill(
                "ev_by_sound",
                &[("heard", &m.phrase), ("like", like), ("meaning", &meaning)],
            ),
            None => format!("\u{201c}{}\u{201d} → {meaning}", m.phrase),
        }
    }

    /// One evidence line: what the rule looked at and what it found, with its score.
    pub fn evidence(&self, e: &Evidence) -> String {
        let score = e
            .score
            .map_or_else(|| self.t("ev_not_scored"), |s| format!("{s:.0}"));
        let found = match (&e.metric, e.rule.as_str()) {
            (Some(m), _) => {
                let value = match m.name.as_str() {
                    "pause_ratio" => format!("{:.0}", m.value * 100.0),
                    "latency_s" | "speaking_s" => format!("{:.1}", m.value),
                    _ => format!("{:.0}", m.value),
                };
                self.fill(&format!("ev_metric_{}", m.name), &[("v", &value)])
            }
            (None, "metric") => self.t("ev_metric_none"),
            (None, rule) => {
                let heard: Vec<String> = e
                    .matches
                    .iter()
                    .map(|m| self.phrase(&e.question_id, m))
                    .collect();
                if heard.is_empty() {
                    self.t(if rule == "keywords" {
                        "ev_keywords_none"
                    } else {
                        "ev_intent_none"
                    })
                } else {
                    heard.join(&self.t("ev_separator"))
                }
            }
        };
        let n = self
            .role
            .and_then(|r| r.questions.iter().position(|q| q.id == e.question_id))
            .map_or_else(|| "?".to_string(), |i| (i + 1).to_string());
        format!(
            "{}  {found}  ·  {score}",
            self.fill("ev_question_short", &[("n", &n)])
        )
    }

    /// Why a result needs review, in the viewer's language.
    pub fn reason(&self, r: &Reason) -> String {
        let q = r.question_id.as_deref().map(|q| self.question(q));
        let q = q.as_deref().unwrap_or("");
        let v = r.value.map(|v| format!("{v}")).unwrap_or_default();
        let key = match r.code {
            ReasonCode::NoSpeech => "why_no_speech",
            ReasonCode::TooShort => "why_too_short",
            ReasonCode::LowConfidence => "why_low_confidence",
            ReasonCode::UnclearIntent => "why_unclear_intent",
            ReasonCode::DimensionUnscored => "why_dimension_unscored",
            ReasonCode::NotVisible => "why_not_visible",
            ReasonCode::MultiplePeople => "why_multiple_people",
            ReasonCode::RefusalBySound => "why_refusal_by_sound",
        };
        let dim = r.dimension.as_deref().map(|d| self.dimension(d));
        self.fill(
            key,
            &[
                ("question", q),
                ("value", &v),
                ("dimension", dim.as_deref().unwrap_or("")),
            ],
        )
    }

    /// A must-have question answered "no".
    pub fn knockout(&self, k: &Knockout) -> String {
        self.fill(
            "why_knockout",
            &[("question", &self.question(&k.question_id))],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiosk_screening::{Answer, Lexicon, Response, parse_lexicon, parse_role, score};

    fn shipped() -> (RoleConfig, Lexicon) {
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../provisioning/examples/roles"
        );
        let read = |f: &str| std::fs::read_to_string(format!("{dir}/{f}")).expect("shipped");
        let role = parse_role(&read("factory-worker.toml"), "factory-worker.toml").expect("role");
        let lex = parse_lexicon(&read("lexicon.toml"), "lexicon.toml").expect("lexicon");
        (role, Lexicon::new(&lex))
    }

    #[test]
    fn a_chinese_review_has_no_english_in_it() {
        let (role, lex) = shipped();
        let strings = Strings::shipped();
        let typed = |t: &str| Response::Typed { text: t.into() };
        let answers: Vec<Answer> = role
            .questions
            .iter()
            .zip([
                typed("我想找稳定的工作，离家近"),
                typed("不性"),
                Response::Missing,
            ])
            .map(|(q, response)| Answer {
                question_id: q.id.clone(),
                response,
            })
            .collect();
        let result = score(&role, &lex, &answers).expect("scores");
        let ex = Explain {
            strings: &strings,
            role: Some(&role),
            locale: "zh-CN",
        };
        let mut lines: Vec<String> = result
            .dimensions
            .iter()
            .flat_map(|d| &d.evidence)
            .map(|e| ex.evidence(e))
            .collect();
        lines.extend(result.reasons.iter().map(|r| ex.reason(r)));
        assert!(lines.len() > 4, "{lines:?}");
        for l in &lines {
            let latin: String = l.chars().filter(char::is_ascii_alphabetic).collect();
            assert!(latin.is_empty(), "English in a Chinese line: {l:?}");
            assert!(!l.contains('{'), "unfilled placeholder: {l:?}");
        }
        let all = lines.join("\n");
        assert!(all.contains("稳定"), "{all}");
        assert!(all.contains("按读音"), "the match by sound says so: {all}");
        assert!(
            all.contains("您能接受两班倒吗"),
            "the question by its prompt: {all}"
        );
    }
}
