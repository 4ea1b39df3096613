//! `kiosk demo`: score and store the sample candidates of a demo file, then list the results.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use kiosk_store::Candidate;
use serde::Deserialize;

use crate::UsageError;
use crate::context::Context;
use crate::render;

/// A demo file: sample candidates with typed answers.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoFile {
    candidates: Vec<DemoCandidate>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoCandidate {
    name: String,
    phone: Option<String>,
    role: String,
    locale: String,
    answers: Vec<String>,
}

/// Runs the command.
pub fn run(station: &Path, answers: Option<&Path>, rounds: u64, quiet: bool) -> anyhow::Result<()> {
    let mut ctx = Context::load(station)?;
    let file: PathBuf = match answers {
        Some(p) => p.to_path_buf(),
        None => station
            .parent()
            .unwrap_or(Path::new("."))
            .join("demo-answers.toml"),
    };
    let text = std::fs::read_to_string(&file)
        .with_context(|| format!("reading demo answers {}", file.display()))?;
    let demo: DemoFile = toml::from_str(&text)
        .map_err(|e| UsageError(format!("{}: not a valid demo file: {e}", file.display())))?;
    let mut saved = 0u64;
    for _ in 0..rounds {
        for c in &demo.candidates {
            let candidate = Candidate {
                name: Some(c.name.clone()),
                phone: c.phone.clone(),
            };
            let scored = super::score_typed(&mut ctx, &c.role, &c.answers, candidate, &c.locale)?;
            saved += 1;
            if !quiet {
                println!(
                    "saved {} ({}): {} → {} (total {})",
                    c.name,
                    scored.receipt,
                    c.role,
                    scored.result.recommendation.as_str(),
                    scored
                        .result
                        .total
                        .map_or("—".to_string(), |t| t.to_string())
                );
            }
        }
    }
    if !quiet {
        println!();
        print!(
            "{}",
            render::results_table(&ctx.store.list_results(demo.candidates.len())?)
        );
    }
    println!(
        "{saved} interview(s) saved to {}",
        ctx.store.path().display()
    );
    Ok(())
}
