//! The security package itself: what Windows loads into LSA at boot, here an object a
//! program opens. It reads the settings, prepares the crypto provider, opens the
//! certificate stores, logs 36864, and hands out credentials.

use crate::credential::{ClientCredentialBuilder, ServerCredentialBuilder};
use crate::store::CertificateStores;
use crate::{Error, ErrorState, Settings};
use rustls::crypto::CryptoProvider;
use securechannel_events::{Emitter, EventId, EventLogging, EventSink, Status};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

/// The name 36865 gives the crypto module.
pub const CRYPTO_MODULE_NAME: &str = "aws-lc-rs";

/// An opened Schannel provider.
///
/// ```no_run
/// # use securechannel::{Provider, events::MemorySink};
/// # use std::sync::Arc;
/// let sink = Arc::new(MemorySink::new());
/// let provider = Provider::open("schannel-data".as_ref(), sink)?;
/// for w in provider.stores().warnings() {
///     eprintln!("warning: {w}");
/// }
/// let credential = provider.server_credential().system_default().acquire()?;
/// # Ok::<(), securechannel::Error>(())
/// ```
pub struct Provider {
    data_dir: Option<PathBuf>,
    settings: RwLock<Arc<Settings>>,
    stores: RwLock<Arc<CertificateStores>>,
    emitter: Emitter,
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider")
            .field("data_dir", &self.data_dir)
            .field("emitter", &self.emitter)
            .finish()
    }
}

impl Provider {
    /// Open the provider on a data directory: read `settings.toml`, prepare the aws-lc-rs
    /// crypto provider, open the stores (creating the layout where it is missing), then
    /// log 36864, before any other event of this provider.
    ///
    /// A crypto provider failure logs 36865; invalid settings or an unusable data
    /// directory log 36866; either way the error is returned.
    pub fn open(data_dir: &Path, sink: Arc<dyn EventSink>) -> Result<Provider, Error> {
        // The mask is not known before the settings are read: errors are logged under
        // Windows' default (errors only), which 36865/36866 pass.
        let emitter = Emitter::new(sink, EventLogging::DEFAULT);
        if data_dir.exists() && !data_dir.is_dir() {
            let e = Error::new(
                Status::InternalError,
                format!(
                    "the data directory {} is not a directory",
                    data_dir.display()
                ),
            )
            .with_state(ErrorState::DataDirectoryUnusable);
            return Err(package_load_failed(&emitter, e));
        }
        let settings = Settings::load(data_dir).map_err(|e| package_load_failed(&emitter, e))?;
        emitter.set_logging(settings.event_logging);
        prepare_crypto(&rustls::crypto::aws_lc_rs::default_provider())
            .map_err(|e| crypto_failed(&emitter, e))?;
        let stores =
            CertificateStores::open(data_dir).map_err(|e| package_load_failed(&emitter, e))?;
        emitter.event(EventId::PackageLoaded).send();
        Ok(Provider {
            data_dir: Some(data_dir.to_path_buf()),
            settings: RwLock::new(Arc::new(settings)),
            stores: RwLock::new(Arc::new(stores)),
            emitter,
        })
    }

    /// A provider without a data directory (for embedding and tests): the given settings,
    /// empty stores (add roots on the credential builders), events into `sink`.
    pub fn in_memory(settings: Settings, sink: Arc<dyn EventSink>) -> Result<Provider, Error> {
        let emitter = Emitter::new(sink, settings.event_logging);
        prepare_crypto(&rustls::crypto::aws_lc_rs::default_provider())
            .map_err(|e| crypto_failed(&emitter, e))?;
        emitter.event(EventId::PackageLoaded).send();
        Ok(Provider {
            data_dir: None,
            settings: RwLock::new(Arc::new(settings)),
            stores: RwLock::new(Arc::new(CertificateStores::empty())),
            emitter,
        })
    }

    /// The settings in force (a snapshot; credentials keep the one they were made with).
    pub fn settings(&self) -> Arc<Settings> {
        self.settings
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// What the provider logs through.
    pub fn emitter(&self) -> &Emitter {
        &self.emitter
    }

    /// The data directory, if the provider was opened on one.
    pub fn data_dir(&self) -> Option<&Path> {
        self.data_dir.as_deref()
    }

    /// The certificate stores (a snapshot).
    pub fn stores(&self) -> Arc<CertificateStores> {
        self.stores
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Read `settings.toml` again and apply it: new credentials use it and the
    /// EventLogging mask changes at once (Windows needs a reboot for that). On error the
    /// settings in force stay, and the error is returned (nothing is logged: the package
    /// stays loaded).
    pub fn reload_settings(&self) -> Result<Arc<Settings>, Error> {
        let Some(dir) = &self.data_dir else {
            return Ok(self.settings());
        };
        let settings = Arc::new(Settings::load(dir)?);
        self.emitter.set_logging(settings.event_logging);
        *self.settings.write().unwrap_or_else(|e| e.into_inner()) = settings.clone();
        Ok(settings)
    }

    /// Replace the settings (for in-memory providers and tests).
    pub fn set_settings(&self, settings: Settings) {
        self.emitter.set_logging(settings.event_logging);
        *self.settings.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(settings);
    }

    /// Read the stores again (after certificates or keys were added).
    pub fn reload_stores(&self) -> Result<Arc<CertificateStores>, Error> {
        let Some(dir) = &self.data_dir else {
            return Ok(self.stores());
        };
        let stores = Arc::new(CertificateStores::open(dir)?);
        *self.stores.write().unwrap_or_else(|e| e.into_inner()) = stores.clone();
        Ok(stores)
    }

    /// Start acquiring a client credential.
    pub fn client_credential(&self) -> ClientCredentialBuilder<'_> {
        ClientCredentialBuilder::new(self)
    }

    /// Start acquiring a server credential.
    pub fn server_credential(&self) -> ServerCredentialBuilder<'_> {
        ServerCredentialBuilder::new(self)
    }
}

/// Why the crypto module cannot be used.
#[derive(Debug)]
pub(crate) struct CryptoFailure {
    detail: String,
}

/// Make aws-lc-rs the process default (unless the program installed one already) and
/// check that it works: it must produce random bytes, which also runs its start-up self
/// tests.
pub(crate) fn prepare_crypto(provider: &CryptoProvider) -> Result<(), CryptoFailure> {
    // Another provider installed by the program is not an error: every configuration this
    // crate builds names its provider explicitly.
    let _ = provider.clone().install_default();
    let mut probe = [0u8; 32];
    provider
        .secure_random
        .fill(&mut probe)
        .map_err(|_| CryptoFailure {
            detail: "the random number generator failed".into(),
        })
}

fn crypto_failed(emitter: &Emitter, failure: CryptoFailure) -> Error {
    let status = Status::InternalError;
    emitter
        .event(EventId::CryptoModuleFailed)
        .field(CRYPTO_MODULE_NAME)
        .field(status.hex())
        .send();
    Error::new(
        status,
        format!(
            "the {CRYPTO_MODULE_NAME} cryptographic module cannot be used: {}",
            failure.detail
        ),
    )
    .with_event(EventId::CryptoModuleFailed)
    .with_state(ErrorState::CryptoProviderUnavailable)
}

fn package_load_failed(emitter: &Emitter, error: Error) -> Error {
    emitter.event(EventId::PackageLoadFailed).send();
    error.with_event(EventId::PackageLoadFailed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::crypto::{GetRandomFailed, SecureRandom};
    use securechannel_events::MemorySink;

    #[derive(Debug)]
    struct BrokenRandom;

    impl SecureRandom for BrokenRandom {
        fn fill(&self, _: &mut [u8]) -> Result<(), GetRandomFailed> {
            Err(GetRandomFailed)
        }
    }

    #[test]
    fn a_failing_crypto_module_logs_36865() {
        static BROKEN: BrokenRandom = BrokenRandom;
        let provider = CryptoProvider {
            secure_random: &BROKEN,
            ..rustls::crypto::aws_lc_rs::default_provider()
        };
        let failure = prepare_crypto(&provider).unwrap_err();
        let sink = Arc::new(MemorySink::new());
        let emitter = Emitter::new(sink.clone(), EventLogging::DEFAULT);
        let e = crypto_failed(&emitter, failure);
        assert_eq!(e.event(), Some(EventId::CryptoModuleFailed));
        assert_eq!(e.state(), Some(ErrorState::CryptoProviderUnavailable));
        let records = sink.records();
        assert_eq!(sink.ids(), vec![36865]);
        assert_eq!(records[0].field("ModuleName"), Some("aws-lc-rs"));
        assert_eq!(records[0].field("Error"), Some("0x80090304"));
    }

    #[test]
    fn provider_and_credentials_are_shared_across_threads() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<Provider>();
        send_sync::<crate::ServerCredential>();
        send_sync::<crate::ClientCredential>();
        send_sync::<CertificateStores>();
    }

    #[test]
    fn the_real_crypto_module_works() {
        assert!(prepare_crypto(&rustls::crypto::aws_lc_rs::default_provider()).is_ok());
    }
}
