//! Free space for a folder: what `kiosk check` judges and the agent's health report carries.

use std::path::Path;

/// Bytes an unprivileged process may still write on the filesystem holding `path` (or its
/// nearest existing ancestor, for a data folder not made yet).
pub fn free_bytes(path: &Path) -> std::io::Result<u64> {
    let at = path
        .ancestors()
        .find(|p| p.exists())
        .unwrap_or(Path::new("/"));
    let v = rustix::fs::statvfs(at)?;
    Ok(v.f_bavail.saturating_mul(v.f_frsize))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_not_made_yet_is_measured_on_its_parents_disk() {
        let dir = tempfile::tempdir().expect("tmp");
        let here = free_bytes(dir.path()).expect("statvfs");
        let later = free_bytes(&dir.path().join("not/yet")).expect("ancestor");
        assert!(here > 0);
        // Same filesystem: within what other processes wrote meanwhile.
        assert!(here.abs_diff(later) < 1 << 30, "{here} vs {later}");
    }
}
