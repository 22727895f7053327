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
    monitor_port: u16,
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
        // Both held open until both are chosen, so they differ.
        let listeners: Vec<TcpListener> = (0..2)
            .map(|_| TcpListener::bind("127.0.0.1:0").expect("a free loopback port"))
            .collect();
        let ports: Vec<u16> = listeners
            .iter()
            .map(|l| l.local_addr().expect("local address").port())
            .collect();
        drop(listeners);
        let mut server = NatsServer {
            child: None,
            port: ports[0],
            monitor_port: ports[1],
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
                "-m",
                &self.monitor_port.to_string(),
                "-sd",
            ])
            .arg(self.store.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn nats-server");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(15);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err()
            || TcpStream::connect(("127.0.0.1", self.monitor_port)).is_err()
        {
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

    /// Messages held by all streams, from the monitoring endpoint (`/jsz`).
    pub fn messages(&self) -> u64 {
        use std::io::{Read as _, Write as _};
        let mut conn = TcpStream::connect(("127.0.0.1", self.monitor_port)).expect("monitor port");
        conn.write_all(b"GET /jsz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            .expect("request /jsz");
        let mut response = String::new();
        conn.read_to_string(&mut response).expect("read /jsz");
        let body = response.split("\r\n\r\n").nth(1).expect("an HTTP body");
        let json: serde_json::Value = serde_json::from_str(body).expect("/jsz JSON");
        json["messages"].as_u64().expect("a message count")
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
