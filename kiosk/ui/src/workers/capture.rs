//! The microphone worker: opens the microphone on its own thread (cpal streams are not `Send`),
//! reports the level for the meter, end-points answers with Silero VAD as they are spoken, and
//! hands over each answer's audio.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use std::sync::mpsc::RecvTimeoutError;

use crossbeam_channel::{Receiver, Sender};
use kiosk_perception::audio::{RATE, dbfs};
use kiosk_perception::mic::Microphone;
use kiosk_perception::vad::FRAME;
use kiosk_perception::{EndpointConfig, Endpointer, Vad};

use super::Link;

/// Builds the microphone inside the worker thread.
pub type MicFactory = Box<dyn FnOnce() -> Box<dyn Microphone> + Send>;

/// What the microphone should do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptureCmd {
    /// Level meter only (device check).
    Monitor,
    /// Record one answer: until the VAD end-points it, `limit` passes, or `Finish`.
    Listen {
        /// Tag echoed in [`CaptureEvent::Captured`].
        id: u64,
        /// The question's answer limit.
        limit: Duration,
        /// Silence after speech that ends this answer (the question's own setting).
        end_silence_ms: u32,
        /// The question is asked again ("please say that again"): its first answer was
        /// recorded this many recordings ago.
        again: Option<usize>,
    },
    /// The candidate tapped "I'm done": hand over what was recorded.
    Finish,
    /// Stop and discard (idle reset, leaving a screen).
    Stop,
}

/// What the microphone worker reports.
#[derive(Debug, Clone)]
pub enum CaptureEvent {
    /// Loudness of the last ~100 ms, in dBFS.
    Level(f32),
    /// Speech is being heard (sent at most once a second): the candidate is active.
    Speaking,
    /// While listening: true once the candidate has been silent for half the silence that ends
    /// the answer (the screen warns that it is about to stop listening), false when speech
    /// resumes — it belongs to the same answer.
    Pausing(bool),
    /// One answer is over.
    Captured {
        /// The `Listen` id.
        id: u64,
        /// 16 kHz mono audio.
        samples: Vec<f32>,
        /// True when the VAD heard speech in it.
        speech: bool,
    },
    /// The microphone or the VAD failed; what to tell the user.
    Failed(String),
}

/// Starts the worker. The VAD model loads in the worker; if it cannot, listening still records
/// but cannot end-point (the limit or "I'm done" ends answers).
pub fn start(
    mic: MicFactory,
    models_dir: PathBuf,
    endpoint: EndpointConfig,
) -> Link<CaptureCmd, CaptureEvent> {
    super::spawn("capture", move |cmds, events| {
        let mut mic = mic();
        let mut vad = match Vad::load(&models_dir) {
            Ok(v) => Some(v),
            Err(e) => {
                let _ = events.send(CaptureEvent::Failed(e.to_string()));
                None
            }
        };
        let mut next = cmds.recv().ok();
        while let Some(cmd) = next.take() {
            if let CaptureCmd::Listen {
                again: Some(back), ..
            } = cmd
            {
                mic.again(back);
            }
            next = match cmd {
                CaptureCmd::Monitor => run(mic.as_mut(), None, &mut vad, &endpoint, &cmds, &events),
                CaptureCmd::Listen {
                    id,
                    limit,
                    end_silence_ms,
                    ..
                } => run(
                    mic.as_mut(),
                    Some((id, limit)),
                    &mut vad,
                    &EndpointConfig {
                        trailing_silence_ms: end_silence_ms,
                        ..endpoint.clone()
                    },
                    &cmds,
                    &events,
                ),
                CaptureCmd::Finish | CaptureCmd::Stop => cmds.recv().ok(),
            };
        }
    })
}

/// Runs the microphone until a new command (returned) or, when listening, the answer's end.
fn run(
    mic: &mut dyn Microphone,
    listen: Option<(u64, Duration)>,
    vad: &mut Option<Vad>,
    endpoint: &EndpointConfig,
    cmds: &Receiver<CaptureCmd>,
    events: &Sender<CaptureEvent>,
) -> Option<CaptureCmd> {
    let audio = match mic.start() {
        Ok(rx) => rx,
        Err(e) => {
            let _ = events.send(CaptureEvent::Failed(e.to_string()));
            return cmds.recv().ok();
        }
    };
    if let Some(v) = vad.as_mut() {
        v.reset();
    }
    let started = Instant::now();
    let mut ep = Endpointer::new(endpoint.clone());
    let mut samples: Vec<f32> = Vec::new();
    let (mut fed, mut metered) = (0, 0);
    let mut beat: Option<Instant> = None;
    let mut pausing = false;
    let outcome = loop {
        if let Ok(cmd) = cmds.try_recv() {
            break Some(cmd);
        }
        if let Some((_, limit)) = listen
            && started.elapsed() >= limit
        {
            break None;
        }
        match audio.recv_timeout(Duration::from_millis(50)) {
            Ok(chunk) => samples.extend(chunk),
            Err(RecvTimeoutError::Timeout) => continue,
            // A file microphone that has played everything: the answer is over.
            Err(RecvTimeoutError::Disconnected) if listen.is_some() => break None,
            // Monitoring a source that has ended: stop it (below), then wait for orders.
            Err(RecvTimeoutError::Disconnected) => break None,
        }
        while samples.len() - metered >= RATE as usize / 10 {
            let _ = events.send(CaptureEvent::Level(dbfs(
                &samples[metered..metered + RATE as usize / 10],
            )));
            metered += RATE as usize / 10;
        }
        let mut ended = false;
        if let Some(v) = vad.as_mut() {
            while samples.len() - fed >= FRAME && !ended {
                match v.frame(&samples[fed..fed + FRAME]) {
                    Ok(p) => {
                        ended = ep.push(p);
                        if p >= endpoint.threshold
                            && beat.is_none_or(|b| b.elapsed() >= Duration::from_secs(1))
                        {
                            beat = Some(Instant::now());
                            let _ = events.send(CaptureEvent::Speaking);
                        }
                    }
                    Err(e) => {
                        let _ = events.send(CaptureEvent::Failed(e.to_string()));
                        *vad = None;
                        break;
                    }
                }
                fed += FRAME;
            }
            let now_pausing =
                listen.is_some() && !ended && ep.silence_ms() >= endpoint.trailing_silence_ms / 2;
            if now_pausing != pausing {
                pausing = now_pausing;
                let _ = events.send(CaptureEvent::Pausing(pausing));
            }
        }
        if ended && listen.is_some() {
            break None;
        }
        if listen.is_none() {
            // The meter needs no history.
            let done = if vad.is_some() {
                fed.min(metered)
            } else {
                metered
            };
            samples.drain(..done);
            fed = fed.saturating_sub(done);
            metered -= done;
        }
    };
    mic.stop();
    if pausing {
        let _ = events.send(CaptureEvent::Pausing(false));
    }
    let Some((id, _)) = listen else {
        return outcome.or_else(|| cmds.recv().ok());
    };
    match outcome {
        Some(CaptureCmd::Stop) => cmds.recv().ok(),
        Some(CaptureCmd::Finish) | None => {
            let speech = ep.finish().start_ms.is_some();
            let _ = events.send(CaptureEvent::Captured {
                id,
                samples,
                speech,
            });
            cmds.recv().ok()
        }
        // A new Listen/Monitor while listening: hand over this answer, then do that.
        Some(other) => {
            let speech = ep.finish().start_ms.is_some();
            let _ = events.send(CaptureEvent::Captured {
                id,
                samples,
                speech,
            });
            Some(other)
        }
    }
}
