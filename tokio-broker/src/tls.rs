//! TLS (rustls): the server's certificate and key, and optionally the CAs whose client
//! certificates are asked for (or required).

use std::path::Path;
use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::server::WebPkiClientVerifier;
use tokio_rustls::rustls::{RootCertStore, ServerConfig};

/// The acceptor for `--tls-cert`, `--tls-key`, `--tls-ca` and `--require-certificate`;
/// an error in one line naming the file.
pub fn acceptor(
    certificate: &Path,
    key: &Path,
    ca: Option<&Path>,
    require_certificate: bool,
) -> Result<TlsAcceptor, String> {
    let chain = CertificateDer::pem_file_iter(certificate)
        .and_then(|found| found.collect::<Result<Vec<_>, _>>())
        .map_err(|err| {
            format!(
                "cannot read the TLS certificate {}: {err}",
                certificate.display()
            )
        })?;
    if chain.is_empty() {
        return Err(format!("no certificate in {}", certificate.display()));
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|err| format!("cannot read the TLS key {}: {err}", key.display()))?;
    // ring, not aws-lc-rs: it builds with a C compiler alone, as the rest of the
    // workspace does (aws-lc-rs needs cmake). rustls deprecates it for lacking
    // post-quantum key exchange, which MQTT clients do not offer yet.
    #[allow(deprecated)]
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|err| format!("TLS: {err}"))?;
    let builder = match ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let mut roots = RootCertStore::empty();
            let found = CertificateDer::pem_file_iter(ca)
                .and_then(|found| found.collect::<Result<Vec<_>, _>>())
                .map_err(|err| format!("cannot read the TLS CA file {}: {err}", ca.display()))?;
            for root in found {
                roots
                    .add(root)
                    .map_err(|err| format!("a CA certificate in {}: {err}", ca.display()))?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
            let verifier = if require_certificate {
                verifier
            } else {
                verifier.allow_unauthenticated()
            };
            builder.with_client_cert_verifier(
                verifier
                    .build()
                    .map_err(|err| format!("TLS client certificates: {err}"))?,
            )
        }
    };
    let config = builder
        .with_single_cert(chain, key)
        .map_err(|err| format!("the TLS certificate and key do not go together: {err}"))?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}
