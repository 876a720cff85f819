//! What one simulated call does ([`Scenario`]): the call itself ([`CallOptions`], from the
//! models crate's testkit), which of its deliveries are lost on purpose, and how long its call
//! log stays non-final.

use atoms_webhook_models::testkit::CallOptions;
use atoms_webhook_models::EventType;

/// One call to simulate: the call ([`CallOptions`]), the events whose deliveries are dropped
/// (not sent, recorded as [`DeliveryOutcome::Dropped`]), and how many reads of its call log
/// show `in_progress` before it is final. Setters consume and return the scenario.
///
/// ```
/// use atoms_webhook_emulator::{CallOptions, Scenario};
/// use atoms_webhook_models::EventType;
///
/// let lost_at_the_end = Scenario::new(CallOptions::new().turns(2))
///     .drop(EventType::PostConversation)
///     .drop(EventType::AnalyticsCompleted)
///     .final_after(1);
/// assert_eq!(lost_at_the_end.drop.len(), 2);
/// let lost_entirely = Scenario::from(CallOptions::new()).drop_all();
/// assert_eq!(lost_entirely.drop, EventType::ALL.to_vec());
/// ```
///
/// [`DeliveryOutcome::Dropped`]: crate::DeliveryOutcome::Dropped
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct Scenario {
    /// The call.
    pub call: CallOptions,
    /// Events not delivered (to any webhook).
    pub drop: Vec<EventType>,
    /// Reads of the call log (through `GET /conversation` or `GET /conversation/{callId}`)
    /// that show `in_progress` before the final status (default 0: final at once). See also
    /// [`Emulator::finalize_call`](crate::Emulator::finalize_call).
    pub final_after: u32,
}

impl Scenario {
    /// This call, every delivery sent, its log final at once.
    pub fn new(call: CallOptions) -> Self {
        Self {
            call,
            drop: Vec::new(),
            final_after: 0,
        }
    }

    /// Drops every delivery of this event type.
    pub fn drop(mut self, event_type: EventType) -> Self {
        if !self.drop.contains(&event_type) {
            self.drop.push(event_type);
        }
        self
    }

    /// Drops every delivery of the call.
    pub fn drop_all(mut self) -> Self {
        self.drop = EventType::ALL.to_vec();
        self
    }

    /// How many reads of the call log show `in_progress`.
    pub fn final_after(mut self, reads: u32) -> Self {
        self.final_after = reads;
        self
    }
}

impl From<CallOptions> for Scenario {
    fn from(call: CallOptions) -> Self {
        Scenario::new(call)
    }
}
