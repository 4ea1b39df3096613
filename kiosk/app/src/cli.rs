//! Command-line definitions. Command and flag names are a contract that tests and tools rely on.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// On-premise AI interview kiosk.
#[derive(Debug, Parser)]
#[command(name = "kiosk", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List local results, newest first.
    Results {
        /// The station file.
        #[arg(long)]
        station: PathBuf,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Score typed answers (one --answer per question, in order) without any model, store the
    /// result like a real interview (marked as typed) and print it with its evidence.
    Score {
        /// The station file.
        #[arg(long)]
        station: PathBuf,
        /// Role id, e.g. factory-worker.
        #[arg(long)]
        role: String,
        /// An answer; repeat once per question, in order. Use "" for no answer.
        #[arg(long = "answer", required = true)]
        answers: Vec<String>,
        /// Candidate name to store with the result.
        #[arg(long)]
        name: Option<String>,
        /// Candidate phone to store with the result.
        #[arg(long)]
        phone: Option<String>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Score and store the sample candidates of a demo file, then list the results.
    Demo {
        /// The station file.
        #[arg(long)]
        station: PathBuf,
        /// Sample candidates (default: demo-answers.toml beside the station file).
        #[arg(long)]
        answers: Option<PathBuf>,
        /// Go through the samples this many times.
        #[arg(long, default_value_t = 1)]
        rounds: u64,
        /// Print only the final summary line.
        #[arg(long)]
        quiet: bool,
    },
}
