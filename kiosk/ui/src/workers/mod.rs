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

/// Puts the calling thread, and the threads it starts (Whisper's, ONNX Runtime's), in the
/// idle scheduling class: inference runs on whatever CPU the frame loop leaves, so drawing never
/// waits for a model. Falls back to niceness 19 where the idle class is refused.
pub fn yield_to_frames() {
    use thread_priority::unix::{
        NormalThreadSchedulePolicy, ThreadSchedulePolicy, set_thread_priority_and_policy,
        thread_native_id,
    };
    let idle = set_thread_priority_and_policy(
        thread_native_id(),
        thread_priority::ThreadPriority::Min,
        ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Idle),
    );
    if let Err(e) = idle {
        tracing::debug!("no idle scheduling class ({e:?}): lowering the priority instead");
        if let Err(e) =
            thread_priority::set_current_thread_priority(thread_priority::ThreadPriority::Min)
        {
            tracing::warn!("could not lower a worker thread's priority: {e:?}");
        }
    }
}
