//! Worker threads: everything that blocks (capture, inference, disk) runs here, never on the
//! frame schedule. Each worker takes commands and sends results over crossbeam channels that
//! Bevy systems poll with `try_recv`.

pub mod camera;
pub mod capture;
pub mod ears;
pub mod store;

use crossbeam_channel::{Receiver, Sender, unbounded};

/// The two ends a Bevy system holds: commands out, results in.
#[derive(Debug)]
pub struct Link<C, E> {
    /// Commands to the worker.
    pub tx: Sender<C>,
    /// Results from the worker.
    pub rx: Receiver<E>,
}

impl<C, E> Link<C, E> {
    /// Sends a command; a worker that has died is logged, never a panic on the frame schedule.
    pub fn send(&self, cmd: C) {
        if self.tx.send(cmd).is_err() {
            tracing::error!("a worker thread has stopped");
        }
    }

    /// Everything that has arrived so far.
    pub fn drain(&self) -> Vec<E> {
        self.rx.try_iter().collect()
    }
}

/// Spawns a named worker thread running `body(commands, results)`.
pub fn spawn<C: Send + 'static, E: Send + 'static>(
    name: &str,
    body: impl FnOnce(Receiver<C>, Sender<E>) + Send + 'static,
) -> Link<C, E> {
    let (tx, cmd_rx) = unbounded();
    let (ev_tx, rx) = unbounded();
    std::thread::Builder::new()
        .name(name.to_string())
        .spawn(move || body(cmd_rx, ev_tx))
        .expect("spawning a worker thread");
    Link { tx, rx }
}

/// Lowers the calling thread's priority (niceness 10), and so that of the threads it starts
/// (Whisper's, ONNX Runtime's): inference yields to the frame loop, then uses what is left.
pub fn yield_to_frames() {
    let lowered = thread_priority::ThreadPriorityValue::try_from(25u8)
        .map_err(|e| e.to_string())
        .and_then(|v| {
            thread_priority::set_current_thread_priority(
                thread_priority::ThreadPriority::Crossplatform(v),
            )
            .map_err(|e| format!("{e:?}"))
        });
    if let Err(e) = lowered {
        tracing::warn!("could not lower a worker thread's priority: {e}");
    }
}
