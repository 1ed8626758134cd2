//! A queue bounded both in items and in bytes, for the stages of a destination: a sender waits
//! until the receiver has released enough bytes, so a slow broker slows the binlog reader instead
//! of growing memory (invariant 5).

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};

pub struct QueueSender<T> {
    items: mpsc::Sender<(T, OwnedSemaphorePermit)>,
    bytes: Arc<Semaphore>,
    max_bytes: usize,
}

pub struct QueueReceiver<T> {
    items: mpsc::Receiver<(T, OwnedSemaphorePermit)>,
    /// Closed when the receiver goes, so a sender waiting for bytes learns the queue is closed.
    bytes: Arc<Semaphore>,
}

impl<T> Drop for QueueReceiver<T> {
    fn drop(&mut self) {
        self.bytes.close();
    }
}

/// The queue is closed: the other side is gone.
#[derive(Debug, thiserror::Error)]
#[error("the next stage has stopped")]
pub struct Closed;

/// A queue of at most `max_items` items and `max_bytes` bytes. An item larger than `max_bytes` is
/// admitted alone (it takes the whole budget).
pub fn bounded<T>(max_items: usize, max_bytes: usize) -> (QueueSender<T>, QueueReceiver<T>) {
    let (tx, rx) = mpsc::channel(max_items.max(1));
    let max_bytes = max_bytes.clamp(1, Semaphore::MAX_PERMITS);
    let bytes = Arc::new(Semaphore::new(max_bytes));
    (QueueSender { items: tx, bytes: Arc::clone(&bytes), max_bytes }, QueueReceiver { items: rx, bytes })
}

impl<T> QueueSender<T> {
    /// Wait for room, then enqueue `item`, accounted as `bytes`.
    pub async fn send(&self, item: T, bytes: usize) -> Result<(), Closed> {
        let want = u32::try_from(bytes.clamp(1, self.max_bytes)).unwrap_or(u32::MAX);
        let permit = Arc::clone(&self.bytes).acquire_many_owned(want).await.map_err(|_| Closed)?;
        self.items.send((item, permit)).await.map_err(|_| Closed)
    }
}

impl<T> QueueReceiver<T> {
    /// The next item; its bytes are released when the returned guard is dropped.
    pub async fn recv(&mut self) -> Option<(T, OwnedSemaphorePermit)> {
        self.items.recv().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn sender_waits_until_bytes_are_released() {
        let (tx, mut rx) = bounded::<u32>(10, 100);
        tx.send(1, 60).await.unwrap();
        let blocked = tokio::time::timeout(Duration::from_millis(50), tx.send(2, 60)).await;
        assert!(blocked.is_err(), "a second 60-byte item must wait: only 40 bytes are free");
        let (first, permit) = rx.recv().await.unwrap();
        assert_eq!(first, 1);
        drop(permit);
        tokio::time::timeout(Duration::from_millis(50), tx.send(2, 60)).await.expect("room again").unwrap();
    }

    #[tokio::test]
    async fn a_sender_waiting_for_bytes_learns_when_the_receiver_is_gone() {
        let (tx, rx) = bounded::<u32>(10, 100);
        tx.send(1, 100).await.unwrap();
        let waiting = tokio::spawn(async move { tx.send(2, 50).await });
        tokio::time::sleep(Duration::from_millis(20)).await;
        drop(rx);
        let result = tokio::time::timeout(Duration::from_secs(1), waiting).await.expect("the sender is released");
        assert!(result.unwrap().is_err());
    }

    #[tokio::test]
    async fn oversized_item_is_admitted_alone() {
        let (tx, mut rx) = bounded::<u32>(10, 100);
        tx.send(1, 1_000).await.unwrap();
        let (_, permit) = rx.recv().await.unwrap();
        drop(permit);
        tx.send(2, 10).await.unwrap();
    }
}
