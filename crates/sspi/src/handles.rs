//! The handle registry: every CredHandle and CtxtHandle given to C is a key into these
//! tables, never a pointer. A handle is `{dwLower: id, dwUpper: tag}`; ids are never
//! reused, so a freed, forged or mixed-up handle (a context handle passed as a
//! credential) finds nothing: SEC_E_INVALID_HANDLE, never a crash.

use crate::abi::SecHandle;
use crate::context::Context;
use crate::credentials::ServerEntry;
use securechannel::ClientCredential;
use securechannel_events::Status;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// dwUpper of a credential handle ("SCcr").
const CREDENTIAL_TAG: usize = 0x5343_6372;
/// dwUpper of a context handle ("SCcx").
const CONTEXT_TAG: usize = 0x5343_6378;

/// A credential (AcquireCredentialsHandle).
#[derive(Clone)]
pub(crate) enum Credential {
    Client(ClientCredential),
    Server(Arc<ServerEntry>),
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

#[derive(Default)]
struct Tables {
    credentials: HashMap<u64, Credential>,
    contexts: HashMap<u64, Arc<Mutex<Context>>>,
}

static TABLES: Mutex<Option<Tables>> = Mutex::new(None);

/// Run `f` on the tables; empty tables are dropped afterwards, so a program that freed
/// every handle holds no memory of this library (valgrind sees none).
fn with_tables<R>(f: impl FnOnce(&mut Tables) -> R) -> R {
    let mut t = TABLES.lock().unwrap_or_else(|e| e.into_inner());
    let r = f(t.get_or_insert_with(Tables::default));
    if t.as_ref()
        .is_some_and(|t| t.credentials.is_empty() && t.contexts.is_empty())
    {
        *t = None;
    }
    r
}

fn id_of(h: &SecHandle, tag: usize) -> Option<u64> {
    (h.dwUpper == tag).then_some(h.dwLower as u64)
}

/// Register a credential; its handle.
pub(crate) fn add_credential(c: Credential) -> SecHandle {
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    with_tables(|t| t.credentials.insert(id, c));
    SecHandle {
        dwLower: id as usize,
        dwUpper: CREDENTIAL_TAG,
    }
}

/// The credential of a handle.
pub(crate) fn credential(h: &SecHandle) -> Result<Credential, Status> {
    let id = id_of(h, CREDENTIAL_TAG).ok_or(Status::InvalidHandle)?;
    with_tables(|t| t.credentials.get(&id).cloned()).ok_or(Status::InvalidHandle)
}

/// Remove a credential (its contexts keep what they need of it).
pub(crate) fn remove_credential(h: &SecHandle) -> Result<(), Status> {
    let id = id_of(h, CREDENTIAL_TAG).ok_or(Status::InvalidHandle)?;
    let removed = with_tables(|t| t.credentials.remove(&id));
    // Dropped outside the lock: the last credential of a log flushes it.
    removed.map(drop).ok_or(Status::InvalidHandle)
}

/// Register a context; its handle.
pub(crate) fn add_context(c: Context) -> SecHandle {
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    with_tables(|t| t.contexts.insert(id, Arc::new(Mutex::new(c))));
    SecHandle {
        dwLower: id as usize,
        dwUpper: CONTEXT_TAG,
    }
}

/// The context of a handle (locked by the caller for the call).
pub(crate) fn context(h: &SecHandle) -> Result<Arc<Mutex<Context>>, Status> {
    let id = id_of(h, CONTEXT_TAG).ok_or(Status::InvalidHandle)?;
    with_tables(|t| t.contexts.get(&id).cloned()).ok_or(Status::InvalidHandle)
}

/// Remove a context.
pub(crate) fn remove_context(h: &SecHandle) -> Result<(), Status> {
    let id = id_of(h, CONTEXT_TAG).ok_or(Status::InvalidHandle)?;
    let removed = with_tables(|t| t.contexts.remove(&id));
    removed.map(drop).ok_or(Status::InvalidHandle)
}

/// Credentials and contexts still open.
pub(crate) fn open_count() -> usize {
    with_tables(|t| t.credentials.len() + t.contexts.len())
}
