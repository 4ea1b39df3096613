//! A real Mosquitto broker for one test, on a free loopback port, stopped when dropped.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running (or stopped) broker with its configuration.
#[derive(Debug)]
pub struct Broker {
    /// The port it listens on.
    pub port: u16,
    conf: PathBuf,
    child: Option<Child>,
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

impl Broker {
    /// Writes a config in `dir` (listener on a free port, `extra` lines appended) and starts it.
    /// Without `persistence true` in `extra`, a restart loses every session, like a broker rebuilt from scratch.
    pub fn start(dir: &Path, extra: &str) -> Self {
        Self::start_with_listener(dir, "allow_anonymous true\n", extra)
    }

    /// As [`Broker::start`], with `listener_options` under the listener line (TLS, auth …).
    pub fn start_with_listener(dir: &Path, listener_options: &str, extra: &str) -> Self {
        let port = free_port();
        let conf = dir.join(format!("mosquitto-{port}.conf"));
        let text = format!(
            "per_listener_settings true\n# As root, keep root: test keys are private to the test user.\nuser root\nlistener {port} 127.0.0.1\n{listener_options}\npersistence_location {}/\nlog_dest file {}/mosquitto-{port}.log\nlog_type all\n{extra}\n",
            dir.display(),
            dir.display()
        );
        std::fs::write(&conf, text).expect("write mosquitto.conf");
        let mut b = Self {
            port,
            conf,
            child: None,
        };
        b.resume();
        b
    }

    /// A broker as production runs it for devices: a TLS listener with the certificates of
    /// `certs` (make-certs.sh's: CA, broker certificate, CRL), client certificates required, the
    /// certificate's CN as username and client id, and the shipped ACL; plus a plain loopback
    /// listener for the test's cloud side, whose port is returned beside it.
    pub fn start_tls(dir: &Path, certs: &Path) -> (Self, u16) {
        let cloud_port = free_port();
        let tls = format!(
            "cafile {c}/ca.crt\ncertfile {c}/broker.crt\nkeyfile {c}/broker.key\ncrlfile {c}/crl.pem\nrequire_certificate true\nuse_identity_as_username true\nuse_username_as_clientid true\nacl_file {}\n",
            crate::provisioning().join("mosquitto/kiosk.acl").display(),
            c = certs.display()
        );
        let broker = Self::start_with_listener(
            dir,
            &tls,
            &format!("listener {cloud_port} 127.0.0.1\nallow_anonymous true\npersistence false\n"),
        );
        (broker, cloud_port)
    }

    /// Starts the broker again with the same configuration and port.
    pub fn resume(&mut self) {
        assert!(self.child.is_none(), "broker already running");
        let child = Command::new("mosquitto")
            .args(["-c", self.conf.to_str().expect("utf8")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("mosquitto starts (apt-get install mosquitto)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "mosquitto did not listen on {}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops it gracefully (SIGTERM: a persistent broker saves its sessions).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &c.id().to_string()])
                .status();
            let _ = c.wait();
        }
    }

    /// Freezes it (SIGSTOP): connections stay open but nothing answers — a half-open link.
    pub fn freeze(&self) {
        self.signal("-STOP");
    }

    /// Makes it read its ACL and password files again (SIGHUP).
    pub fn reload(&self) {
        self.signal("-HUP");
    }

    /// Thaws a frozen broker (SIGCONT).
    pub fn thaw(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, sig: &str) {
        if let Some(c) = &self.child {
            let ok = Command::new("kill")
                .args([sig, &c.id().to_string()])
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "kill {sig} failed");
        }
    }

    /// Kills it (SIGKILL: nothing saved).
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.thaw();
        self.kill();
    }
}
