//! `kiosk keygen`, `kiosk backup` and `kiosk restore`: the store key, an encrypted copy of the
//! store, and putting it back.

use std::path::Path;

use anyhow::Context as _;
use kiosk_config::Station;
use kiosk_store::{Store, StoreKey};

use crate::UsageError;
use crate::context::Context;

/// Writes the backup.
pub fn backup(station: &Path, out: &Path, json: bool) -> anyhow::Result<()> {
    let ctx = Context::load(station)?;
    let m = ctx
        .store
        .backup_to(out)
        .with_context(|| format!("backing up into {}", out.display()))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&m)?);
    } else {
        println!(
            "backed up {} interview(s) and {} audio file(s) into {} (encrypted; key fingerprint {})",
            m.interviews,
            m.media_files,
            out.display(),
            m.key_fingerprint
        );
        if m.media_skipped > 0 {
            eprintln!(
                "note: {} audio row(s) had no file in the data folder (expired, or recorded elsewhere) and were not copied",
                m.media_skipped
            );
        }
    }
    Ok(())
}

/// Makes the store key.
pub fn keygen(station: &Path) -> anyhow::Result<()> {
    let st =
        Station::load(station).map_err(|e| UsageError(format!("invalid configuration:\n{e}")))?;
    if st.key_file.exists() {
        return Err(UsageError(format!(
            "{} exists: a store key is never replaced (the data encrypted with it could not be read again)",
            st.key_file.display()
        ))
        .into());
    }
    if kiosk_store::is_encrypted(&st.database()) {
        return Err(UsageError(format!(
            "{} is encrypted with a key that is not at {}: restore that key instead of making a new one",
            st.database().display(),
            st.key_file.display()
        ))
        .into());
    }
    let key = StoreKey::create(&st.key_file)?;
    println!(
        "made the store key {} (fingerprint {}): keep a copy with central IT, apart from the backups",
        st.key_file.display(),
        key.fingerprint()
    );
    Ok(())
}

/// Restores a backup into the station's (empty) data folder.
pub fn restore(station: &Path, from: &Path) -> anyhow::Result<()> {
    let st =
        Station::load(station).map_err(|e| UsageError(format!("invalid configuration:\n{e}")))?;
    let key_file = kiosk_store::locate_key(&st.key_file);
    let key = StoreKey::load(&key_file).map_err(|e| {
        UsageError(format!(
            "{e}\nput the store key kept with this kiosk's backups at {} first",
            key_file.display()
        ))
    })?;
    let store = Store::restore_from(from, &st.database(), &key).with_context(|| {
        format!(
            "restoring {} into {}",
            from.display(),
            st.data_dir.display()
        )
    })?;
    let backlog = store.outbox_backlog()?;
    println!(
        "restored {} into {}; {} event(s) still to send to the cloud",
        from.display(),
        st.database().display(),
        backlog.pending
    );
    Ok(())
}
