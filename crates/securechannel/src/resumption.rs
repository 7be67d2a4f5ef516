//! Session resumption as the SCHANNEL settings size it: `ClientCacheTime` (the client's
//! session cache), `ServerCacheTime` and `MaximumCacheSize` (the server's session-ID cache
//! and its tickets). rustls keeps sessions and tickets without asking how old they are
//! (its server resumes whatever its cache or ticketer hands back); these stores are the
//! ones that refuse a session older than the setting.
//!
//! | setting | 0 | otherwise |
//! |---|---|---|
//! | `ClientCacheTime` | `Resumption::disabled()`: every handshake is full | [`ClientSessionCache`]: sessions and tickets older than it are dropped, never offered |
//! | `ServerCacheTime` | no ticketer, no session cache, no TLS 1.3 tickets: nothing resumes | session IDs and tickets older than it are refused (tickets: at most [`MAX_TICKET_LIFETIME`]) |
//! | `MaximumCacheSize` | `NoServerSessionStorage`: no session-ID resumption (tickets still resume) | [`ServerSessionCache`] of that many entries, oldest evicted first |
//!
//! The engine (engine/config.rs) installs them on the rustls configurations it builds
//! once per credential, so a credential's contexts share its caches, and a credential
//! acquired after a settings reload gets caches of the new size.
//!
//! Two things Schannel reports or does that rustls alone does not, carried by these
//! stores through thread-local hand-offs with the engine (rustls calls the stores inside
//! `process_tls_records`, on the caller's thread):
//! - **the key exchange of a resumed TLS 1.2 session** (36880's Exchange, the
//!   connection-info query): a resumed TLS 1.2 handshake negotiates no group, so every
//!   session keeps the group of the full handshake that made it (inside the ticket's
//!   encryption, beside a session ID's state, with a client's session), and the engine
//!   reports it ([`set_current_group`], [`take_resumed_group`]);
//! - **a TLS 1.2 ticket that stays** when it is resumed while still young: rustls' server
//!   sends a new ticket on every resumption; the ticket the client presented is sent back
//!   instead while it is within the first half of its lifetime, so a client keeps the
//!   ticket it has (as scanners and clients expect), and gets a fresh one later. TLS 1.3
//!   tickets are single-use and always new (they are issued in a later call).

use rustls::client::{
    ClientSessionStore, Resumption, Tls12ClientSessionValue, Tls13ClientSessionValue,
};
use rustls::crypto::GetRandomFailed;
use rustls::pki_types::ServerName;
use rustls::server::{NoServerSessionStorage, ProducesTickets, StoresServerSessions};
use rustls::{NamedGroup, TicketRotator};
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The longest a ticket lives here. aws-lc-rs' ticketer (the only one rustls offers)
/// rotates its keys every 6 hours and accepts a ticket until the key after next, so a
/// ticket is only sure to decrypt for 6 hours; a `ServerCacheTime` above that still
/// governs session IDs, and tickets stop at 6 hours.
pub(crate) const MAX_TICKET_LIFETIME: Duration = Duration::from_secs(6 * 60 * 60);

/// Servers a client remembers sessions for (rustls' default cache size).
const CLIENT_SERVERS: usize = 256;
/// TLS 1.3 tickets kept per server (as rustls' own cache).
const TICKETS_PER_SERVER: usize = 8;

/// What the server side of a credential resumes with: `ServerCacheTime` and
/// `MaximumCacheSize`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ServerResumptionPolicy {
    /// `MaximumCacheSize`: session-ID cache entries.
    pub(crate) cache_size: u32,
    /// `ServerCacheTime`.
    pub(crate) lifetime: Duration,
}

/// A server's ticketer and session cache, shared by every rustls configuration of one
/// credential.
#[derive(Clone)]
pub(crate) struct ServerResumption {
    /// `None`: no tickets (rustls' default ticketer produces none).
    pub(crate) ticketer: Option<Arc<dyn ProducesTickets>>,
    pub(crate) sessions: Arc<dyn StoresServerSessions>,
    /// TLS 1.3 NewSessionTicket messages sent after a handshake.
    pub(crate) tls13_tickets: usize,
}

impl ServerResumption {
    /// The ticketer and cache `policy` asks for. A failing random generator (the only way
    /// making ticket keys fails) leaves the server without tickets; session IDs still
    /// resume.
    pub(crate) fn new(policy: ServerResumptionPolicy) -> ServerResumption {
        if policy.lifetime.is_zero() {
            return ServerResumption {
                ticketer: None,
                sessions: Arc::new(NoServerSessionStorage {}),
                tls13_tickets: 0,
            };
        }
        let sessions: Arc<dyn StoresServerSessions> = match policy.cache_size {
            0 => Arc::new(NoServerSessionStorage {}),
            n => Arc::new(ServerSessionCache::new(n as usize, policy.lifetime)),
        };
        let ticketer = ExpiringTickets::new(policy.lifetime.min(MAX_TICKET_LIFETIME))
            .ok()
            .map(|t| Arc::new(t) as Arc<dyn ProducesTickets>);
        ServerResumption {
            // rustls' default: two tickets, so a client can resume twice in parallel.
            tls13_tickets: if ticketer.is_some() { 2 } else { 0 },
            ticketer,
            sessions,
        }
    }
}

/// The client's resumption for `ClientCacheTime` (`lifetime`; zero: none).
pub(crate) fn client_resumption(lifetime: Duration) -> Resumption {
    if lifetime.is_zero() {
        return Resumption::disabled();
    }
    Resumption::store(Arc::new(ClientSessionCache::new(lifetime)))
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // The maps stay consistent whatever panicked while holding the lock: each change is
    // one insert or remove.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

// ---------------------------------------------------------------------------------------
// Hand-offs with the engine (one `process_tls_records` call at a time on a thread).

thread_local! {
    /// The key-exchange group of the connection being driven (set by the engine around
    /// each call), written into the sessions it makes.
    static CURRENT_GROUP: Cell<Option<u16>> = const { Cell::new(None) };
    /// The group of the session a store handed back during the call.
    static RESUMED_GROUP: Cell<Option<u16>> = const { Cell::new(None) };
    /// A TLS 1.2 ticket that decrypted during the call, and when it was issued.
    static PRESENTED_TICKET: RefCell<Option<(Vec<u8>, u64)>> = const { RefCell::new(None) };
}

/// Before a call into rustls: the group the connection negotiated so far (`None`:
/// nothing yet). After the call, [`end_call`].
pub(crate) fn set_current_group(group: Option<u16>) {
    CURRENT_GROUP.with(|g| g.set(group));
}

/// After a call into rustls: forget the call's hand-offs (the current group and a
/// presented ticket); the resumed group stays for [`take_resumed_group`].
pub(crate) fn end_call() {
    CURRENT_GROUP.with(|g| g.set(None));
    PRESENTED_TICKET.with(|t| t.borrow_mut().take());
}

/// The group of the session a store resumed during the last call on this thread.
pub(crate) fn take_resumed_group() -> Option<u16> {
    RESUMED_GROUP.with(Cell::take)
}

fn current_group() -> Option<u16> {
    CURRENT_GROUP.with(Cell::get)
}

fn resumed_with(group: Option<u16>) {
    RESUMED_GROUP.with(|g| g.set(group));
}

/// A session's state with its group in front (2 bytes, 0: none known).
fn with_group(state: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(2 + state.len());
    v.extend_from_slice(&current_group().unwrap_or(0).to_be_bytes());
    v.extend_from_slice(state);
    v
}

/// The state without its group, the group handed to the engine.
fn resume_group(stored: &[u8]) -> Option<Vec<u8>> {
    let (group, state) = stored.split_at_checked(2)?;
    let group = u16::from_be_bytes([group[0], group[1]]);
    resumed_with((group != 0).then_some(group));
    Some(state.to_vec())
}

// ---------------------------------------------------------------------------------------
// Tickets.

/// Tickets that expire: each carries the time it was issued (inside the encryption, so
/// a client cannot change it), and a ticket older than `lifetime` does not decrypt. The
/// keys themselves rotate every `lifetime` (rustls' `TicketRotator`), so a ticket's key
/// is erased at most twice its lifetime after it was issued, as rustls asks of a ticketer.
#[derive(Debug)]
pub(crate) struct ExpiringTickets {
    keys: TicketRotator,
    lifetime: Duration,
}

/// The time of issue, in ms since the Unix epoch, before the session state.
const ISSUED_LEN: usize = 8;

impl ExpiringTickets {
    pub(crate) fn new(lifetime: Duration) -> Result<ExpiringTickets, rustls::Error> {
        Ok(ExpiringTickets {
            keys: TicketRotator::new(whole_seconds(lifetime), fresh_ticket_keys)?,
            lifetime,
        })
    }

    /// The session state of a ticket younger than the lifetime, and when it was issued.
    fn open_at(&self, cipher: &[u8], now_ms: u64) -> Option<(Vec<u8>, u64)> {
        let plain = self.keys.decrypt(cipher)?;
        let (issued, state) = plain.split_at_checked(ISSUED_LEN)?;
        let issued = u64::from_be_bytes(issued.try_into().ok()?);
        let age = now_ms.checked_sub(issued)?;
        (u128::from(age) <= self.lifetime.as_millis()).then(|| (state.to_vec(), issued))
    }

    fn decrypt_at(&self, cipher: &[u8], now_ms: u64) -> Option<Vec<u8>> {
        let (state, issued) = self.open_at(cipher, now_ms)?;
        PRESENTED_TICKET.with(|t| *t.borrow_mut() = Some((cipher.to_vec(), issued)));
        resume_group(&state)
    }

    /// The ticket the client presented in this call, when it is young enough to keep
    /// (within the first half of its lifetime).
    fn presented_young_ticket(&self, now_ms: u64) -> Option<Vec<u8>> {
        let (ticket, issued) = PRESENTED_TICKET.with(|t| t.borrow_mut().take())?;
        let age = now_ms.checked_sub(issued)?;
        (u128::from(age) * 2 <= self.lifetime.as_millis()).then_some(ticket)
    }
}

impl ProducesTickets for ExpiringTickets {
    fn enabled(&self) -> bool {
        true
    }

    fn lifetime(&self) -> u32 {
        whole_seconds(self.lifetime)
    }

    fn encrypt(&self, plain: &[u8]) -> Option<Vec<u8>> {
        // A TLS 1.2 resumption by a young ticket: the client keeps the ticket it has.
        if let Some(ticket) = self.presented_young_ticket(unix_ms()) {
            return Some(ticket);
        }
        let mut message = Vec::with_capacity(ISSUED_LEN + 2 + plain.len());
        message.extend_from_slice(&unix_ms().to_be_bytes());
        message.extend_from_slice(&with_group(plain));
        self.keys.encrypt(&message)
    }

    fn decrypt(&self, cipher: &[u8]) -> Option<Vec<u8>> {
        self.decrypt_at(cipher, unix_ms())
    }
}

/// A lifetime in whole seconds, rounded up (a ticket's lifetime hint and the key
/// rotation work in seconds), at least 1.
fn whole_seconds(d: Duration) -> u32 {
    let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    u32::try_from(secs).unwrap_or(u32::MAX).max(1)
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// New ticket keys for [`TicketRotator`]: a fresh aws-lc-rs ticketer (random keys).
fn fresh_ticket_keys() -> Result<Box<dyn ProducesTickets>, GetRandomFailed> {
    rustls::crypto::aws_lc_rs::Ticketer::new()
        .map(|t| Box::new(SharedTickets(t)) as Box<dyn ProducesTickets>)
        .map_err(|_| GetRandomFailed)
}

/// An `Arc` ticketer where rustls wants a `Box`.
#[derive(Debug)]
struct SharedTickets(Arc<dyn ProducesTickets>);

impl ProducesTickets for SharedTickets {
    fn enabled(&self) -> bool {
        self.0.enabled()
    }
    fn lifetime(&self) -> u32 {
        self.0.lifetime()
    }
    fn encrypt(&self, plain: &[u8]) -> Option<Vec<u8>> {
        self.0.encrypt(plain)
    }
    fn decrypt(&self, cipher: &[u8]) -> Option<Vec<u8>> {
        self.0.decrypt(cipher)
    }
}

// ---------------------------------------------------------------------------------------
// The server's session-ID cache.

/// `MaximumCacheSize` sessions, each for `ServerCacheTime`: a session older than that is
/// not resumed (and is dropped when asked for); when full, the oldest is evicted.
pub(crate) struct ServerSessionCache {
    capacity: usize,
    lifetime: Duration,
    entries: Mutex<ServerEntries>,
}

#[derive(Default)]
struct ServerEntries {
    /// Session ID → (stored at, insertion number, session state).
    by_id: HashMap<Vec<u8>, (Instant, u64, Vec<u8>)>,
    /// Session IDs by insertion, oldest first, with their insertion number (an entry
    /// taken or replaced since leaves a stale pair, skipped on eviction).
    order: VecDeque<(Vec<u8>, u64)>,
    next: u64,
}

impl ServerSessionCache {
    pub(crate) fn new(capacity: usize, lifetime: Duration) -> ServerSessionCache {
        ServerSessionCache {
            capacity: capacity.max(1),
            lifetime,
            entries: Mutex::new(ServerEntries::default()),
        }
    }

    fn fresh(&self, stored: Instant) -> bool {
        stored.elapsed() <= self.lifetime
    }
}

impl std::fmt::Debug for ServerSessionCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerSessionCache")
            .field("capacity", &self.capacity)
            .field("lifetime", &self.lifetime)
            .field("entries", &lock(&self.entries).by_id.len())
            .finish()
    }
}

impl StoresServerSessions for ServerSessionCache {
    fn put(&self, key: Vec<u8>, value: Vec<u8>) -> bool {
        let mut e = lock(&self.entries);
        while e.by_id.len() >= self.capacity {
            let Some((old, n)) = e.order.pop_front() else {
                break;
            };
            if e.by_id.get(&old).is_some_and(|v| v.1 == n) {
                e.by_id.remove(&old);
            }
        }
        let n = e.next;
        e.next += 1;
        e.order.push_back((key.clone(), n));
        e.by_id.insert(key, (Instant::now(), n, with_group(&value)));
        // Stale pairs never outnumber the live entries by much.
        if e.order.len() > 2 * self.capacity {
            let ServerEntries { by_id, order, .. } = &mut *e;
            order.retain(|(k, n)| by_id.get(k).is_some_and(|v| v.1 == *n));
        }
        true
    }

    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        let mut e = lock(&self.entries);
        let (stored, _, value) = e.by_id.get(key)?;
        if self.fresh(*stored) {
            return resume_group(value);
        }
        e.by_id.remove(key);
        None
    }

    fn take(&self, key: &[u8]) -> Option<Vec<u8>> {
        let (stored, _, value) = lock(&self.entries).by_id.remove(key)?;
        if self.fresh(stored) {
            resume_group(&value)
        } else {
            None
        }
    }

    fn can_cache(&self) -> bool {
        true
    }
}

// ---------------------------------------------------------------------------------------
// The client's session cache.

/// The sessions a client may resume, per server, each for `ClientCacheTime`: older ones
/// are dropped instead of being offered.
pub(crate) struct ClientSessionCache {
    lifetime: Duration,
    servers: Mutex<ClientServers>,
}

#[derive(Default)]
struct ClientServers {
    by_name: HashMap<ServerName<'static>, ServerSessions>,
    /// Server names by first use, oldest first (evicted past [`CLIENT_SERVERS`]).
    order: VecDeque<ServerName<'static>>,
}

#[derive(Default)]
struct ServerSessions {
    kx_hint: Option<NamedGroup>,
    /// The TLS 1.2 session, when it was stored, and its full handshake's group.
    tls12: Option<(Instant, Tls12ClientSessionValue, Option<u16>)>,
    tls13: VecDeque<(Instant, Tls13ClientSessionValue)>,
}

impl ClientSessionCache {
    pub(crate) fn new(lifetime: Duration) -> ClientSessionCache {
        ClientSessionCache {
            lifetime,
            servers: Mutex::new(ClientServers::default()),
        }
    }

    fn fresh(&self, stored: Instant) -> bool {
        stored.elapsed() <= self.lifetime
    }

    /// The server's entry, made (evicting the oldest server past the bound) if new.
    fn with_server<R>(
        &self,
        name: ServerName<'static>,
        f: impl FnOnce(&mut ServerSessions) -> R,
    ) -> R {
        let mut s = lock(&self.servers);
        if !s.by_name.contains_key(&name) {
            while s.by_name.len() >= CLIENT_SERVERS {
                let Some(old) = s.order.pop_front() else {
                    break;
                };
                s.by_name.remove(&old);
            }
            s.order.push_back(name.clone());
        }
        f(s.by_name.entry(name).or_default())
    }
}

impl std::fmt::Debug for ClientSessionCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientSessionCache")
            .field("lifetime", &self.lifetime)
            .field("servers", &lock(&self.servers).by_name.len())
            .finish()
    }
}

impl ClientSessionStore for ClientSessionCache {
    fn set_kx_hint(&self, server_name: ServerName<'static>, group: NamedGroup) {
        self.with_server(server_name, |s| s.kx_hint = Some(group));
    }

    fn kx_hint(&self, server_name: &ServerName<'_>) -> Option<NamedGroup> {
        lock(&self.servers)
            .by_name
            .get(&server_name.to_owned())
            .and_then(|s| s.kx_hint)
    }

    fn set_tls12_session(&self, server_name: ServerName<'static>, value: Tls12ClientSessionValue) {
        let group = current_group();
        self.with_server(server_name, |s| {
            s.tls12 = Some((Instant::now(), value, group))
        });
    }

    fn tls12_session(&self, server_name: &ServerName<'_>) -> Option<Tls12ClientSessionValue> {
        let mut servers = lock(&self.servers);
        let s = servers.by_name.get_mut(&server_name.to_owned())?;
        match &s.tls12 {
            Some((stored, v, group)) if self.fresh(*stored) => {
                // Used only if the server resumes it (a full handshake reports its own).
                resumed_with(*group);
                Some(v.clone())
            }
            Some(_) => {
                s.tls12 = None;
                None
            }
            None => None,
        }
    }

    fn remove_tls12_session(&self, server_name: &ServerName<'static>) {
        if let Some(s) = lock(&self.servers).by_name.get_mut(server_name) {
            s.tls12 = None;
        }
    }

    fn insert_tls13_ticket(
        &self,
        server_name: ServerName<'static>,
        value: Tls13ClientSessionValue,
    ) {
        self.with_server(server_name, |s| {
            if s.tls13.len() >= TICKETS_PER_SERVER {
                s.tls13.pop_front();
            }
            s.tls13.push_back((Instant::now(), value));
        });
    }

    fn take_tls13_ticket(
        &self,
        server_name: &ServerName<'static>,
    ) -> Option<Tls13ClientSessionValue> {
        let mut servers = lock(&self.servers);
        let s = servers.by_name.get_mut(server_name)?;
        // The newest first, as rustls' own cache; expired ones go.
        while let Some((stored, v)) = s.tls13.pop_back() {
            if self.fresh(stored) {
                return Some(v);
            }
            s.tls13.clear();
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ticket_decrypts_within_its_lifetime_and_never_after() {
        let t = ExpiringTickets::new(Duration::from_millis(1500)).unwrap();
        assert_eq!(t.lifetime(), 2, "the hint is rounded up to whole seconds");
        let ticket = t.encrypt(b"state").unwrap();
        let now = unix_ms();
        assert_eq!(t.decrypt_at(&ticket, now).as_deref(), Some(&b"state"[..]));
        assert_eq!(
            t.decrypt_at(&ticket, now + 1400).as_deref(),
            Some(&b"state"[..])
        );
        assert_eq!(t.decrypt_at(&ticket, now + 1600), None);
        // A ticket from the future (a clock stepped back) is not trusted either.
        assert_eq!(t.decrypt_at(&ticket, now.saturating_sub(60_000)), None);
        assert_eq!(t.decrypt(b"not a ticket"), None);
    }

    #[test]
    fn the_ticket_lifetime_stops_at_the_key_rotation() {
        let r = ServerResumption::new(ServerResumptionPolicy {
            cache_size: 10,
            lifetime: Duration::from_secs(10 * 60 * 60),
        });
        let t = r.ticketer.expect("a ticketer");
        assert_eq!(t.lifetime(), 6 * 60 * 60);
        assert_eq!(r.tls13_tickets, 2);
        assert!(r.sessions.can_cache());
    }

    #[test]
    fn zero_turns_each_part_off() {
        let off = ServerResumption::new(ServerResumptionPolicy {
            cache_size: 20_000,
            lifetime: Duration::ZERO,
        });
        assert!(off.ticketer.is_none());
        assert_eq!(off.tls13_tickets, 0);
        assert!(!off.sessions.can_cache());
        let no_cache = ServerResumption::new(ServerResumptionPolicy {
            cache_size: 0,
            lifetime: Duration::from_secs(60),
        });
        assert!(!no_cache.sessions.can_cache());
        assert!(no_cache.ticketer.is_some_and(|t| t.enabled()));
    }

    #[test]
    fn the_server_cache_is_bounded_and_forgets_old_sessions() {
        let c = ServerSessionCache::new(2, Duration::from_secs(60));
        for i in 0..5u8 {
            assert!(c.put(vec![i], vec![i]));
        }
        assert_eq!(lock(&c.entries).by_id.len(), 2);
        assert_eq!(c.get(&[4]), Some(vec![4]));
        assert_eq!(c.get(&[0]), None, "the oldest was evicted");
        assert_eq!(c.take(&[3]), Some(vec![3]));
        assert_eq!(c.take(&[3]), None);
        let short = ServerSessionCache::new(10, Duration::ZERO);
        short.put(vec![1], vec![1]);
        std::thread::sleep(Duration::from_millis(2));
        assert_eq!(short.get(&[1]), None, "older than the lifetime");
        assert!(lock(&short.entries).by_id.is_empty());
    }
}
