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
    tls: Option<ServerTls>,
}

/// TLS on a local etcd's client port: its serving certificate and key, and the CA whose client
/// certificates it requires (`--client-cert-auth`).
#[derive(Debug, Clone)]
pub struct ServerTls {
    /// PEM file of the serving certificate (for 127.0.0.1).
    pub cert_file: PathBuf,
    /// PEM file of its key.
    pub key_file: PathBuf,
    /// PEM file of the CA that client certificates must chain to.
    pub client_ca_file: PathBuf,
}

/// A throwaway PKI for a local etcd over TLS: one CA, a serving certificate for 127.0.0.1 and
/// localhost, and a client certificate, as PEM files in `dir` (`ca.crt`, `server.crt`,
/// `server.key`, `client.crt`, `client.key`).
pub struct LocalPki {
    /// What etcd serves with.
    pub server: ServerTls,
    /// The CA file, for clients (`--etcd-cafile`).
    pub ca_file: PathBuf,
    /// The client certificate file (`--etcd-certfile`).
    pub client_cert_file: PathBuf,
    /// The client key file (`--etcd-keyfile`).
    pub client_key_file: PathBuf,
}

impl LocalPki {
    /// Makes the CA and both certificates in `dir`.
    pub fn generate(dir: &Path) -> Result<LocalPki> {
        use rcgen::{
            BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
        };
        let fail = |error: rcgen::Error| StoreError::Backend(format!("could not make a certificate: {error}").into());
        let write = |name: &str, pem: &str| -> Result<PathBuf> {
            let path = dir.join(name);
            std::fs::write(&path, pem).map_err(StoreError::backend)?;
            Ok(path)
        };
        let ca_params = || -> Result<CertificateParams> {
            let mut params = CertificateParams::new(Vec::<String>::new()).map_err(fail)?;
            params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::DigitalSignature];
            Ok(params)
        };
        let ca_key = KeyPair::generate().map_err(fail)?;
        let ca_file = write("ca.crt", &ca_params()?.self_signed(&ca_key).map_err(fail)?.pem())?;
        let issuer = Issuer::new(ca_params()?, ca_key);
        let leaf = |names: Vec<String>, purpose: ExtendedKeyUsagePurpose, stem: &str| -> Result<(PathBuf, PathBuf)> {
            let mut params = CertificateParams::new(names).map_err(fail)?;
            params.extended_key_usages = vec![purpose];
            let key = KeyPair::generate().map_err(fail)?;
            let cert = params.signed_by(&key, &issuer).map_err(fail)?;
            Ok((write(&format!("{stem}.crt"), &cert.pem())?, write(&format!("{stem}.key"), &key.serialize_pem())?))
        };
        let names = vec!["127.0.0.1".to_string(), "localhost".to_string()];
        let (cert_file, key_file) = leaf(names, ExtendedKeyUsagePurpose::ServerAuth, "server")?;
        let (client_cert_file, client_key_file) =
            leaf(vec!["bosun".to_string()], ExtendedKeyUsagePurpose::ClientAuth, "client")?;
        Ok(LocalPki {
            server: ServerTls { cert_file, key_file, client_ca_file: ca_file.clone() },
            ca_file,
            client_cert_file,
            client_key_file,
        })
    }
}

impl LocalEtcd {
    /// The etcd binary the project's tests and benchmarks use: `BOSUN_ETCD` if set, else the one
    /// `scripts/fetch-etcd.sh` installs in this checkout's `.tools/bin`.
    pub fn project_binary() -> Result<PathBuf> {
        if let Some(path) = std::env::var_os("BOSUN_ETCD") {
            return Ok(path.into());
        }
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.tools/bin/etcd");
        if !path.exists() {
            let message =
                format!("etcd not found at {}: run scripts/fetch-etcd.sh (or set BOSUN_ETCD)", path.display());
            return Err(StoreError::Backend(message.into()));
        }
        Ok(path)
    }

    /// Starts `binary` (an etcd 3.5 server). Without `fsync`, etcd skips its fsyncs
    /// (`--unsafe-no-fsync`): for tests of semantics, not of durability.
    pub fn start(binary: &Path, fsync: bool) -> Result<LocalEtcd> {
        Self::start_with(binary, fsync, None)
    }

    /// [`LocalEtcd::start`], serving clients over TLS (`https://`) with client certificates
    /// required when `tls` is given.
    pub fn start_with(binary: &Path, fsync: bool, tls: Option<ServerTls>) -> Result<LocalEtcd> {
        let data = tempfile::Builder::new().prefix("bosun-etcd-").tempdir().map_err(StoreError::backend)?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        let client_url = format!("{scheme}://127.0.0.1:{}", free_port()?);
        let peer_url = format!("http://127.0.0.1:{}", free_port()?);
        let child = spawn(binary, data.path(), &client_url, &peer_url, fsync, tls.as_ref())?;
        Ok(LocalEtcd { binary: binary.to_path_buf(), child, data, client_url, peer_url, fsync, tls })
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
        let (data, fsync, tls) = (self.data.path(), self.fsync, self.tls.as_ref());
        self.child = spawn(&self.binary, data, &self.client_url, &self.peer_url, fsync, tls)?;
        Ok(())
    }
}

fn spawn(
    binary: &Path,
    data: &Path,
    client_url: &str,
    peer_url: &str,
    fsync: bool,
    tls: Option<&ServerTls>,
) -> Result<Child> {
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
    if let Some(tls) = tls {
        command
            .arg("--cert-file")
            .arg(&tls.cert_file)
            .arg("--key-file")
            .arg(&tls.key_file)
            .arg("--trusted-ca-file")
            .arg(&tls.client_ca_file)
            .arg("--client-cert-auth");
    }
    command
        .spawn()
        .map_err(|error| StoreError::Backend(format!("could not start etcd at {}: {error}", binary.display()).into()))
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
