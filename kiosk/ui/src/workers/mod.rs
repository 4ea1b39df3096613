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

/// Niceness of the model workers: a CPU-bound thread at nice 10 gets about a tenth of what a
/// nice-0 thread gets on a contended core, so the frame loop keeps most of the CPU and a model
/// still always makes progress. (The idle scheduling class, used before, gives it almost
/// nothing: under a 1920×1080 software-rendered window a Chinese answer waited over 5 minutes.)
pub const WORKER_NICENESS: i32 = 10;

/// Puts the calling thread, and the threads it starts (Whisper's, ONNX Runtime's), at
/// [`WORKER_NICENESS`], so drawing rarely waits for a model and a model never waits forever.
pub fn yield_to_frames() {
    use thread_priority::unix::{
        NormalThreadSchedulePolicy, ThreadSchedulePolicy, set_thread_priority_and_policy,
        thread_native_id,
    };
    // The crate maps 0..=99 onto niceness 19..=-20; 22 is niceness 10.
    let priority = thread_priority::ThreadPriority::Crossplatform(
        22u8.try_into().expect("22 is a valid priority"),
    );
    if let Err(e) = set_thread_priority_and_policy(
        thread_native_id(),
        priority,
        ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Other),
    ) {
        tracing::warn!("could not lower a worker thread's priority: {e:?}");
    }
}

#[cfg(test)]
mod tests {
    /// The calling thread's niceness, from `/proc/thread-self/stat` (field 19).
    fn niceness() -> i32 {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").expect("stat");
        let after_name = &stat[stat.rfind(')').expect("comm") + 2..];
        after_name
            .split(' ')
            .nth(16)
            .expect("nice")
            .parse()
            .expect("number")
    }

    #[test]
    fn a_worker_runs_at_niceness_ten_in_the_normal_class() {
        let (before, after) = std::thread::spawn(|| {
            let before = niceness();
            super::yield_to_frames();
            (before, niceness())
        })
        .join()
        .expect("thread");
        // (A test run already niced above 10 cannot be checked: lowering niceness needs root.)
        if before <= super::WORKER_NICENESS {
            assert_eq!(after, super::WORKER_NICENESS, "niceness before: {before}");
        }
    }
}
