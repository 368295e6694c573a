//! Serving the router on TCP, plain or TLS, with a graceful shutdown.

use std::net::SocketAddr;
use std::sync::Arc;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

use crate::auth::Tokens;

/// How connections are secured.
#[derive(Clone)]
pub enum Security {
    /// TLS with bearer tokens (the default of `bosun serve`).
    Tls {
        /// The rustls configuration.
        config: Arc<rustls::ServerConfig>,
        /// Accepted tokens.
        tokens: Tokens,
    },
    /// Plain HTTP, no authentication (only on loopback, by explicit choice).
    InsecureHttp,
}

/// Serves `router` on `listener` until `shutdown` completes, then lets open requests finish.
pub async fn serve(
    listener: TcpListener,
    router: axum::Router,
    security: Security,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let (router, acceptor) = match &security {
        Security::Tls { config, tokens } => {
            let layer = axum::middleware::from_fn_with_state(tokens.clone(), crate::auth::require_token);
            (router.layer(layer), Some(tokio_rustls::TlsAcceptor::from(config.clone())))
        }
        Security::InsecureHttp => (router, None),
    };
    let graceful = GracefulShutdown::new();
    let builder = auto::Builder::new(TokioExecutor::new());
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%error, "accept failed");
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(router.clone());
        let builder = builder.clone();
        let acceptor = acceptor.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let result = match acceptor {
                Some(acceptor) => match acceptor.accept(stream).await {
                    Ok(tls) => {
                        let connection = builder.serve_connection_with_upgrades(TokioIo::new(tls), service);
                        watcher.watch(connection.into_owned()).await
                    }
                    Err(error) => {
                        tracing::debug!(%peer, %error, "TLS handshake failed");
                        return;
                    }
                },
                None => {
                    let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
                    watcher.watch(connection.into_owned()).await
                }
            };
            if let Err(error) = result {
                tracing::debug!(%peer, %error, "connection ended with an error");
            }
        });
    }
    // Open watches end through the router's shutdown handle; give requests a moment to finish.
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), graceful.shutdown()).await;
    Ok(())
}

/// Binds a listener (port 0 picks a free port).
pub async fn bind(address: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(address).await
}
