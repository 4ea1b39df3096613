//! The ONNX Runtime environment, loaded once per process from the verified `libonnxruntime.so`
//! under the models dir (ort's load-dynamic: no download at run time).

use std::path::Path;
use std::sync::OnceLock;

use ort::environment::Environment;
use ort::session::Session;

use crate::models::{ModelError, verified};

static ENV: OnceLock<Result<Environment, String>> = OnceLock::new();

/// The process-wide environment, loading the runtime library on first use.
pub fn environment(models_dir: &Path) -> Result<Environment, ModelError> {
    let lib = verified(models_dir, "onnxruntime")?;
    let env = ENV.get_or_init(|| {
        ort::init_from(&lib)
            .map_err(|e| e.to_string())?
            .with_name("kiosk")
            .build()
            .map_err(|e| e.to_string())
    });
    env.clone().map_err(|detail| ModelError::Load {
        name: "onnxruntime".into(),
        path: lib,
        detail,
    })
}

/// A session for model `name` (verified first) with `threads` intra-op threads.
pub fn session(models_dir: &Path, name: &str, threads: usize) -> Result<Session, ModelError> {
    let env = environment(models_dir)?;
    let path = verified(models_dir, name)?;
    let load = |detail: String| ModelError::Load {
        name: name.to_string(),
        path: path.clone(),
        detail,
    };
    Session::builder(&env)
        .map_err(|e| load(e.to_string()))?
        .with_intra_threads(threads)
        .map_err(|e| load(e.to_string()))?
        .commit_from_file(&path)
        .map_err(|e| load(e.to_string()))
}
