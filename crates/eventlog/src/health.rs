//! Whether the store is taking writes, and the count of what it could not take.
//!
//! The writer records each commit's outcome here; emitters that give up on a full queue,
//! and the writer when it holds as much as it may, count the record here instead of
//! queueing or holding it. The count is kept per event ID (how many, the first and last
//! time): 25 slots, so its memory is fixed however long an outage lasts. When a commit
//! succeeds again, the writer turns the counts into summary records
//! (`FoldReason::NotStored`) and commits them.

use crate::error::EventLogError;
use crate::now_nanos;
use securechannel_events::{
    format_rfc3339, EventId, EventRecord, Fields, Fold, FoldReason, UnixNanos, CATALOG,
};
use std::fmt;
use std::sync::Arc;

/// The state of a log's store as its writer last saw it, and what could not be stored.
/// From [`crate::EventLog::health`].
#[derive(Debug, Clone, Default)]
pub struct Health {
    /// The current outage: the last commit failed. None: the last commit succeeded (or
    /// none was needed yet).
    pub outage: Option<Outage>,
    /// Records the writer holds, to commit when the store accepts writes.
    pub held: usize,
    /// Records counted as not stored since the log was opened (summarised or not).
    pub lost: u64,
    /// `lost` by event ID (only IDs with a count), in ID order.
    pub lost_by_id: Vec<(EventId, u64)>,
    /// Of `lost`, those whose summary record is not committed yet.
    pub unreported: u64,
}

impl Health {
    /// Whether the store refuses writes now.
    pub fn is_failing(&self) -> bool {
        self.outage.is_some()
    }
}

/// A store that refuses writes: since when, how often, and why.
#[derive(Debug, Clone)]
pub struct Outage {
    /// When the first failed commit of this outage failed.
    pub since: UnixNanos,
    /// Commits failed since then (each one is retried).
    pub failed_commits: u64,
    /// The last failure.
    pub last_error: Arc<EventLogError>,
}

impl fmt::Display for Outage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the event log refuses writes since {} ({} failed commit{}): {}",
            format_rfc3339(self.since, 3),
            self.failed_commits,
            if self.failed_commits == 1 { "" } else { "s" },
            self.last_error
        )
    }
}

/// The records of one event ID counted as not stored, not yet summarised.
#[derive(Debug, Clone)]
struct Counted {
    count: u64,
    first: UnixNanos,
    last: UnixNanos,
    /// From the first such record (a summary needs a computer and process).
    computer: Arc<str>,
    process_id: u32,
}

/// The writer's and the emitters' shared view; behind one mutex in `Shared`, taken once
/// per commit attempt and once per record counted (never on the normal emit path).
#[derive(Debug)]
pub(crate) struct HealthState {
    outage: Option<Outage>,
    held: usize,
    lost: u64,
    lost_by_id: [u64; CATALOG.len()],
    counted: [Option<Counted>; CATALOG.len()],
    unreported: u64,
}

impl Default for HealthState {
    fn default() -> Self {
        HealthState {
            outage: None,
            held: 0,
            lost: 0,
            lost_by_id: [0; CATALOG.len()],
            counted: std::array::from_fn(|_| None),
            unreported: 0,
        }
    }
}

/// The catalog slot of an event ID (the catalog is in ID order from 36864, one entry per
/// ID: tested in the events crate).
fn slot(id: EventId) -> usize {
    usize::from(id.value() - 36864)
}

impl HealthState {
    pub(crate) fn snapshot(&self) -> Health {
        Health {
            outage: self.outage.clone(),
            held: self.held,
            lost: self.lost,
            lost_by_id: CATALOG
                .iter()
                .zip(self.lost_by_id)
                .filter(|(_, n)| *n > 0)
                .map(|(d, n)| (d.id, n))
                .collect(),
            unreported: self.unreported,
        }
    }

    pub(crate) fn outage_error(&self) -> Option<Arc<EventLogError>> {
        self.outage.as_ref().map(|o| o.last_error.clone())
    }

    pub(crate) fn unreported(&self) -> u64 {
        self.unreported
    }

    /// Count a record that is neither queued nor held.
    pub(crate) fn count(&mut self, r: &EventRecord) {
        let i = slot(r.event_id);
        self.lost += 1;
        self.unreported += 1;
        self.lost_by_id[i] += 1;
        match &mut self.counted[i] {
            Some(c) => {
                c.count += 1;
                c.first = c.first.min(r.time);
                c.last = c.last.max(r.time);
            }
            empty @ None => {
                *empty = Some(Counted {
                    count: 1,
                    first: r.time,
                    last: r.time,
                    computer: r.computer.clone(),
                    process_id: r.process_id,
                });
            }
        }
    }

    /// A commit failed: the outage starts, or goes on.
    pub(crate) fn failed(&mut self, e: Arc<EventLogError>, held: usize) {
        self.held = held;
        match &mut self.outage {
            Some(o) => {
                o.failed_commits += 1;
                o.last_error = e;
            }
            None => {
                self.outage = Some(Outage {
                    since: now_nanos(),
                    failed_commits: 1,
                    last_error: e,
                })
            }
        }
    }

    /// A commit succeeded: the outage (if any) is over.
    pub(crate) fn committed(&mut self, held: usize) {
        self.held = held;
        self.outage = None;
    }

    /// The summary records of everything counted so far (one per event ID, in ID order),
    /// for the writer to commit; the counts start again from zero. They become
    /// `unreported` no more only when `summarised` says they are committed.
    pub(crate) fn take_summaries(&mut self, out: &mut Vec<EventRecord>) -> u64 {
        let mut taken = 0;
        for (def, c) in CATALOG.iter().zip(self.counted.iter_mut()) {
            let Some(c) = c.take() else { continue };
            taken += c.count;
            out.push(EventRecord {
                record_id: 0,
                time: c.last,
                event_id: def.id,
                computer: c.computer,
                process_id: c.process_id,
                thread_id: 0,
                activity_id: None,
                data: {
                    let mut empty = Fields::new();
                    empty.resize(def.fields.len());
                    empty
                },
                binary: None,
                fold: Some(Fold {
                    count: c.count,
                    first: c.first,
                    last: c.last,
                    reason: FoldReason::NotStored,
                }),
            });
        }
        taken
    }

    /// `n` counted records' summaries are committed.
    pub(crate) fn summarised(&mut self, n: u64) {
        self.unreported = self.unreported.saturating_sub(n);
    }

    /// Everything counted and not summarised, by event ID, as lines for stderr (the last
    /// resort when closing gives up on the store).
    pub(crate) fn unreported_lines(&self) -> Vec<String> {
        CATALOG
            .iter()
            .zip(self.counted.iter())
            .filter_map(|(def, c)| {
                c.as_ref().map(|c| {
                    format!(
                        "{} records of event {} ({}) from {} to {}",
                        c.count,
                        def.id.value(),
                        def.title,
                        format_rfc3339(c.first, 3),
                        format_rfc3339(c.last, 3)
                    )
                })
            })
            .collect()
    }
}
