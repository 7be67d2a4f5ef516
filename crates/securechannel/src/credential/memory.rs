//! In-memory credentials: a certificate, key and roots the program already holds, with no
//! store or settings file behind them (tests, embedding). They log nothing at creation
//! (there is no acquisition to report); their contexts log as any other.

use super::CredentialShared;
use crate::verify::Trust;
use crate::{ClientCredential, CredentialOptions, Role, ServerCredential, Settings};
use rustls::sign::CertifiedKey;
use rustls::RootCertStore;
use securechannel_events::Emitter;
use std::sync::Arc;

/// `new_in_memory` and `new_in_memory_with`, the same for both sides.
macro_rules! in_memory_constructors {
    ($t:ident, $role:expr, $what:literal) => {
        impl $t {
            #[doc = concat!("A ", $what)]
            pub fn new_in_memory(
                emitter: Emitter,
                settings: Arc<Settings>,
                certified_key: Option<Arc<CertifiedKey>>,
                roots: Arc<RootCertStore>,
            ) -> $t {
                Self::new_in_memory_with(
                    emitter,
                    settings,
                    certified_key,
                    roots,
                    CredentialOptions::default(),
                )
            }

            #[doc = concat!("[`", stringify!($t), "::new_in_memory`] with the caller's SCH_CREDENTIALS options.")]
            pub fn new_in_memory_with(
                emitter: Emitter,
                settings: Arc<Settings>,
                certified_key: Option<Arc<CertifiedKey>>,
                roots: Arc<RootCertStore>,
                options: CredentialOptions,
            ) -> $t {
                let shared = CredentialShared::new(
                    $role,
                    emitter,
                    settings,
                    certified_key,
                    Trust::new(roots),
                    options,
                );
                $t {
                    shared: Arc::new(shared),
                }
            }
        }
    };
}

in_memory_constructors!(
    ClientCredential,
    Role::Client,
    "client credential from memory: optional client certificate and key, and the roots \
     the server's certificate must chain to."
);
in_memory_constructors!(
    ServerCredential,
    Role::Server,
    "server credential from memory: the certificate chain and key (`None`: a server \
     relying on a default credential that does not exist, which fails every connection \
     with 36886), and the roots client certificates must chain to."
);
