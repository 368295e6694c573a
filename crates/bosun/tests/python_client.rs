//! The official Kubernetes Python client (PyPI `kubernetes`, installed into `.tools/venv` by
//! `scripts/fetch-python-client.sh`) against `bosun serve` over TLS.

mod support;

use std::path::Path;
use std::process::Command;

use support::Server;

#[test]
fn the_python_client_loads_the_kubeconfig_lists_creates_and_watches() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let python = root.join(".tools/venv/bin/python");
    assert!(python.exists(), "the Python client is missing: run `bash scripts/fetch-tools.sh` first");
    let server = Server::start(&[]);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/client_check.py");
    let output = Command::new(python).arg(script).arg(&server.kubeconfig).output().expect("run python");
    assert!(
        output.status.success(),
        "the Python client check failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
