//! `sync-agent`: the only process that speaks MQTT. `sync-agent --station S` runs the daemon;
//! `sync-agent status --station S [--json]` reports on it; `sync-agent release --station S
//! (--event ID | --all)` puts quarantined events back. Exit code 2 for configuration mistakes
//! (systemd's unit does not restart on it), 3 when another agent already works on the station.

mod agent;
mod backoff;
mod downlink;
mod mqtt;
mod status;
mod topics;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use kiosk_config::Station;
use kiosk_store::{StationIdentity, Store};

/// Store-and-forward from the kiosk's SQLite outbox to the cloud over MQTT.
#[derive(Debug, Parser)]
#[command(
    name = "sync-agent",
    version,
    about,
    args_conflicts_with_subcommands = true
)]
struct Cli {
    /// The station file (runs the daemon).
    #[arg(long)]
    station: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Backlog, oldest unsent event, connection and last error.
    Status {
        /// The station file.
        #[arg(long)]
        station: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Puts quarantined events back in the queue (after the cause is fixed, e.g. the broker's
    /// packet limit raised); the running agent sends them within a second.
    Release {
        /// The station file.
        #[arg(long)]
        station: PathBuf,
        /// The event id (`sync-agent status` lists the quarantined ones).
        #[arg(long, required_unless_present = "all", conflicts_with = "all")]
        event: Option<String>,
        /// Every quarantined event.
        #[arg(long)]
        all: bool,
    },
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct UsageError(String);

fn load(station: &Path) -> anyhow::Result<(Station, Store)> {
    let st =
        Station::load(station).map_err(|e| UsageError(format!("invalid configuration:\n{e}")))?;
    let store = Store::open_with_key_file(&st.database(), &st.key_file)
        .with_context(|| format!("opening the store of {}", station.display()))?;
    Ok((st, store))
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match (cli.command, cli.station) {
        (Some(Command::Status { station, json }), _) => {
            let (_, store) = load(&station)?;
            let s = status::read(&store)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&s)?);
            } else {
                print!("{}", status::render(&s));
            }
            Ok(())
        }
        (
            Some(Command::Release {
                station,
                event,
                all: _,
            }),
            _,
        ) => {
            let (_, mut store) = load(&station)?;
            let n = store.outbox_release(event.as_deref())?;
            match (n, event) {
                (0, Some(id)) => {
                    Err(UsageError(format!("no quarantined event with id {id}")).into())
                }
                (n, _) => {
                    println!("released {n} event(s): the agent sends them again");
                    Ok(())
                }
            }
        }
        (None, Some(station)) => daemon(&station),
        (None, None) => {
            Err(UsageError("give --station FILE to run, or `status --station FILE`".into()).into())
        }
    }
}

/// Another agent holds the station's lock: exit code 3.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
struct AlreadyRunning(kiosk_service::LockError);

fn daemon(station_file: &Path) -> anyhow::Result<()> {
    let (station, store) = load(station_file)?;
    // One agent per store: two would publish the same outbox twice and race on its acks.
    let lock_file = station.data_dir.join("sync-agent.lock");
    let _lock = match kiosk_service::InstanceLock::acquire(&lock_file, "sync-agent") {
        Ok(lock) => lock,
        Err(e @ kiosk_service::LockError::Held { .. }) => return Err(AlreadyRunning(e).into()),
        Err(e) => return Err(e.into()),
    };
    let _ = rustls::crypto::ring::default_provider().install_default();
    let s = &station.config.station;
    let topics = topics::Topics::new(&StationIdentity {
        tenant: s.tenant.clone(),
        store_id: s.store_id.clone(),
        device_id: s.device_id.clone(),
    });
    let options = mqtt::options(&station, &topics).map_err(|e| UsageError(e.to_string()))?;
    let capacity = options.request_channel_capacity();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let (client, eventloop) = rumqttc::v5::AsyncClient::new(options, capacity);
        tracing::info!(station = %station_file.display(), "sync-agent starting");
        agent::Agent::new(station, store, client)
            .run(eventloop, shutdown_signal())
            .await;
    });
    Ok(())
}

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The daemon logs at the station's `[log] level`; the one-shot commands only warnings.
    let logging = match (&cli.command, &cli.station) {
        (None, Some(station)) => {
            kiosk_service::init_logging(kiosk_config::log_level(station).as_deref(), "info")
        }
        _ => kiosk_service::init_logging(None, "warn"),
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            logging.print_error(format_args!("{e:#}"));
            if e.downcast_ref::<UsageError>().is_some() {
                ExitCode::from(2)
            } else if e.downcast_ref::<AlreadyRunning>().is_some() {
                ExitCode::from(3)
            } else {
                ExitCode::from(1)
            }
        }
    }
}
