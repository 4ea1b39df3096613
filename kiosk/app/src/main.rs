//! The `kiosk` binary: parses the command line, sets up logging and maps failures to exit codes
//! (2: bad usage or configuration, 1: anything else).

mod cli;
mod commands;
mod context;
mod render;
mod speech;

use std::process::ExitCode;

use clap::Parser;

/// A mistake in what the user asked for or configured: exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    // The services (the app, the daily purge) log at the station's `[log] level`, into the
    // journal under systemd; the one-shot tools only warnings.
    let logging = match &cli.command {
        cli::Command::Run(a) => {
            kiosk_service::init_logging(kiosk_config::log_level(&a.station).as_deref(), "info")
        }
        cli::Command::Purge { station, .. } => {
            kiosk_service::init_logging(kiosk_config::log_level(station).as_deref(), "info")
        }
        _ => kiosk_service::init_logging(None, "warn"),
    };
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            logging.print_error(format_args!("{e:#}"));
            let not_owner = e
                .downcast_ref::<kiosk_store::StoreError>()
                .is_some_and(|s| matches!(s, kiosk_store::StoreError::NotOwner { .. }));
            if e.downcast_ref::<UsageError>().is_some() || not_owner {
                ExitCode::from(2)
            } else {
                ExitCode::from(1)
            }
        }
    }
}
