//! Model files: where they live under the station's models dir and their checksums, from
//! `models/manifest.toml` (compiled in). A missing or corrupt file is an error naming the file and
//! the command that fixes it.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest, Sha256};

const MANIFEST: &str = include_str!("../../../models/manifest.toml");

/// The command that installs models.
pub const FIX: &str = "models/fetch.sh <models_dir>";

/// A model file problem.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// Not installed.
    #[error("model `{name}` is missing: {path} does not exist. Install it with `{FIX}`")]
    Missing {
        /// Model name.
        name: String,
        /// Expected path.
        path: PathBuf,
    },
    /// Installed but damaged or replaced.
    #[error(
        "model `{name}` at {path} is corrupt (sha256 {actual}, expected {expected}). Reinstall it with `{FIX}`"
    )]
    Corrupt {
        /// Model name.
        name: String,
        /// The file.
        path: PathBuf,
        /// Expected checksum.
        expected: String,
        /// Found checksum.
        actual: String,
    },
    /// Not in the manifest (a programming error).
    #[error("no model `{0}` in models/manifest.toml")]
    Unknown(String),
    /// The file exists and matches, but the runtime could not load it.
    #[error("model `{name}` ({path}) could not be loaded: {detail}")]
    Load {
        /// Model name.
        name: String,
        /// The file.
        path: PathBuf,
        /// Why.
        detail: String,
    },
    /// Reading the file failed.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// One manifest entry.
#[derive(Debug, Clone, Deserialize)]
pub struct ModelEntry {
    /// Name, e.g. `silero-vad`.
    pub name: String,
    /// What it is for.
    pub purpose: String,
    /// Licence.
    pub licence: String,
    /// Path under the models dir.
    pub file: String,
    /// Checksum of the installed file.
    pub sha256: String,
}

#[derive(Debug, Deserialize)]
struct Manifest {
    model: Vec<ModelEntry>,
}

/// Every model in the manifest.
pub fn manifest() -> Vec<ModelEntry> {
    toml::from_str::<Manifest>(MANIFEST)
        .map(|m| m.model)
        .unwrap_or_default()
}

/// The manifest entry called `name`.
pub fn entry(name: &str) -> Result<ModelEntry, ModelError> {
    manifest()
        .into_iter()
        .find(|m| m.name == name)
        .ok_or_else(|| ModelError::Unknown(name.to_string()))
}

/// Hex sha256 of a file.
pub fn sha256_file(path: &Path) -> Result<String, ModelError> {
    let io = |source| ModelError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut f = std::fs::File::open(path).map_err(io)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(io)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// The verified path of model `name` under `models_dir`.
pub fn verified(models_dir: &Path, name: &str) -> Result<PathBuf, ModelError> {
    let e = entry(name)?;
    let path = models_dir.join(&e.file);
    if !path.exists() {
        return Err(ModelError::Missing { name: e.name, path });
    }
    let actual = sha256_file(&path)?;
    if actual != e.sha256 {
        return Err(ModelError::Corrupt {
            name: e.name,
            path,
            expected: e.sha256,
            actual,
        });
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_parses_with_checksums() {
        let m = manifest();
        assert!(m.len() >= 4);
        assert!(m.iter().all(|e| e.sha256.len() == 64), "{m:?}");
    }

    #[test]
    fn missing_and_corrupt_files_name_the_file_and_the_fix() {
        let dir = tempfile::tempdir().expect("tmp");
        let err = verified(dir.path(), "silero-vad").expect_err("missing");
        assert!(matches!(err, ModelError::Missing { .. }));
        assert!(
            err.to_string().contains("silero_vad.onnx") && err.to_string().contains(FIX),
            "{err}"
        );
        std::fs::write(dir.path().join("silero_vad.onnx"), b"not a model").expect("write");
        let err = verified(dir.path(), "silero-vad").expect_err("corrupt");
        assert!(matches!(err, ModelError::Corrupt { .. }), "{err}");
        assert!(
            err.to_string().contains("corrupt") && err.to_string().contains(FIX),
            "{err}"
        );
    }
}
