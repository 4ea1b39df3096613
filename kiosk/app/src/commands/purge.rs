//! `kiosk purge`: the retention rules, run on a schedule that does not depend on the kiosk being used.

use std::path::Path;

use kiosk_store::PurgeError;

use crate::context::Context;

/// Runs the command.
pub fn run(station: &Path, json: bool) -> anyhow::Result<()> {
    let mut ctx = Context::load(station)?;
    let k = &ctx.station.config.kiosk;
    let days = k.personal_data_days;
    let media = ctx.station.data_dir.join("media");
    let done = match ctx.store.purge(&media, days, kiosk_store::now()) {
        Ok(done) => done,
        Err(e @ PurgeError::ClockWrong { .. }) => return Err(e.into()),
        Err(PurgeError::Store(e)) => return Err(e.into()),
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&done)?);
    } else {
        println!(
            "removed {} expired audio file(s), {} orphaned audio file(s); personal data removed from {} interview(s) the cloud has had for over {days} days",
            done.expired_audio, done.orphan_files, done.interviews_reduced
        );
    }
    if done.undelivered_past_retention > 0 {
        eprintln!(
            "warning: {} interview(s) older than {days} days have not reached the cloud and are kept: check the sync agent (sync-agent status)",
            done.undelivered_past_retention
        );
    }
    Ok(())
}
