//! `kiosk forget`: deletion on request, asked for at the store (the cloud is told and deletes its copy).

use std::path::Path;

use kiosk_store::{ForgetRequest, ForgetTarget, RequestedBy, StoreError};
use serde_json::json;

use crate::UsageError;
use crate::context::Context;

/// Runs the command.
pub fn run(station: &Path, target: ForgetTarget, json: bool) -> anyhow::Result<()> {
    let mut ctx = Context::load(station)?;
    let identity = ctx.identity();
    let request = ForgetRequest {
        request_id: format!("local-{}", uuid::Uuid::now_v7()),
        targets: vec![target],
        cloud_candidate_id: None,
        requested_by: RequestedBy::StoreManager,
    };
    let done = match ctx.store.forget(&identity, &request) {
        Err(StoreError::NotFound(_)) => {
            return Err(UsageError(
                "no candidate on this kiosk matches: check the receipt code, interview id or phone (nothing was deleted)"
                    .into(),
            )
            .into());
        }
        other => other?,
    };
    let candidates = done.removed.get("candidate").copied().unwrap_or(0);
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "request_id": done.request_id,
                "interviews": done.interviews,
                "removed": done.removed,
                "event_id": done.event_id,
            }))?
        );
    } else {
        let removed: Vec<String> = done
            .removed
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(k, n)| format!("{n} {}", k.replace('_', " ")))
            .collect();
        println!(
            "deleted {candidates} candidate(s) from this kiosk: {}\nrequest {} — the cloud is told when the sync agent next connects, and deletes its copy too",
            removed.join(", "),
            done.request_id
        );
    }
    Ok(())
}
