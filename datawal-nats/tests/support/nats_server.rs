//! A real `nats-server` with JetStream for the tests: each test starts its
//! own on a free loopback port with its storage in a temporary directory,
//! and the server is killed when the handle drops.
//!
//! When the binary is absent the tests print a loud message and return,
//! except in CI (`CI` or `DATAWAL_REQUIRE_NATS=1` set), where they fail.
//! Install it with `apt-get install -y nats-server` (.ci/run does).

#![allow(dead_code)]

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `nats-server -js`.
pub struct NatsServer {
    child: Option<Child>,
    port: u16,
    store: tempfile::TempDir,
    binary: PathBuf,
}

fn find_binary() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/bin")])
        .map(|d| d.join("nats-server"))
        .find(|p| p.is_file())
}

fn required() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false")
        || std::env::var_os("DATAWAL_REQUIRE_NATS").is_some_and(|v| v == "1")
}

impl NatsServer {
    /// A fresh server, or `None` (after a loud message) when `nats-server`
    /// is not installed outside CI. In CI a missing binary panics.
    pub fn start_or_skip(test: &str) -> Option<NatsServer> {
        let Some(binary) = find_binary() else {
            assert!(
                !required(),
                "nats-server is not installed, and CI or DATAWAL_REQUIRE_NATS=1 requires it \
                 (apt-get install -y nats-server)"
            );
            eprintln!(
                "\n!!!!!!!! SKIPPED {test}: nats-server is not installed. \
                 Install it (apt-get install -y nats-server) to run the JetStream tests. !!!!!!!!\n"
            );
            return None;
        };
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        let mut server = NatsServer {
            child: None,
            port,
            store: tempfile::tempdir().expect("tempdir"),
            binary,
        };
        server.start();
        Some(server)
    }

    fn start(&mut self) {
        let child = Command::new(&self.binary)
            .args([
                "-js",
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-sd",
            ])
            .arg(self.store.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn nats-server");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(15);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "nats-server did not listen");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The client URL.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Where JetStream keeps its files.
    pub fn store_dir(&self) -> &Path {
        self.store.path()
    }

    /// SIGKILL the server.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGKILL the server and start it again on the same port and files.
    pub fn restart(&mut self) {
        self.kill();
        self.start();
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
    }
}
