//! The stop signal shared by the worker loop and the tasks beside it.

use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

/// A stop signal shared by the loop and its tasks. It stores when the stop was
/// requested, so every wait after it can end by one common deadline.
#[derive(Debug, Clone)]
pub struct Shutdown {
    receiver: watch::Receiver<Option<Instant>>,
}

/// Triggers a [`Shutdown`].
#[derive(Debug)]
pub struct ShutdownTrigger {
    sender: watch::Sender<Option<Instant>>,
}

impl ShutdownTrigger {
    /// Requests the worker to stop. Only the first call sets the stop time.
    pub fn trigger(&self) {
        self.sender.send_if_modified(|stopped_at| {
            if stopped_at.is_some() {
                return false;
            }
            *stopped_at = Some(Instant::now());
            true
        });
    }
}

impl Shutdown {
    /// Returns a stop signal and its trigger.
    pub fn new() -> (ShutdownTrigger, Shutdown) {
        let (sender, receiver) = watch::channel(None);
        (ShutdownTrigger { sender }, Shutdown { receiver })
    }

    /// Returns whether a stop was requested.
    pub fn is_triggered(&self) -> bool {
        self.receiver.borrow().is_some()
    }

    /// Returns when the stop was requested plus `grace`, or `None` before a stop.
    pub fn deadline(&self, grace: Duration) -> Option<Instant> {
        self.receiver.borrow().map(|stopped_at| stopped_at + grace)
    }

    /// Waits until a stop is requested.
    pub async fn wait(&mut self) {
        // An error means the trigger is gone, which also means stop.
        let _ = self.receiver.wait_for(Option::is_some).await;
    }

    /// Waits until a stop is requested and then `grace` has passed since the request.
    pub async fn wait_past(&mut self, grace: Duration) {
        self.wait().await;
        // No deadline means the trigger was dropped without a request: stop now.
        if let Some(deadline) = self.deadline(grace) {
            tokio::time::sleep_until(deadline).await;
        }
    }

    /// Sleeps for `duration`, returning early on stop.
    pub(crate) async fn sleep(&mut self, duration: Duration) {
        tokio::select! {
            () = tokio::time::sleep(duration) => {}
            () = self.wait() => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn deadline_counts_from_first_trigger() {
        let (trigger, shutdown) = Shutdown::new();
        assert!(!shutdown.is_triggered());
        assert_eq!(shutdown.deadline(Duration::from_secs(1)), None);

        trigger.trigger();
        let first = shutdown.deadline(Duration::ZERO).unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        trigger.trigger();
        assert!(shutdown.is_triggered());
        assert_eq!(shutdown.deadline(Duration::ZERO), Some(first));
        assert_eq!(
            shutdown.deadline(Duration::from_secs(1)),
            Some(first + Duration::from_secs(1))
        );
    }

    #[tokio::test]
    async fn wait_past_ends_at_grace() {
        let (trigger, mut shutdown) = Shutdown::new();
        trigger.trigger();
        let grace = Duration::from_millis(50);
        shutdown.wait_past(grace).await;
        assert!(Instant::now() >= shutdown.deadline(grace).unwrap());
    }
}
