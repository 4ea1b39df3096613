//! `kiosk results`: list local results, newest first.

use std::path::Path;

use crate::context::Context;
use crate::render;

/// Runs the command.
pub fn run(station: &Path, limit: usize, json: bool) -> anyhow::Result<()> {
    let ctx = Context::load(station)?;
    let rows = ctx.store.list_results(limit)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        print!("{}", render::results_table(&rows));
        let backlog = ctx.store.outbox_backlog()?;
        println!(
            "{} result(s) shown; {} event(s) waiting to sync",
            rows.len(),
            backlog.pending
        );
    }
    Ok(())
}
