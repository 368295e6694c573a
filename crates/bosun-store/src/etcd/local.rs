//! A local etcd server for tests and benchmarks: one process on free loopback ports with a
//! temporary data directory, killed (and its data removed) on drop.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use crate::error::{Result, StoreError};
use crate::etcd::{EtcdOptions, EtcdStore, Restamp};

/// How long [`LocalEtcd::connect`] waits for etcd to answer.
const START_LIMIT: Duration = Duration::from_secs(30);

/// A running etcd of one test or benchmark point.
pub struct LocalEtcd {
    binary: PathBuf,
    child: Child,
    data: tempfile::TempDir,
    client_url: String,
    peer_url: String,
    fsync: bool,
}

impl LocalEtcd {
    /// Starts `binary` (an etcd 3.5 server). Without `fsync`, etcd skips its fsyncs
    /// (`--unsafe-no-fsync`): for tests of semantics, not of durability.
    pub fn start(binary: &Path, fsync: bool) -> Result<LocalEtcd> {
        let data = tempfile::Builder::new().prefix("bosun-etcd-").tempdir().map_err(StoreError::backend)?;
        let client_url = format!("http://127.0.0.1:{}", free_port()?);
        let peer_url = format!("http://127.0.0.1:{}", free_port()?);
        let child = spawn(binary, data.path(), &client_url, &peer_url, fsync)?;
        Ok(LocalEtcd { binary: binary.to_path_buf(), child, data, client_url, peer_url, fsync })
    }

    /// The client URL, e.g. `http://127.0.0.1:40123`.
    pub fn endpoint(&self) -> &str {
        &self.client_url
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        self.data.path()
    }

    /// The process id, to stop it from outside.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// A store on this etcd, once it answers (within 30 s).
    pub async fn connect(&self, options: impl Fn(String) -> EtcdOptions) -> Result<EtcdStore> {
        let deadline = tokio::time::Instant::now() + START_LIMIT;
        loop {
            match EtcdStore::connect(options(self.client_url.clone())).await {
                Ok(store) => return Ok(store),
                Err(error) if tokio::time::Instant::now() > deadline => return Err(error),
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    /// A store with default options under the prefix `/bosun/`.
    pub async fn store(&self, restamp: Restamp) -> Result<EtcdStore> {
        self.connect(|endpoint| EtcdOptions::new(vec![endpoint], Arc::clone(&restamp))).await
    }

    /// Kills etcd (SIGKILL) and starts it again on the same data directory and ports.
    pub fn restart(&mut self) -> Result<()> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.child = spawn(&self.binary, self.data.path(), &self.client_url, &self.peer_url, self.fsync)?;
        Ok(())
    }
}

impl Drop for LocalEtcd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(StoreError::backend)?;
    Ok(listener.local_addr().map_err(StoreError::backend)?.port())
}

fn spawn(binary: &Path, data: &Path, client_url: &str, peer_url: &str, fsync: bool) -> Result<Child> {
    let mut command = Command::new(binary);
    command
        .args(["--name", "local", "--data-dir"])
        .arg(data.join("etcd"))
        .args(["--listen-client-urls", client_url, "--advertise-client-urls", client_url])
        .args(["--listen-peer-urls", peer_url, "--initial-advertise-peer-urls", peer_url])
        .arg(format!("--initial-cluster=local={peer_url}"))
        .args(["--log-level", "error"])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if !fsync {
        command.arg("--unsafe-no-fsync");
    }
    command
        .spawn()
        .map_err(|error| StoreError::Backend(format!("could not start etcd at {}: {error}", binary.display()).into()))
}
