//! `kiosk score`: score typed answers, store them as a typed interview, print the explainable result.

use std::path::Path;

use kiosk_store::Candidate;

use crate::context::Context;
use crate::render;

/// Runs the command.
pub fn run(
    station: &Path,
    role: &str,
    answers: &[String],
    candidate: Candidate,
    json: bool,
) -> anyhow::Result<()> {
    let mut ctx = Context::load(station)?;
    let locale = ctx.station.config.station.locale.clone();
    let scored = super::score_typed(&mut ctx, role, answers, candidate, &locale)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&scored)?);
    } else {
        let role = ctx.role(role)?;
        print!("{}", render::result(role, &scored, &locale));
    }
    Ok(())
}
