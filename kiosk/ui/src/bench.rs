//! The frame-rate bench: frame times per screen through a scripted interview, beside its peer —
//! an empty Bevy window of the same size, camera, pacing and renderer, measured just before in a
//! child process (winit allows one event loop per process) — with the ratio between the two.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bevy::prelude::*;
use serde::{Deserialize, Serialize};

use crate::state::Screen;

/// Frames skipped at the start of a run (window creation, shader compilation).
const WARM_UP_FRAMES: usize = 30;

/// The frame rate the app aims for while the models run.
pub const TARGET_FPS: f64 = 55.0;

/// Summary of a series of frame times.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FrameStats {
    /// Frames measured.
    pub frames: usize,
    /// Frames per second over the series.
    pub fps: f64,
    /// Median frame time.
    pub p50_ms: f64,
    /// 99th-percentile frame time.
    pub p99_ms: f64,
}

impl FrameStats {
    /// None for an empty series.
    pub fn of(mut times: Vec<Duration>) -> Option<Self> {
        if times.is_empty() {
            return None;
        }
        times.sort();
        let total: Duration = times.iter().sum();
        let p = |q: f64| times[((times.len() - 1) as f64 * q) as usize].as_secs_f64() * 1000.0;
        Some(Self {
            frames: times.len(),
            fps: times.len() as f64 / total.as_secs_f64(),
            p50_ms: p(0.5),
            p99_ms: p(0.99),
        })
    }
}

/// Frame times of the kiosk, for the frame-rate bench.
#[derive(Resource, Debug, Default)]
pub struct FrameLog {
    last: Option<Instant>,
    /// (screen, frame time).
    pub frames: Vec<(Screen, Duration)>,
    /// The empty window measured on the same machine just before, if it could be.
    pub peer: Option<FrameStats>,
    /// The machine's CPU counters when the log started (Linux).
    cpu_at_start: Option<CpuTimes>,
}

/// The machine's CPU time counters from `/proc/stat`, in clock ticks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuTimes {
    /// All time, idle included.
    pub total: u64,
    /// Time a hypervisor ran something else while this machine wanted the CPU ("steal").
    pub steal: u64,
}

impl CpuTimes {
    /// Now, on Linux; None elsewhere.
    pub fn now() -> Option<Self> {
        Self::parse(&std::fs::read_to_string("/proc/stat").ok()?)
    }

    /// The `cpu` line of `/proc/stat`: user nice system idle iowait irq softirq steal …
    pub fn parse(stat: &str) -> Option<Self> {
        let line = stat.lines().find(|l| l.starts_with("cpu "))?;
        let ticks: Vec<u64> = line
            .split_whitespace()
            .skip(1)
            .take(8)
            .map(str::parse)
            .collect::<Result<_, _>>()
            .ok()?;
        Some(Self {
            total: ticks.iter().sum(),
            steal: *ticks.get(7)?,
        })
    }

    /// The share of the CPU time between `self` and `later` that the hypervisor took.
    pub fn steal_share(&self, later: &Self) -> Option<f64> {
        let total = later.total.checked_sub(self.total)?;
        (total > 0).then(|| later.steal.saturating_sub(self.steal) as f64 / total as f64)
    }
}

/// Records every frame's duration.
pub fn log_frames(mut log: ResMut<FrameLog>, screen: Res<State<Screen>>) {
    let now = Instant::now();
    if let Some(last) = log.last.replace(now) {
        log.frames.push((*screen.get(), now - last));
    }
}

impl FrameLog {
    /// An empty log, to be shown beside the peer's frame times.
    pub fn with_peer(peer: Option<FrameStats>) -> Self {
        Self {
            peer,
            cpu_at_start: CpuTimes::now(),
            ..Self::default()
        }
    }

    /// A table: frames, mean fps, median and 99th-percentile frame time, overall and per screen
    /// (the question screen is where capture, VAD, Whisper and the face model all run), the
    /// empty-window peer, and each row's frame rate as a share of the peer's.
    pub fn table(&self) -> String {
        let row = |label: &str, stats: Option<FrameStats>| {
            let Some(st) = stats else {
                return format!("| {label} | 0 | — | — | — | — | — |\n");
            };
            let ratio = self
                .peer
                .map_or_else(|| "—".to_string(), |p| format!("{:.2}", st.fps / p.fps));
            let target = if st.fps >= TARGET_FPS {
                "met"
            } else {
                "NOT met"
            };
            format!(
                "| {label} | {} | {:.1} | {:.1} | {:.1} | {ratio} | ≥ {TARGET_FPS} fps: {target} |\n",
                st.frames, st.fps, st.p50_ms, st.p99_ms
            )
        };
        let on = |screen: Option<Screen>| {
            let times = self
                .frames
                .iter()
                .skip(WARM_UP_FRAMES)
                .filter(|f| screen.is_none_or(|s| f.0 == s))
                .map(|f| f.1)
                .collect();
            FrameStats::of(times)
        };
        let mut s = String::from(
            "| frames | count | mean fps | p50 ms | p99 ms | ÷ empty window | target |\n|---|---:|---:|---:|---:|---:|---|\n",
        );
        s += &row(
            "empty Bevy window, same size and renderer (peer)",
            self.peer,
        );
        s += &row("whole run", on(None));
        s += &row("attract screen (idle)", on(Some(Screen::Attract)));
        s += &row(
            "device check (camera + face model, mic + VAD)",
            on(Some(Screen::DeviceCheck)),
        );
        s += &row(
            "question screen (mic + VAD, Whisper, face model)",
            on(Some(Screen::Question)),
        );
        if self.peer.is_none() {
            s += "(the empty-window peer could not be measured: see the log)\n";
        }
        if cfg!(debug_assertions) {
            s += "(a debug build: `provisioning/dev.sh bench` measures the release build)\n";
        }
        let steal = self
            .cpu_at_start
            .zip(CpuTimes::now())
            .and_then(|(a, b)| a.steal_share(&b));
        if let Some(steal) = steal {
            s += &format!(
                "CPU time taken by the hypervisor during the run (steal): {:.0} %\n",
                steal * 100.0
            );
        }
        if let Some(kb) = std::fs::read_to_string("/proc/self/status")
            .ok()
            .as_deref()
            .and_then(peak_rss_kb)
        {
            let mb = kb as f64 / 1024.0;
            let verdict = if mb <= TARGET_RSS_MB {
                "met"
            } else {
                "NOT met"
            };
            s += &format!(
                "peak resident memory of the app: {mb:.0} MB (≤ {TARGET_RSS_MB:.0} MB: {verdict})\n"
            );
        }
        s
    }
}

/// Target for the app's peak resident memory over a whole interview and review.
pub const TARGET_RSS_MB: f64 = 500.0;

/// The peak resident set (`VmHWM`, kB) from `/proc/self/status`.
pub fn peak_rss_kb(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

/// Runs the peer: the kiosk's window, camera, frame pacing and clear colour with nothing on
/// them, for `seconds`, and returns its frame times (after the warm-up). Call it in a process of
/// its own: it runs a winit event loop.
pub fn run_empty_window(windowed: bool, seconds: f64) -> Option<FrameStats> {
    let times: Arc<Mutex<Vec<Duration>>> = Arc::default();
    let log = Arc::clone(&times);
    let mut app = crate::run::window_app(windowed.then_some(crate::run::WINDOW_SIZE));
    let (mut last, started) = (None::<Instant>, Instant::now());
    app.add_systems(Last, move |mut exit: MessageWriter<AppExit>| {
        let now = Instant::now();
        if let Some(prev) = last.replace(now) {
            log.lock().expect("frame log").push(now - prev);
        }
        if (now - started).as_secs_f64() >= seconds {
            exit.write(AppExit::Success);
        }
    });
    app.add_plugins(crate::run::OneThreadSchedules);
    app.run();
    let times = std::mem::take(&mut *times.lock().expect("frame log"));
    FrameStats::of(times.into_iter().skip(WARM_UP_FRAMES).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: &[u64]) -> Vec<Duration> {
        v.iter().map(|&m| Duration::from_millis(m)).collect()
    }

    #[test]
    fn stats_summarise_frame_times() {
        let st = FrameStats::of(ms(&[20, 10, 30, 20])).expect("stats");
        assert_eq!(st.frames, 4);
        assert!((st.fps - 50.0).abs() < 1e-9, "{}", st.fps);
        assert!((st.p50_ms - 20.0).abs() < 1e-9);
        assert!(
            (st.p99_ms - 20.0).abs() < 1e-9,
            "index 2 of 4 sorted: {}",
            st.p99_ms
        );
        assert_eq!(FrameStats::of(Vec::new()), None);
    }

    #[test]
    fn peak_memory_is_read_off_proc_status() {
        let status = "Name:\tkiosk\nVmPeak:\t 900000 kB\nVmHWM:\t  512000 kB\nVmRSS:\t 400000 kB\n";
        assert_eq!(peak_rss_kb(status), Some(512_000));
        assert_eq!(peak_rss_kb("Name: x\n"), None);
        let ours = std::fs::read_to_string("/proc/self/status").expect("linux");
        assert!(peak_rss_kb(&ours).is_some_and(|kb| kb > 0));
    }

    #[test]
    fn steal_is_read_off_proc_stat() {
        let a = CpuTimes::parse("cpu  100 0 50 800 0 0 0 50 0 0\ncpu0 1 2 3\n").expect("parsed");
        assert_eq!(
            a,
            CpuTimes {
                total: 1000,
                steal: 50
            }
        );
        let b = CpuTimes::parse("cpu  200 0 100 1500 0 0 0 200 0 0\n").expect("parsed");
        assert_eq!(a.steal_share(&b), Some(0.15));
        assert_eq!(CpuTimes::parse("intr 1 2"), None);
    }

    #[test]
    fn the_table_gives_each_screen_as_a_share_of_the_empty_window() {
        let mut log = FrameLog::with_peer(FrameStats::of(ms(&[16; 10])));
        log.frames = std::iter::repeat_n((Screen::Attract, Duration::from_millis(16)), 40)
            .chain(std::iter::repeat_n(
                (Screen::Question, Duration::from_millis(32)),
                40,
            ))
            .collect();
        let table = log.table();
        let line = |label: &str| {
            table
                .lines()
                .find(|l| l.starts_with(&format!("| {label}")))
                .unwrap_or_else(|| panic!("no {label} row in\n{table}"))
                .to_string()
        };
        assert!(
            line("question screen").contains("| 31.2 | 32.0 | 32.0 | 0.50 | ≥ 55 fps: NOT met |"),
            "{table}"
        );
        assert!(
            line("attract screen").contains("| 1.00 | ≥ 55 fps: met |"),
            "{table}"
        );
        assert!(
            line("empty Bevy window").contains("| 10 | 62.5 |"),
            "{table}"
        );
        assert!(line("device check").contains("| 0 | — |"), "{table}");
    }
}
