//! Logs on stderr that read well both in a terminal and in the journal: under journald (its
//! `JOURNAL_STREAM` names our stderr) no timestamps (the journal adds its own), no colour, and a
//! `<N>` syslog priority prefix so `journalctl -p warning` works; colour only on a terminal.

use std::fmt;
use std::io::IsTerminal as _;

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::{Format, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// Our own crates' log targets: a station's bare level (`info`, `debug`) applies to these, the
/// libraries stay at `warn` (wgpu, naga and friends are chatty at `info`).
const OURS: &[&str] = &[
    "kiosk",
    "kiosk_ui",
    "kiosk_perception",
    "kiosk_store",
    "kiosk_config",
    "kiosk_screening",
    "kiosk_service",
    "sync_agent",
];

/// How logging was set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logging {
    /// stderr is the journal's stream: no timestamps, no colour, syslog priority prefixes.
    pub journald: bool,
    /// Colour (stderr is a terminal and `NO_COLOR` is unset).
    pub ansi: bool,
    /// The filter in force.
    pub filter: String,
}

impl Logging {
    /// Prints a command's final error on stderr; under journald as an error (`<3>`, so
    /// `journalctl -p err` finds it), not at the stream's default priority.
    pub fn print_error(&self, message: impl fmt::Display) {
        let priority = if self.journald { "<3>" } else { "" };
        eprintln!("{priority}error: {message}");
    }
}

/// Sets up the process's logging on stderr. The filter is `RUST_LOG` when set (for debugging),
/// else the station's `[log] level` (a bare level applies to our crates, libraries stay at
/// `warn`; a full filter such as `warn,kiosk_ui=debug` is taken as written), else `fallback`.
pub fn init_logging(level: Option<&str>, fallback: &str) -> Logging {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .filter(|f| EnvFilter::try_new(f).is_ok())
        .or_else(|| level.map(expand_level))
        .unwrap_or_else(|| expand_level(fallback));
    let env_filter = EnvFilter::try_new(&filter).unwrap_or_else(|_| EnvFilter::new("warn"));
    let journald = stderr_is_journal();
    let ansi =
        !journald && std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(env_filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi);
    // A second init (tests call this more than once) keeps the first: try_init, not init.
    let _ = if journald {
        builder
            .event_format(Journald(
                tracing_subscriber::fmt::format()
                    .without_time()
                    .with_ansi(false),
            ))
            .try_init()
    } else {
        builder.try_init()
    };
    Logging {
        journald,
        ansi,
        filter,
    }
}

/// `info` → `warn,kiosk=info,…` (our crates at the level, libraries at warn); anything with a
/// target or several directives is kept as written.
pub fn expand_level(level: &str) -> String {
    let level = level.trim();
    match level {
        "info" | "debug" | "trace" => std::iter::once("warn".to_owned())
            .chain(OURS.iter().map(|t| format!("{t}={level}")))
            .collect::<Vec<_>>()
            .join(","),
        other => other.to_owned(),
    }
}

/// systemd sets `JOURNAL_STREAM=<device>:<inode>` for the stream it connects to stdout/stderr;
/// it is ours only if stderr is that very file (a child whose stderr was redirected inherits the
/// variable but not the stream).
fn stderr_is_journal() -> bool {
    let Some(want) = std::env::var_os("JOURNAL_STREAM") else {
        return false;
    };
    let Ok(st) = rustix::fs::fstat(std::io::stderr()) else {
        return false;
    };
    want.to_string_lossy() == format!("{}:{}", st.st_dev, st.st_ino)
}

/// The default line format without time, preceded by the level as a syslog priority (`<3>` error,
/// `<4>` warning, `<6>` info, `<7>` debug), which journald reads off stderr lines.
struct Journald(Format<tracing_subscriber::fmt::format::Full, ()>);

impl<S, N> FormatEvent<S, N> for Journald
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let priority = match *event.metadata().level() {
            Level::ERROR => 3,
            Level::WARN => 4,
            Level::INFO => 6,
            _ => 7,
        };
        write!(writer, "<{priority}>")?;
        self.0.format_event(ctx, writer, event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_level_is_ours_and_libraries_stay_at_warn() {
        let f = expand_level("info");
        assert!(f.starts_with("warn,"), "{f}");
        assert!(
            f.contains("kiosk_ui=info") && f.contains("sync_agent=info"),
            "{f}"
        );
        assert!(EnvFilter::try_new(&f).is_ok());
        assert_eq!(expand_level("warn"), "warn");
        assert_eq!(expand_level("warn,kiosk_ui=debug"), "warn,kiosk_ui=debug");
    }
}
