//! Bosun's own PKI: a CA made at first start, and a serving certificate signed by it for
//! `localhost`, `127.0.0.1`, `::1`, the `kubernetes` Service's names and the names the server is
//! reached by (its listen address, `--tls-san`), kept under the data directory so that clients
//! configured once keep working across restarts. The serving certificate is made again (by the
//! same CA) when a name it lacks is asked for.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// Why the PKI could not be loaded or made.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// Reading or writing a file under the data directory failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Generating or parsing a key or certificate failed; delete the `pki` directory to start over.
    #[error("certificate error: {0}")]
    Certificate(String),
}

/// PEM files of the CA and the serving certificate.
#[derive(Debug, Clone)]
pub struct Pki {
    /// The CA certificate clients trust (`ca.crt`).
    pub ca_pem: String,
    /// The serving certificate.
    pub cert_pem: String,
    /// The serving key.
    pub key_pem: String,
}

fn read(path: &Path) -> Result<Option<String>, TlsError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(TlsError::Io { path: path.into(), source }),
    }
}

fn write(path: &Path, text: &str) -> Result<(), TlsError> {
    std::fs::write(path, text).map_err(|source| TlsError::Io { path: path.into(), source })
}

fn cert_error(error: impl std::fmt::Display) -> TlsError {
    TlsError::Certificate(error.to_string())
}

fn ca_params() -> Result<CertificateParams, TlsError> {
    let mut params = CertificateParams::new(Vec::<String>::new()).map_err(cert_error)?;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, "bosun-ca");
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    Ok(params)
}

/// The names every serving certificate holds.
const BUILT_IN_NAMES: [&str; 6] =
    ["localhost", "127.0.0.1", "::1", "kubernetes", "kubernetes.default", "kubernetes.default.svc"];

/// Loads the PKI from `dir` (e.g. `DATA_DIR/pki`), making whatever is missing. `extra_names`
/// (host names or IP addresses) are added to the serving certificate's names.
pub fn load_or_create(dir: &Path, extra_names: &[String]) -> Result<Pki, TlsError> {
    std::fs::create_dir_all(dir).map_err(|source| TlsError::Io { path: dir.into(), source })?;
    let (ca_cert_path, ca_key_path) = (dir.join("ca.crt"), dir.join("ca.key"));
    let (cert_path, key_path) = (dir.join("server.crt"), dir.join("server.key"));
    // The serving certificate's names, one per line: a certificate lacking a wanted name is
    // made again.
    let names_path = dir.join("server.names");
    let mut names: Vec<String> = BUILT_IN_NAMES.iter().map(|name| name.to_string()).collect();
    for name in extra_names {
        if !name.is_empty() && !names.contains(name) {
            names.push(name.clone());
        }
    }
    let certified = read(&names_path)?.map(|text| text.lines().map(str::to_string).collect::<Vec<_>>());
    if certified.as_ref().is_none_or(|certified| names.iter().any(|name| !certified.contains(name))) {
        let _ = std::fs::remove_file(&cert_path);
    }

    let (ca_pem, ca_key_pem) = match (read(&ca_cert_path)?, read(&ca_key_path)?) {
        (Some(cert), Some(key)) => (cert, key),
        _ => {
            let key = KeyPair::generate().map_err(cert_error)?;
            let cert = ca_params()?.self_signed(&key).map_err(cert_error)?;
            let (cert, key) = (cert.pem(), key.serialize_pem());
            write(&ca_key_path, &key)?;
            write(&ca_cert_path, &cert)?;
            // A new CA invalidates any old serving certificate.
            let _ = std::fs::remove_file(&cert_path);
            (cert, key)
        }
    };
    let (cert_pem, key_pem) = match (read(&cert_path)?, read(&key_path)?) {
        (Some(cert), Some(key)) => (cert, key),
        _ => {
            let ca_key = KeyPair::from_pem(&ca_key_pem).map_err(cert_error)?;
            // The CA's parameters are fixed, so its key and the same parameters re-make the
            // issuer of the stored CA certificate.
            let issuer = Issuer::new(ca_params()?, ca_key);
            let mut params = CertificateParams::new(names.clone()).map_err(cert_error)?;
            params.distinguished_name.push(DnType::CommonName, "bosun-apiserver");
            let key = KeyPair::generate().map_err(cert_error)?;
            let cert = params.signed_by(&key, &issuer).map_err(cert_error)?;
            let (cert, key) = (cert.pem(), key.serialize_pem());
            write(&key_path, &key)?;
            write(&cert_path, &cert)?;
            write(&names_path, &names.join("\n"))?;
            (cert, key)
        }
    };
    Ok(Pki { ca_pem, cert_pem, key_pem })
}

/// A rustls server configuration (ring provider, HTTP/2 and HTTP/1.1) for the serving certificate.
pub fn server_config(pki: &Pki) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let certs: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(pki.cert_pem.as_bytes()).collect::<Result<_, _>>().map_err(cert_error)?;
    let key = PrivateKeyDer::from_pem_slice(pki.key_pem.as_bytes()).map_err(cert_error)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(cert_error)?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(cert_error)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
