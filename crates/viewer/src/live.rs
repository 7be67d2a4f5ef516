//! Live arrivals: one thread follows the log (the eventlog's follow mechanism) and hands
//! each new record to every subscriber (the server-sent-event streams), which filter it.

use securechannel_eventlog::{LogReader, Query};
use securechannel_events::EventRecord;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;

/// How many records a slow subscriber may fall behind before it is told it lagged.
const CAPACITY: usize = 4096;

/// The sending side of the live feed.
#[derive(Clone)]
pub(crate) struct Live {
    tx: broadcast::Sender<Arc<EventRecord>>,
}

impl Live {
    /// Start following the log at `path` from the record after `after`.
    pub(crate) fn start(path: PathBuf, after: u64) -> Live {
        let (tx, _) = broadcast::channel(CAPACITY);
        let sender = tx.clone();
        std::thread::Builder::new()
            .name("viewer-follow".into())
            .spawn(move || follow(path, after, sender))
            // Without the thread there are no live updates; the process cannot do its job.
            .unwrap_or_else(|e| panic!("cannot start the viewer's follow thread: {e}"));
        Live { tx }
    }

    /// A new subscriber, seeing records committed from now on.
    pub(crate) fn subscribe(&self) -> broadcast::Receiver<Arc<EventRecord>> {
        self.tx.subscribe()
    }
}

fn follow(path: PathBuf, after: u64, tx: broadcast::Sender<Arc<EventRecord>>) {
    let reader = match LogReader::open(&path) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("schannel: viewer: live updates are off: {e}");
            return;
        }
    };
    let mut follow = reader.follow(Query::new(), after);
    let mut failing = false;
    loop {
        match follow.wait(Duration::from_secs(1)) {
            Ok(records) => {
                failing = false;
                for r in records {
                    // No subscriber is not an error: nobody is watching right now.
                    let _ = tx.send(Arc::new(r));
                }
            }
            Err(e) => {
                if !failing {
                    eprintln!("schannel: viewer: reading new records failed (retrying): {e}");
                }
                failing = true;
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    }
}
