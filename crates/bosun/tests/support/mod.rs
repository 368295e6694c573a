//! Runs `bosun serve` as a child process and real kubectl against it.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

/// A `bosun serve` process on a free port, with its data directory.
pub struct Server {
    child: Option<Child>,
    /// The data directory (kept across restarts).
    pub data_dir: PathBuf,
    /// The server's URL.
    pub url: String,
    /// The kubeconfig it wrote.
    pub kubeconfig: PathBuf,
    /// A HOME for kubectl, so its caches do not leak between tests.
    pub home: PathBuf,
}

/// The kubectl v1.35 that `scripts/fetch-kubectl.sh` installs.
pub fn kubectl_path() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let path = root.join(".tools/bin/kubectl");
    assert!(path.exists(), "kubectl is missing at {}: run `bash scripts/fetch-tools.sh` first", path.display());
    path
}

impl Server {
    /// Starts a server on a new temporary data directory.
    pub fn start(extra_args: &[&str]) -> Server {
        let dir = tempfile::Builder::new().prefix("bosun-e2e-").tempdir().unwrap().keep();
        Self::start_in(dir, extra_args)
    }

    /// Starts a server on `data_dir` (e.g. again after a kill).
    pub fn start_in(data_dir: PathBuf, extra_args: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_bosun"))
            .args(["serve", "--data-dir"])
            .arg(&data_dir)
            .args(if extra_args.contains(&"--listen") { &[][..] } else { &["--listen", "127.0.0.1:0"][..] })
            .args(extra_args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start bosun serve");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut url = String::new();
        let mut kubeconfig = PathBuf::new();
        while let Some(Ok(line)) = lines.next() {
            if let Some(rest) = line.strip_prefix("Bosun is serving the Kubernetes API at ") {
                url = rest.trim().to_string();
            }
            if let Some(rest) = line.strip_prefix("export KUBECONFIG=") {
                kubeconfig = PathBuf::from(rest.trim());
                break;
            }
        }
        assert!(!url.is_empty(), "bosun serve did not print its URL");
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        let home = data_dir.join("home");
        std::fs::create_dir_all(&home).unwrap();
        Server { child: Some(child), data_dir, url, kubeconfig, home }
    }

    /// Runs kubectl with this server's kubeconfig; returns its output.
    pub fn kubectl(&self, args: &[&str]) -> Output {
        self.kubectl_with_stdin(args, None)
    }

    /// Runs kubectl with `stdin` as its standard input.
    pub fn kubectl_with_stdin(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut command = Command::new(kubectl_path());
        command.args(args).env("KUBECONFIG", &self.kubeconfig).env("HOME", &self.home);
        command.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
        command.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = command.spawn().expect("run kubectl");
        if let Some(input) = stdin {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        }
        child.wait_with_output().unwrap()
    }

    /// Runs kubectl and returns stdout, failing the test (with stderr) if it fails.
    pub fn ok(&self, args: &[&str]) -> String {
        let output = self.kubectl(args);
        assert!(
            output.status.success(),
            "kubectl {} failed:\n{}{}",
            args.join(" "),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    /// Runs kubectl with stdin and returns stdout, failing the test if it fails.
    pub fn ok_stdin(&self, args: &[&str], stdin: &str) -> String {
        let output = self.kubectl_with_stdin(args, Some(stdin));
        assert!(
            output.status.success(),
            "kubectl {} failed:\n{}{}",
            args.join(" "),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    /// Runs kubectl expecting failure; returns stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let output = self.kubectl(args);
        assert!(!output.status.success(), "kubectl {} should have failed", args.join(" "));
        String::from_utf8(output.stderr).unwrap()
    }

    /// Runs kubectl with stdin expecting failure; returns stderr.
    pub fn fails_stdin(&self, args: &[&str], stdin: &str) -> String {
        let output = self.kubectl_with_stdin(args, Some(stdin));
        assert!(!output.status.success(), "kubectl {} should have failed", args.join(" "));
        String::from_utf8(output.stderr).unwrap()
    }

    /// SIGKILLs the server (no clean shutdown).
    pub fn kill_9(&mut self) {
        if let Some(mut child) = self.child.take() {
            unsafe {
                libc::kill(child.id() as i32, libc::SIGKILL);
            }
            let _ = child.wait();
        }
    }

    /// SIGKILLs the server and hands back its data directory, kept for a restart.
    pub fn kill_9_keeping_data(mut self) -> PathBuf {
        self.kill_9();
        std::mem::take(&mut self.data_dir)
    }

    /// Waits up to `within` for the server to exit by itself; its exit status, if it did.
    pub fn wait_for_exit(&mut self, within: std::time::Duration) -> Option<std::process::ExitStatus> {
        let deadline = std::time::Instant::now() + within;
        let child = self.child.as_mut()?;
        while std::time::Instant::now() < deadline {
            if let Some(status) = child.try_wait().unwrap() {
                self.child = None;
                return Some(status);
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        None
    }

    /// Sends SIGTERM and waits for a clean exit.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("running");
        unsafe {
            libc::kill(child.id() as i32, libc::SIGTERM);
        }
        child.wait().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill_9();
        if !self.data_dir.as_os_str().is_empty() {
            let _ = std::fs::remove_dir_all(&self.data_dir);
        }
    }
}

/// The seed's Deployment: kubia, 3 replicas, container nodejs.
pub const KUBIA_V1: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: kubia
spec:
  replicas: 3
  selector:
    matchLabels:
      app: kubia
  template:
    metadata:
      name: kubia
      labels:
        app: kubia
    spec:
      containers:
      - image: luksa/kubia:v1
        name: nodejs
"#;
