//! cloud-bridge: the central HR service. `run` ingests the fleet's events from the broker into
//! PostgreSQL (receipts back to each device), serves the HR API and sends signed webhooks;
//! several instances may run side by side. The other commands manage the device registry and
//! the webhook dead letters.

mod api;
mod config;
mod mqtt;
mod rota_csv;
mod webhook;

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use cloud_store::{NewDevice, Store};

use crate::config::CloudConfig;

#[derive(Debug, Parser)]
#[command(
    version,
    about = "Central HR service: kiosk events into the store of record, the HR API, webhooks"
)]
struct Cli {
    /// The configuration file.
    #[arg(
        long,
        short,
        global = true,
        default_value = "/etc/kiosk-cloud/cloud.toml"
    )]
    config: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Migrates the database, then ingests, serves the API and sends webhooks until stopped.
    Run,
    /// Applies the database migrations and exits.
    Migrate,
    /// The device registry.
    Devices {
        #[command(subcommand)]
        command: DevicesCommand,
    },
    /// Webhook dead letters.
    Webhooks {
        /// Lists webhooks that ran out of attempts.
        #[arg(long)]
        dead: bool,
        /// Makes a dead webhook due again (same webhook-id).
        #[arg(long, value_name = "WEBHOOK_ID")]
        replay: Option<String>,
        /// Prints JSON.
        #[arg(long)]
        json: bool,
    },
    /// A store's rota.
    Roster {
        #[command(subcommand)]
        command: RosterCommand,
    },
    /// Lists messages held or refused (unregistered devices, wrong paths, invalid payloads).
    Rejected {
        /// How many, newest first.
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
}

#[derive(Debug, Subcommand)]
enum RosterCommand {
    /// Imports a week's rota from CSV (replacing that week's) and re-solves the store's new
    /// hires it touches. employees.csv: id, first_name, skills (a;b), max_hours_week,
    /// max_shifts_day, nights_allowed, unavailable (dates a;b), experienced. shifts.csv: id,
    /// start, end (2026-12-07 20:00), skill, needed, location. assignments.csv: shift, employee.
    Import {
        /// Tenant.
        #[arg(long)]
        tenant: String,
        /// Store.
        #[arg(long)]
        store: String,
        /// The week's first day (YYYY-MM-DD).
        #[arg(long)]
        week: chrono::NaiveDate,
        /// employees.csv.
        #[arg(long)]
        employees: PathBuf,
        /// shifts.csv.
        #[arg(long)]
        shifts: PathBuf,
        /// assignments.csv (who is already on which shift).
        #[arg(long)]
        assignments: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum DevicesCommand {
    /// Registers a device (or moves it to another store).
    Add {
        /// Tenant.
        #[arg(long)]
        tenant: String,
        /// Store.
        #[arg(long)]
        store: String,
        /// Device id (its certificate's CN).
        #[arg(long)]
        device: String,
    },
    /// Lists registered devices with their last-known state.
    List {
        /// Prints JSON.
        #[arg(long)]
        json: bool,
    },
    /// Retires a device (a lost or replaced box): its events are held from now on, and the
    /// certificates enrolment issued it are revoked in `[enrolment] crl_file` (then reload or
    /// restart the broker, which reads the CRL at start).
    Retire {
        /// Device id.
        #[arg(long)]
        device: String,
    },
    /// Rewrites `[enrolment] crl_file` (valid a year: run it before then, e.g. monthly).
    Crl,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tokio_postgres=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let config = CloudConfig::load(&cli.config)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(command(cli.command, config))
}

/// Writes the CRL of revoked enrolment certificates to `[enrolment] crl_file`, if configured.
async fn write_crl(config: &CloudConfig, store: &Store) -> anyhow::Result<()> {
    let Some(e) = &config.enrolment else {
        println!("no [enrolment]: no CRL to write");
        return Ok(());
    };
    let Some(path) = &e.crl_file else {
        println!(
            "no [enrolment] crl_file: the broker accepts revoked certificates until they expire"
        );
        return Ok(());
    };
    let revoked = store.revoked_certificates().await?;
    let pem = api::Signer::load(e)
        .and_then(|s| s.crl(&revoked))
        .map_err(anyhow::Error::msg)?;
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, pem).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    println!(
        "wrote {} ({} revoked): reload the broker to apply it",
        path.display(),
        revoked.len()
    );
    Ok(())
}

async fn command(command: Command, config: CloudConfig) -> anyhow::Result<()> {
    let store = Store::connect(
        &config.database.url,
        config.database.max_connections,
        config.store_options(),
    )?;
    match command {
        Command::Run => run(config, store).await,
        Command::Migrate => {
            let v = store.migrate().await.context("migrating the database")?;
            println!("database schema at version {v}");
            Ok(())
        }
        Command::Devices { command } => {
            store.migrate().await.context("migrating the database")?;
            match command {
                DevicesCommand::Add {
                    tenant,
                    store: s,
                    device,
                } => {
                    if !config.tenants.iter().any(|t| t.id == tenant) {
                        anyhow::bail!(
                            "tenant `{tenant}` is not in the configuration ([[tenant]] id = \"{tenant}\")"
                        );
                    }
                    store
                        .add_device(&NewDevice {
                            tenant: tenant.clone(),
                            store_id: s.clone(),
                            device_id: device.clone(),
                            registered_by: "cli".into(),
                        })
                        .await?;
                    println!("registered {device} in {tenant}/{s}");
                }
                DevicesCommand::Retire { device } => {
                    let Some(revoked) = store.retire_device(&device).await? else {
                        anyhow::bail!("no device `{device}` (cloud-bridge devices list)");
                    };
                    println!("retired {device}: {revoked} enrolled certificate(s) revoked");
                    write_crl(&config, &store).await?;
                }
                DevicesCommand::Crl => write_crl(&config, &store).await?,
                DevicesCommand::List { json } => {
                    let rows = store.devices(None).await?;
                    if json {
                        println!("{}", serde_json::to_string_pretty(&rows)?);
                    } else {
                        for d in rows {
                            println!(
                                "{}\t{}/{}\t{}\tonline={}\tlast_seen={}\tbacklog={}\tunconfirmed={}",
                                d.device_id,
                                d.tenant,
                                d.store_id,
                                d.status,
                                d.online.map_or("?".into(), |o| o.to_string()),
                                d.last_seen.map_or("never".into(), |t| t.to_rfc3339()),
                                d.backlog.map_or("?".into(), |b| b.to_string()),
                                d.unconfirmed.map_or("?".into(), |b| b.to_string()),
                            );
                        }
                    }
                }
            }
            Ok(())
        }
        Command::Webhooks { dead, replay, json } => {
            if let Some(id) = replay {
                if !store.replay_webhook(&id).await? {
                    anyhow::bail!(
                        "no dead webhook `{id}` (cloud-bridge webhooks --dead lists them)"
                    );
                }
                println!("{id} is due again; a running bridge sends it");
            } else if dead {
                let rows = store.dead_webhooks().await?;
                if json {
                    println!("{}", serde_json::to_string_pretty(&rows)?);
                } else {
                    for w in rows {
                        println!(
                            "{}\t{}\t{}\tattempts={}\t{}",
                            w.webhook_id,
                            w.tenant,
                            w.event_type,
                            w.attempts,
                            w.last_error.unwrap_or_default()
                        );
                    }
                }
            } else {
                for (state, n) in store.webhook_counts().await? {
                    println!("{state}\t{n}");
                }
            }
            Ok(())
        }
        Command::Roster {
            command:
                RosterCommand::Import {
                    tenant,
                    store: s,
                    week,
                    employees,
                    shifts,
                    assignments,
                },
        } => {
            let rota = rota_csv::read(week, &employees, &shifts, assignments.as_deref())?;
            store.migrate().await.context("migrating the database")?;
            match store.put_rota(&tenant, &s, &rota, "cli import").await? {
                Ok(v) => {
                    println!(
                        "imported {s}'s rota for the week of {week}: {} employees, {} shifts, {} assignments; re-solved {} new hire(s)",
                        rota.employees.len(),
                        rota.demand.len(),
                        rota.assignments.len(),
                        v["resolved"].as_array().map_or(0, Vec::len)
                    );
                    Ok(())
                }
                Err(cloud_store::RotaRefused::NotConfigured) => {
                    anyhow::bail!("tenant `{tenant}` has no [tenant.roster] in the configuration")
                }
                Err(cloud_store::RotaRefused::Invalid(m)) => {
                    anyhow::bail!("{m}; nothing was imported")
                }
            }
        }
        Command::Rejected { limit } => {
            for r in store.rejected(limit).await? {
                println!("{r}");
            }
            Ok(())
        }
    }
}

async fn run(config: CloudConfig, store: Store) -> anyhow::Result<()> {
    // The database may still be starting: wait for it rather than fail the service.
    let mut wait = std::time::Duration::from_millis(200);
    let version = loop {
        match store.migrate().await {
            Ok(v) => break v,
            Err(cloud_store::StoreError::NewerSchema { found, known }) => {
                anyhow::bail!(
                    "the database schema is version {found}, newer than this build's {known}: upgrade cloud-bridge"
                )
            }
            Err(e) => {
                tracing::warn!("database not ready, retrying in {wait:?}: {e}");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(std::time::Duration::from_secs(5));
            }
        }
    };
    tracing::info!(version, client_id = %config.broker.client_id, "cloud-bridge starting");
    let listener = tokio::net::TcpListener::bind(&config.api.listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {} ([api] listen in cloud.toml)",
                config.api.listen
            )
        })?;
    tracing::info!(listen = %config.api.listen, "HR API listening");
    let mut state = api::ApiState::new(store.clone(), &config);
    if let Some(e) = &config.enrolment {
        state = state.with_signer(api::Signer::load(e).map_err(anyhow::Error::msg)?);
    }
    let app = api::router(state);
    let dispatcher = webhook::Dispatcher::new(store.clone(), &config)?;
    let ingest = mqtt::run(config.broker.clone(), store);
    tokio::select! {
        r = axum::serve(listener, app) => r.context("HR API"),
        r = ingest => r.context("MQTT ingest"),
        () = dispatcher.run() => Ok(()),
        _ = tokio::signal::ctrl_c() => {
            tracing::info!("stopping");
            Ok(())
        }
    }
}
