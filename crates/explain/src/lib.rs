//! What each Schannel event, TLS alert and SSPI status means on securechannel, its likely
//! causes and what an operator does about it: the texts `schannel explain` prints and the
//! one-line hints of the CLI's failure messages.
//!
//! The prose lives here rather than in `securechannel-events`, which stays the small
//! catalog the provider and the store depend on; only the CLI needs these texts.
//!
//! ```
//! use securechannel_explain::{explain, ExplainError, Subject};
//!
//! // The words after `schannel explain`, as an operator types them.
//! let subject = Subject::parse(&["alert", "unknown_ca"])?;
//! let text = explain(subject);
//! assert!(text.starts_with("TLS alert 48 unknown_ca"));
//! assert!(text.contains("SEC_E_UNTRUSTED_ROOT"));
//! # Ok::<(), ExplainError>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod explain;

pub use explain::{
    alert_explanation, event_explanation, explain, status_explanation, AlertExplanation,
    EventExplanation, ExplainError, StatusExplanation, Subject, ACCEPTED_FORMS, ALERT_EXPLANATIONS,
    EVENT_EXPLANATIONS, STATUS_EXPLANATIONS,
};
