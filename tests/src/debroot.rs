//! A throw-away Debian 12 root (debootstrap + chroot) to install the project's packages into, as
//! a store box's bare Debian would get them. The base (minbase plus the packages' run-time
//! dependencies, so apt has little to fetch) is made once and cached as a tarball in /var/tmp;
//! each test unpacks its own copy and mounts /proc in it (systemd-tmpfiles needs it). Root only.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Where the base tarball is kept between runs.
const CACHE: &str = "/var/tmp/kiosk-debroot";

/// What the base has besides minbase: the packages' run-time dependencies (kept in step with
/// their `depends` in Cargo.toml; a missing one is simply fetched by apt at install time).
/// Changing the list changes the tarball's name, so the cache is remade.
const PREINSTALLED: &[&str] = &[
    "systemd",
    "debconf",
    "cage",
    "xwayland",
    "libvulkan1",
    "mesa-vulkan-drivers",
    "libwayland-client0",
    "libxkbcommon0",
    "libegl1",
    "fonts-wqy-microhei",
    "libasound2",
    "libssl3",
    "libudev1",
    "libv4l-0",
    "ca-certificates",
];

const MIRROR: &str = "http://deb.debian.org/debian";

/// A Debian root in a temporary folder, /proc mounted; unmounted and deleted when dropped.
#[derive(Debug)]
pub struct DebRoot {
    dir: Option<tempfile::TempDir>,
}

/// A short stable digest of the preinstalled list (FNV-1a), for the tarball's name.
fn digest() -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in PREINSTALLED.join(" ").bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// Runs `cmd`; panics with `what` and its output unless it succeeds.
fn run(cmd: &mut Command, what: &str) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The cached base tarball, made first if missing (debootstrap and apt from Debian's mirror:
/// about a minute).
fn base() -> PathBuf {
    let tar = Path::new(CACHE).join(format!("bookworm-minbase-{}.tar", digest()));
    if tar.exists() {
        return tar;
    }
    std::fs::create_dir_all(CACHE).expect("cache folder");
    let build = tempfile::tempdir_in(CACHE).expect("build folder");
    let root = build.path().join("root");
    eprintln!(
        "making the Debian base for package tests in {} (debootstrap from {MIRROR})",
        tar.display()
    );
    run(
        Command::new("debootstrap")
            .args(["--variant=minbase", "bookworm"])
            .arg(&root)
            .arg(MIRROR),
        "debootstrap (apt-get install debootstrap)",
    );
    std::fs::copy("/etc/resolv.conf", root.join("etc/resolv.conf")).expect("resolv.conf");
    let install = format!(
        "apt-get update -qq && apt-get install -y -qq --no-install-recommends {} && apt-get clean",
        PREINSTALLED.join(" ")
    );
    run(
        Command::new("chroot")
            .arg(&root)
            .args([
                "/usr/bin/env",
                "DEBIAN_FRONTEND=noninteractive",
                "/bin/sh",
                "-c",
            ])
            .arg(install),
        "apt-get install of the base's packages",
    );
    let partial = build.path().join("base.tar");
    run(
        Command::new("tar")
            .arg("-C")
            .arg(&root)
            .arg("-cf")
            .arg(&partial)
            .arg("."),
        "tar of the base",
    );
    std::fs::rename(&partial, &tar).expect("cache the base");
    tar
}

impl DebRoot {
    /// Unpacks a fresh copy of the base (made first if needed) and mounts /proc in it.
    pub fn new() -> Self {
        let tar = base();
        let dir = tempfile::tempdir_in(CACHE).expect("root folder");
        run(
            Command::new("tar")
                .arg("-C")
                .arg(dir.path())
                .arg("-xf")
                .arg(&tar),
            "unpacking the base",
        );
        // The installer writes it on a real box; debootstrap does not (localhost would not resolve).
        let hosts = dir.path().join("etc/hosts");
        if !hosts.exists() {
            std::fs::write(
                &hosts,
                "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n",
            )
            .expect("etc/hosts");
        }
        run(
            Command::new("mount")
                .args(["-t", "proc", "proc"])
                .arg(dir.path().join("proc")),
            "mounting /proc in the root",
        );
        Self { dir: Some(dir) }
    }

    /// The root folder, as seen from outside.
    pub fn path(&self) -> &Path {
        self.dir
            .as_ref()
            .expect("the root exists until dropped")
            .path()
    }

    /// `path` inside the root, as seen from outside.
    pub fn file(&self, path: &str) -> PathBuf {
        self.path().join(path.trim_start_matches('/'))
    }

    /// A command run inside the root as root, with a clean environment (and apt non-interactive).
    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new("chroot");
        c.arg(self.path())
            .args([
                "/usr/bin/env",
                "-i",
                "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
                "LANG=C.UTF-8",
                "DEBIAN_FRONTEND=noninteractive",
            ])
            .args(args)
            .stdin(Stdio::null());
        c
    }

    /// Runs `args` inside the root as root and waits for it.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("chroot runs")
    }

    /// Runs `args` inside the root as root; panics with its output unless it succeeds.
    pub fn ok(&self, args: &[&str]) -> Output {
        run(
            &mut self.command(args),
            &format!("{args:?} in the Debian root"),
        )
    }

    /// A command run inside the root as the `kiosk` user (with its groups), as the units run.
    pub fn as_kiosk(&self, args: &[&str]) -> Command {
        let mut full = vec![
            "setpriv",
            "--reuid=kiosk",
            "--regid=kiosk",
            "--init-groups",
            "--",
        ];
        full.extend_from_slice(args);
        self.command(&full)
    }
}

impl Default for DebRoot {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for DebRoot {
    fn drop(&mut self) {
        let unmounted = Command::new("umount")
            .arg("-l")
            .arg(self.path().join("proc"))
            .status()
            .is_ok_and(|s| s.success());
        if !unmounted {
            // Deleting the folder would walk into the host's /proc: leave it for a person.
            if let Some(dir) = self.dir.take() {
                eprintln!(
                    "could not unmount {}/proc: root left in place",
                    dir.keep().display()
                );
            }
        }
    }
}
