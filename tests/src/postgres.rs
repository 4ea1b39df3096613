//! A private PostgreSQL cluster for one test (Debian's `postgresql` binaries, `initdb` + `pg_ctl`
//! on a free port, socket in the cluster's folder), stopped when dropped. As root both run as the
//! `postgres` user, since initdb refuses root.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::broker::free_port;

/// A running (or stopped) cluster.
#[derive(Debug)]
pub struct Postgres {
    /// Its port.
    pub port: u16,
    dir: PathBuf,
    bin: PathBuf,
    running: bool,
}

fn bindir() -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is not installed (apt-get install postgresql; dev.sh does)")
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("initdb").exists())
        .collect();
    found.sort();
    found
        .pop()
        .expect("no initdb under /usr/lib/postgresql/*/bin")
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

impl Postgres {
    /// Creates a cluster in `parent/pg` and starts it.
    pub fn start(parent: &Path) -> Self {
        let dir = parent.join("pg");
        std::fs::create_dir_all(&dir).expect("mkdir pg");
        if is_root() {
            // The postgres user must reach the folder: open the parents, give it the cluster.
            let mut p = Some(parent);
            while let Some(d) = p {
                if d == Path::new("/") || d == Path::new("/tmp") {
                    break;
                }
                let _ = Command::new("chmod").args(["o+x"]).arg(d).status();
                p = d.parent();
            }
            let ok = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&dir)
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "chown postgres {}", dir.display());
        }
        let mut pg = Self {
            port: free_port(),
            dir,
            bin: bindir(),
            running: false,
        };
        let data = pg.dir.join("data");
        let out = pg
            .command("initdb")
            .args([
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--no-sync",
                "-D",
            ])
            .arg(&data)
            .output()
            .expect("initdb runs");
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        pg.resume();
        pg
    }

    fn command(&self, tool: &str) -> Command {
        let exe = self.bin.join(tool);
        if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            Command::new(exe)
        }
    }

    /// Starts it again (same data, same port).
    pub fn resume(&mut self) {
        let mut opts = format!(
            "-p {} -k {} -c listen_addresses='' -c fsync=off -c max_connections=200",
            self.port,
            self.dir.display()
        );
        if std::env::var_os("CLOUD_BENCH_STATEMENTS").is_some() {
            opts.push_str(" -c shared_preload_libraries=pg_stat_statements");
        }
        let out = self
            .command("pg_ctl")
            .args(["-w", "-t", "60", "-D"])
            .arg(self.dir.join("data"))
            .args(["-l"])
            .arg(self.dir.join("server.log"))
            .args(["-o", &opts, "start"])
            .output()
            .expect("pg_ctl runs");
        assert!(
            out.status.success(),
            "pg_ctl start failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
        );
        self.running = true;
    }

    /// Stops it (fast shutdown: connections are cut).
    pub fn stop(&mut self) {
        if self.running {
            let _ = self
                .command("pg_ctl")
                .args(["-w", "-m", "fast", "-D"])
                .arg(self.dir.join("data"))
                .arg("stop")
                .output();
            self.running = false;
        }
    }

    /// The connection string (`host=<socket dir> port=… user=postgres dbname=postgres`).
    pub fn url(&self) -> String {
        format!(
            "host={} port={} user=postgres dbname=postgres",
            self.dir.display(),
            self.port
        )
    }

    /// Runs SQL through `psql` and returns its unaligned, tuples-only output.
    pub fn psql(&self, sql: &str) -> String {
        let out = Command::new(self.bin.join("psql"))
            .args([
                "-X",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-d",
                &self.url(),
                "-c",
                sql,
            ])
            .output()
            .expect("psql runs");
        assert!(
            out.status.success(),
            "psql `{sql}` failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

impl Postgres {
    /// Every row of every table, as `pg_dump --data-only` writes it (to search for what must be
    /// gone).
    pub fn dump(&self) -> String {
        let out = Command::new(self.bin.join("pg_dump"))
            .args(["--data-only", "-d", &self.url()])
            .output()
            .expect("pg_dump runs");
        assert!(
            out.status.success(),
            "pg_dump failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.stop();
    }
}
