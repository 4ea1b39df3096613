//! Parsing and validation of role and lexicon files, with errors that name the file, the role and the field.

use std::collections::HashSet;
use std::fmt;

use crate::intent::LexiconConfig;
use crate::role::{Localised, QuestionKind, RoleConfig, RuleConfig};
use crate::text::phrase_words;

/// One problem in a configuration file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {}field `{field}`: {message}", role.as_ref().map(|r| format!("role `{r}`: ")).unwrap_or_default())]
pub struct ConfigError {
    /// The file, as given by the caller.
    pub file: String,
    /// The role id, when known.
    pub role: Option<String>,
    /// Path of the field, e.g. `questions[1].prompt.en`.
    pub field: String,
    /// What is wrong and what is expected.
    pub message: String,
}

/// Every problem found in a file; never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

impl ConfigErrors {
    /// A single error about a whole file (syntax, unreadable …).
    pub fn file(file: &str, field: &str, message: impl Into<String>) -> Self {
        Self(vec![ConfigError {
            file: file.to_string(),
            role: None,
            field: field.to_string(),
            message: message.into(),
        }])
    }
}

/// Parses and validates a role file's text. `file` is only used in error messages.
pub fn parse_role(text: &str, file: &str) -> Result<RoleConfig, ConfigErrors> {
    let role: RoleConfig = toml::from_str(text)
        .map_err(|e| ConfigErrors::file(file, "(file)", format!("not a valid role file: {e}")))?;
    validate_role(&role, file)?;
    Ok(role)
}

/// Parses a lexicon file's text and checks it has words to match.
pub fn parse_lexicon(text: &str, file: &str) -> Result<LexiconConfig, ConfigErrors> {
    let lex: LexiconConfig = toml::from_str(text).map_err(|e| {
        ConfigErrors::file(file, "(file)", format!("not a valid lexicon file: {e}"))
    })?;
    let mut errors = Vec::new();
    for (lang, words) in &lex.intent {
        for (name, list) in [("yes", &words.yes), ("no", &words.no)] {
            if list.iter().all(|p| phrase_words(p).is_empty()) {
                errors.push(ConfigError {
                    file: file.to_string(),
                    role: None,
                    field: format!("intent.{lang}.{name}"),
                    message: "needs at least one phrase".into(),
                });
            }
        }
    }
    if lex.intent.is_empty() {
        return Err(ConfigErrors::file(
            file,
            "intent",
            "needs at least one language, e.g. [intent.en]",
        ));
    }
    if errors.is_empty() {
        Ok(lex)
    } else {
        Err(ConfigErrors(errors))
    }
}

struct Check<'a> {
    file: &'a str,
    role: Option<String>,
    errors: Vec<ConfigError>,
}

impl Check<'_> {
    fn fail(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push(ConfigError {
            file: self.file.to_string(),
            role: self.role.clone(),
            field: field.into(),
            message: message.into(),
        });
    }

    fn both_languages(&mut self, field: &str, text: &Localised) {
        for (lang, value, name) in [("zh", &text.zh, "Chinese"), ("en", &text.en, "English")] {
            if value.as_deref().is_none_or(|v| v.trim().is_empty()) {
                self.fail(format!("{field}.{lang}"), format!("missing {name} text"));
            }
        }
    }

    fn score(&mut self, field: String, value: f64) {
        if !(0.0..=100.0).contains(&value) {
            self.fail(field, format!("must be between 0 and 100, is {value}"));
        }
    }
}

/// Checks a parsed role: weights sum to 100, every dimension used is declared and every declared
/// one is used, both languages everywhere, positive limits, rules that fit their question.
pub fn validate_role(role: &RoleConfig, file: &str) -> Result<(), ConfigErrors> {
    let mut c = Check {
        file,
        role: Some(role.id.clone()),
        errors: Vec::new(),
    };
    if role.id.trim().is_empty() {
        c.fail("id", "must not be empty");
    }
    c.both_languages("name", &role.name);
    if !(0..=100).contains(&role.pass_threshold) {
        c.fail(
            "pass_threshold",
            format!("must be between 0 and 100, is {}", role.pass_threshold),
        );
    }
    if !(0.0..=1.0).contains(&role.scoring.min_asr_confidence) {
        c.fail("scoring.min_asr_confidence", "must be between 0 and 1");
    }
    if role.dimensions.is_empty() {
        c.fail("dimensions", "at least one dimension is needed");
    }
    let mut declared = HashSet::new();
    for (i, d) in role.dimensions.iter().enumerate() {
        if !declared.insert(d.id.as_str()) {
            c.fail(
                format!("dimensions[{i}].id"),
                format!("`{}` is declared twice", d.id),
            );
        }
        c.both_languages(&format!("dimensions[{i}].name"), &d.name);
        if d.weight <= 0 {
            c.fail(
                format!("dimensions[{i}].weight"),
                format!("must be positive, is {}", d.weight),
            );
        }
    }
    let sum: i64 = role.dimensions.iter().map(|d| d.weight).sum();
    if !role.dimensions.is_empty() && sum != 100 {
        c.fail(
            "dimensions[].weight",
            format!("weights must sum to 100, they sum to {sum}"),
        );
    }
    if role.questions.is_empty() {
        c.fail("questions", "at least one question is needed");
    }
    let mut ids = HashSet::new();
    let mut used = HashSet::new();
    for (qi, q) in role.questions.iter().enumerate() {
        let at = format!("questions[{qi}]");
        if q.id.trim().is_empty() || !ids.insert(q.id.as_str()) {
            c.fail(
                format!("{at}.id"),
                format!("`{}` must be non-empty and unique", q.id),
            );
        }
        c.both_languages(&format!("{at}.prompt"), &q.prompt);
        if q.time_limit_s <= 0 {
            c.fail(
                format!("{at}.time_limit_s"),
                format!("must be positive, is {}", q.time_limit_s),
            );
        }
        if let Some(ms) = q.end_silence_ms
            && !(300..=10_000).contains(&ms)
        {
            c.fail(
                format!("{at}.end_silence_ms"),
                format!("must be between 300 and 10000 ms, is {ms}"),
            );
        }
        if q.kind == QuestionKind::Availability {
            if !q.rules.is_empty() {
                c.fail(
                    format!("{at}.rules"),
                    "an availability question is for rostering and never scores: remove its rules",
                );
            }
        } else if q.rules.is_empty() {
            c.fail(
                format!("{at}.rules"),
                "a question needs at least one evidence rule",
            );
        }
        for (ri, rule) in q.rules.iter().enumerate() {
            let at = format!("{at}.rules[{ri}]");
            let dim = rule.dimension();
            used.insert(dim);
            if !declared.contains(dim) {
                c.fail(
                    format!("{at}.dimension"),
                    format!("`{dim}` is not declared in [[dimensions]]"),
                );
            }
            if rule.weight().is_nan() || rule.weight() <= 0.0 {
                c.fail(format!("{at}.weight"), "must be positive");
            }
            if q.kind == QuestionKind::Tap && !matches!(rule, RuleConfig::Intent { .. }) {
                c.fail(
                    format!("{at}.type"),
                    "a tap question only takes `intent` rules",
                );
            }
            check_rule(&mut c, &at, rule);
        }
    }
    for d in &role.dimensions {
        if !used.contains(d.id.as_str()) {
            c.fail(
                "dimensions",
                format!("`{}` is declared but no rule feeds it", d.id),
            );
        }
    }
    if c.errors.is_empty() {
        Ok(())
    } else {
        Err(ConfigErrors(c.errors))
    }
}

fn check_rule(c: &mut Check<'_>, at: &str, rule: &RuleConfig) {
    match rule {
        RuleConfig::Intent { yes, no, hedge, .. } => {
            c.score(format!("{at}.yes"), *yes);
            c.score(format!("{at}.no"), *no);
            c.score(format!("{at}.hedge"), *hedge);
        }
        RuleConfig::Keywords {
            base, max, groups, ..
        } => {
            c.score(format!("{at}.base"), *base);
            c.score(format!("{at}.max"), *max);
            if groups.is_empty() {
                c.fail(format!("{at}.groups"), "needs at least one group");
            }
            for (gi, g) in groups.iter().enumerate() {
                if g.phrases.iter().all(|p| phrase_words(p).is_empty()) {
                    c.fail(
                        format!("{at}.groups[{gi}].phrases"),
                        "needs at least one phrase with words in it",
                    );
                }
                if let Some(name) = &g.name {
                    c.both_languages(&format!("{at}.groups[{gi}].name"), name);
                }
            }
        }
        RuleConfig::Metric { curve, .. } => {
            if curve.is_empty() {
                c.fail(
                    format!("{at}.curve"),
                    "needs at least one [value, score] point",
                );
            }
            for (pi, [_, s]) in curve.iter().enumerate() {
                c.score(format!("{at}.curve[{pi}][1]"), *s);
            }
            if curve.windows(2).any(|w| w[1][0] <= w[0][0]) {
                c.fail(format!("{at}.curve"), "values must strictly increase");
            }
        }
    }
}
