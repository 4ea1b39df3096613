//! The kiosk's own texts in Chinese and English, from `assets/strings.toml`, with `{name}` placeholders.

use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
struct Entry {
    zh: String,
    en: String,
}

/// All texts, checked at start-up: a missing key is a bug, caught by a test, never a blank button.
#[derive(Debug, Clone)]
pub struct Strings {
    entries: BTreeMap<String, Entry>,
}

impl Strings {
    /// The texts shipped with the app.
    pub fn shipped() -> Self {
        let entries = toml::from_str(include_str!("../assets/strings.toml"))
            .expect("assets/strings.toml is valid (checked by a test)");
        Self { entries }
    }

    /// The text for `key` in `locale` (`zh…` → Chinese, else English); the key itself if unknown.
    pub fn get(&self, locale: &str, key: &str) -> String {
        match self.entries.get(key) {
            Some(e) if locale.starts_with("zh") => e.zh.clone(),
            Some(e) => e.en.clone(),
            None => {
                tracing::error!(key, "missing string");
                key.to_string()
            }
        }
    }

    /// [`Strings::get`] with `{name}` placeholders filled.
    pub fn fill(&self, locale: &str, key: &str, args: &[(&str, &str)]) -> String {
        args.iter().fold(self.get(locale, key), |s, (k, v)| {
            s.replace(&format!("{{{k}}}"), v)
        })
    }

    /// Every key (for the test that checks both languages are present and non-empty).
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_text_exists_in_both_languages() {
        let s = Strings::shipped();
        assert!(s.keys().count() > 50);
        for k in s.keys() {
            assert!(!s.get("zh-CN", k).trim().is_empty(), "{k} zh");
            assert!(!s.get("en", k).trim().is_empty(), "{k} en");
        }
        assert_eq!(
            s.fill("en", "question_progress", &[("n", "2"), ("total", "3")]),
            "Question 2 of 3"
        );
        assert_eq!(
            s.fill("zh-CN", "question_seconds", &[("s", "9")]),
            "还剩 9 秒"
        );
    }
}
