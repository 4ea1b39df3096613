//! Helpers for system tests: find the workspace's built binaries and lay out a throw-away station.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// `provisioning/examples` in this checkout.
pub fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../provisioning/examples")
}

/// A binary built from this workspace (`cargo build --workspace --bins` builds them all).
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/<test> → target/<profile>/<name>
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target profile folder");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is not built: run `cargo build --workspace --bins` before the system tests (the README's test command does)",
        path.display()
    );
    path
}

/// Runs the `kiosk` binary and waits for it.
pub fn kiosk(args: &[&str]) -> Output {
    Command::new(binary("kiosk"))
        .args(args)
        .output()
        .expect("kiosk runs")
}

/// A station in `dir` with the shipped roles and demo answers; its data lives in `dir/data`.
pub fn station(dir: &Path) -> PathBuf {
    let roles = dir.join("roles");
    std::fs::create_dir_all(&roles).expect("mkdir roles");
    for entry in std::fs::read_dir(examples().join("roles")).expect("shipped roles") {
        let p = entry.expect("entry").path();
        std::fs::copy(&p, roles.join(p.file_name().expect("name"))).expect("copy role");
    }
    std::fs::copy(
        examples().join("demo-answers.toml"),
        dir.join("demo-answers.toml"),
    )
    .expect("copy demo");
    let text = std::fs::read_to_string(examples().join("station.toml"))
        .expect("shipped station")
        .replace("\"../../var/data\"", "\"data\"")
        .replace("\"../../var/models\"", "\"models\"");
    let path = dir.join("station.toml");
    std::fs::write(&path, text).expect("write station");
    path
}

/// The database file of a station made by [`station`].
pub fn database(dir: &Path) -> PathBuf {
    dir.join("data/kiosk.sqlite3")
}
