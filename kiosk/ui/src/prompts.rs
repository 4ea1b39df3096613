//! Spoken question prompts: the 16 kHz WAV files found for each role's spoken questions
//! (`<prompt_audio_dir>/<role id>/<question id>.<zh|en>.wav`), checked once at start-up.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use kiosk_perception::audio::read_wav;
use kiosk_screening::{QuestionKind, RoleConfig};

/// The prompt files that exist and can be played, by (role, question, language).
#[derive(Debug, Clone, Default)]
pub struct PromptAudio {
    found: HashMap<(String, String, &'static str), PathBuf>,
    /// Spoken questions × languages looked for.
    asked: usize,
}

/// `zh` for Chinese locales, `en` for everything else (as role texts fall back).
fn lang(locale: &str) -> &'static str {
    if locale.starts_with("zh") { "zh" } else { "en" }
}

impl PromptAudio {
    /// Looks for every spoken question's file in both languages. Files that cannot be played
    /// are logged with what to do and left out, so that question is shown only.
    pub fn scan(dir: Option<&Path>, roles: &[RoleConfig]) -> Self {
        let mut found = HashMap::new();
        let Some(dir) = dir else {
            return Self::default();
        };
        if !dir.is_dir() {
            tracing::warn!(
                dir = %dir.display(),
                "prompt_audio_dir is not a folder: questions are shown, not spoken"
            );
            return Self::default();
        }
        let mut asked = 0;
        for role in roles {
            for q in role
                .questions
                .iter()
                .filter(|q| matches!(q.kind, QuestionKind::Spoken | QuestionKind::Availability))
            {
                for l in ["zh", "en"] {
                    asked += 1;
                    let path = dir.join(&role.id).join(format!("{}.{l}.wav", q.id));
                    if !path.exists() {
                        continue;
                    }
                    match read_wav(&path) {
                        Ok(samples) if !samples.is_empty() => {
                            found.insert((role.id.clone(), q.id.clone(), l), path);
                        }
                        Ok(_) => {
                            tracing::warn!(file = %path.display(), "prompt audio is empty: not played")
                        }
                        Err(e) => tracing::warn!(
                            "prompt audio not played: {e} (convert it with `sox IN -r 16000 -c 1 -b 16 {}`)",
                            path.display()
                        ),
                    }
                }
            }
        }
        tracing::info!(dir = %dir.display(), spoken = found.len(), of = asked, "question prompts with audio");
        Self { found, asked }
    }

    /// The file to play for a question in a locale, if there is one.
    pub fn get(&self, role: &str, question: &str, locale: &str) -> Option<&Path> {
        self.found
            .get(&(role.to_string(), question.to_string(), lang(locale)))
            .map(PathBuf::as_path)
    }

    /// How many prompts can be spoken.
    pub fn len(&self) -> usize {
        self.found.len()
    }

    /// No prompt can be spoken.
    pub fn is_empty(&self) -> bool {
        self.found.is_empty()
    }

    /// How many (spoken question, language) pairs were looked for.
    pub fn asked(&self) -> usize {
        self.asked
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roles() -> Vec<RoleConfig> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../provisioning/examples/roles");
        let text = std::fs::read_to_string(dir.join("factory-worker.toml")).expect("role file");
        vec![kiosk_screening::parse_role(&text, "factory-worker.toml").expect("role")]
    }

    #[test]
    fn prompts_are_found_per_role_question_and_language_and_bad_files_left_out() {
        let dir = tempfile::tempdir().expect("tempdir");
        let role_dir = dir.path().join("factory-worker");
        std::fs::create_dir_all(&role_dir).expect("mkdir");
        let tone: Vec<f32> = (0..8000).map(|i| (i as f32 * 0.05).sin() * 0.3).collect();
        kiosk_perception::audio::write_wav(&role_dir.join("motivation.en.wav"), &tone)
            .expect("wav");
        std::fs::write(role_dir.join("motivation.zh.wav"), b"not a wav").expect("write");
        let p = PromptAudio::scan(Some(dir.path()), &roles());
        assert_eq!(p.len(), 1);
        assert_eq!(p.asked(), 6, "three spoken questions in two languages");
        assert_eq!(
            p.get("factory-worker", "motivation", "en"),
            Some(role_dir.join("motivation.en.wav").as_path())
        );
        assert_eq!(
            p.get("factory-worker", "motivation", "zh-CN"),
            None,
            "not a WAV"
        );
        assert_eq!(p.get("factory-worker", "two-shifts", "en"), None, "no file");
        assert!(PromptAudio::scan(None, &roles()).is_empty());
        assert!(PromptAudio::scan(Some(&dir.path().join("missing")), &roles()).is_empty());
    }
}
