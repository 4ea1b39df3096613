//! Command-line definitions. Command and flag names are a contract that tests and tools rely on.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

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
        /// Who the candidate is.
        #[command(flatten)]
        candidate: CandidateArgs,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Run VAD + speech recognition on WAV files and print each transcript and the time spent.
    Transcribe {
        /// The station file.
        #[arg(long)]
        station: PathBuf,
        /// Language: zh-CN or en (default: the station's).
        #[arg(long)]
        locale: Option<String>,
        /// 16 kHz WAV files.
        #[arg(required_unless_present = "mic")]
        files: Vec<PathBuf>,
        /// Capture one answer from the microphone instead (until it ends, or --max-seconds).
        #[arg(long)]
        mic: bool,
        /// Microphone device (part of its name); default: the system default.
        #[arg(long)]
        device: Option<String>,
        /// Longest answer captured from the microphone.
        #[arg(long, default_value_t = 30)]
        max_seconds: u64,
        /// Domain prompt for speech recognition, as a role's `asr_prompt` (default: a general
        /// one for Chinese, none for English; "" for none at all).
        #[arg(long)]
        prompt: Option<String>,
        /// Print JSON: an array of {file, transcript, asr_ms, audio_ms}.
        #[arg(long)]
        json: bool,
    },
    /// A full screening from recorded answers (one WAV per question, in order): VAD, speech
    /// recognition, metrics, scoring; stored with its outbox event like any interview.
    Interview {
        /// The station file.
        #[arg(long)]
        station: PathBuf,
        /// Role id.
        #[arg(long)]
        role: String,
        /// A recorded answer (16 kHz WAV); repeat once per question, in order.
        #[arg(
            long = "answer",
            required_unless_present = "mic",
            conflicts_with = "mic"
        )]
        answers: Vec<PathBuf>,
        /// Capture each answer live from the microphone (the question is printed; each answer ends
        /// on trailing silence or the question's time limit).
        #[arg(long)]
        mic: bool,
        /// Microphone device (part of its name); default: the system default.
        #[arg(long)]
        device: Option<String>,
        /// Camera frames: an image, or a folder of frames (presence report; needs face consent).
        #[arg(long)]
        camera: Option<PathBuf>,
        /// Language of the answers: zh-CN or en (default: the station's).
        #[arg(long)]
        locale: Option<String>,
        /// Who the candidate is.
        #[command(flatten)]
        candidate: CandidateArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Verify every model (checksum, load, a tiny inference), the microphone and the camera,
    /// and print a table of what is OK and what is not. Exit code 1 when anything is not.
    Check {
        /// The station file.
        #[arg(long)]
        station: PathBuf,
        /// Camera index to try (default: the station's `[kiosk] camera_index`).
        #[arg(long)]
        camera_index: Option<u32>,
        /// Print JSON (`{ok, failed, checks: [{check, ok, detail}]}`): the box's health for tools.
        #[arg(long)]
        json: bool,
    },
    /// Open the fullscreen kiosk app (candidate interview and manager review).
    Run(RunArgs),
    /// The frame-rate bench's peer: an empty window like the kiosk's for some seconds, then its
    /// frame times as JSON (`kiosk run --bench-fps` runs it first, in a process of its own).
    #[command(hide = true)]
    EmptyWindow {
        /// How long to run.
        #[arg(long, default_value_t = 12.0)]
        seconds: f64,
        /// A 1280×800 window instead of fullscreen.
        #[arg(long)]
        windowed: bool,
    },
    /// Print an argon2id hash of a manager PIN for `manager_pin_hash` in station.toml.
    SetPin,
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
    /// Run the retention rules now: expired answer audio, audio files no interview points to,
    /// and the personal data of interviews the cloud has had for `personal_data_days` (data the
    /// cloud does not have is never purged). A daily timer runs it (provisioning/systemd).
    Purge {
        /// The station file.
        #[arg(long)]
        station: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Enrol this box with central HR, once, with the one-time token HR issued for it: makes the
    /// device key (it never leaves the box), sends a certificate request, and writes the
    /// certificate, the CA and the broker's address into `station.d/50-enrolment.toml` beside the
    /// station file (which is not rewritten). Then restart sync-agent.
    Enroll {
        /// The station file.
        #[arg(long)]
        station: PathBuf,
        /// The central service (cloud-bridge) URL: https://…, or http:// to this machine only.
        #[arg(long)]
        url: String,
        /// The one-time enrolment token.
        #[arg(long)]
        token: String,
        /// A CA certificate (PEM) to trust for the URL instead of the public web's roots.
        #[arg(long)]
        ca: Option<PathBuf>,
    },
    /// Make the store key at `[station] key_file` (64 hex digits, 0600), at provisioning. An
    /// existing key is never replaced. Prints its fingerprint; keep a copy with central IT.
    Keygen {
        /// The station file.
        #[arg(long)]
        station: PathBuf,
    },
    /// Copy the database (still encrypted with the store key) and the sealed answer audio into
    /// a new folder, with a manifest. Keep the store key apart from it: without the key the
    /// backup cannot be read, and with it, it can (see the README, "Store key").
    Backup {
        /// The station file.
        #[arg(long)]
        station: PathBuf,
        /// The folder to write (new, or empty).
        #[arg(long)]
        out: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Put a backup in place on this (replacement) kiosk: its store key must be the backup's,
    /// and its database must not exist yet. Stop the kiosk and the sync agent first.
    Restore {
        /// The station file.
        #[arg(long)]
        station: PathBuf,
        /// The backup folder (`kiosk backup --out`).
        #[arg(long)]
        from: PathBuf,
    },
    /// Delete a candidate's personal data from this kiosk on request: candidate, answers,
    /// transcripts, result, decisions, audio and every outbox copy (a pending event is never
    /// sent). A tombstone without personal data stays, and the cloud is told, which deletes its
    /// copy too.
    Forget {
        /// The station file.
        #[arg(long)]
        station: PathBuf,
        /// The candidate's receipt code (e.g. 7KQ2-M9XD).
        #[arg(long, group = "who")]
        receipt: Option<String>,
        /// The interview id.
        #[arg(long, group = "who")]
        interview: Option<String>,
        /// The candidate's phone number (every candidate with it).
        #[arg(long, group = "who")]
        phone: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// The candidate's details stored with a result.
#[derive(Debug, Args)]
pub struct CandidateArgs {
    /// Candidate name to store with the result.
    #[arg(long)]
    pub name: Option<String>,
    /// Candidate phone to store with the result.
    #[arg(long)]
    pub phone: Option<String>,
}

impl From<CandidateArgs> for kiosk_store::Candidate {
    fn from(c: CandidateArgs) -> Self {
        Self {
            name: c.name,
            phone: c.phone,
        }
    }
}

/// `kiosk run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The station file.
    #[arg(long)]
    pub station: PathBuf,
    /// Play a full interview and the manager's review from prepared answers (see --clips),
    /// with a face image as the camera: watch it without any hardware.
    #[arg(long)]
    pub demo: bool,
    /// Spoken question prompts: a folder of `<role id>/<question id>.<zh|en>.wav` (16 kHz),
    /// instead of the station's `prompt_audio_dir`.
    #[arg(long)]
    pub prompt_audio: Option<PathBuf>,
    /// Screenshot tour: every screen in both languages saved as PNG in this folder, then exit.
    #[arg(long, conflicts_with = "demo")]
    pub tour: Option<PathBuf>,
    /// Prepared answers: a folder with `en/` and `zh-CN/` subfolders of 16 kHz WAVs, played in
    /// name order (the first is said during the device check). Used instead of a microphone.
    #[arg(long)]
    pub clips: Option<PathBuf>,
    /// With --clips: feed each clip through ALSA's default device, which must be a `file`
    /// PCM reading this path (real capture through cpal; see provisioning/dev.sh demo).
    #[arg(long, requires = "clips", conflicts_with = "speak_clips")]
    pub alsa_infile: Option<PathBuf>,
    /// With --clips: speak each clip on the speaker while the microphone listens (the demo
    /// points both at one PulseAudio null sink: capture paced like a real microphone).
    #[arg(long, requires = "clips")]
    pub speak_clips: bool,
    /// A still image or a folder of frames instead of the camera.
    #[arg(long)]
    pub camera_file: Option<PathBuf>,
    /// Language the demo candidate uses: zh-CN or en.
    #[arg(long, default_value = "en")]
    pub demo_locale: String,
    /// The manager PIN the demo and tour type (must match manager_pin_hash).
    #[arg(long, default_value = "2468")]
    pub demo_pin: String,
    /// Quit when the demo has finished.
    #[arg(long)]
    pub exit: bool,
    /// A 1280×800 window instead of fullscreen.
    #[arg(long)]
    pub windowed: bool,
    /// The window's size with --windowed, e.g. 1920x1080.
    #[arg(long, value_parser = parse_size, requires = "windowed")]
    pub window_size: Option<(u32, u32)>,
    /// Print a frame-time table (fps while the models run) when the app exits.
    #[arg(long)]
    pub bench_fps: bool,
    /// Font file with Chinese and Latin glyphs.
    #[arg(long)]
    pub font: Option<PathBuf>,
}

/// `WIDTHxHEIGHT`, e.g. `1920x1080`.
fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let bad = || format!("`{s}` is not a size like 1920x1080");
    let (w, h) = s.split_once(['x', 'X']).ok_or_else(bad)?;
    let (w, h) = (w.parse().map_err(|_| bad())?, h.parse().map_err(|_| bad())?);
    if (320..=8192).contains(&w) && (240..=8192).contains(&h) {
        Ok((w, h))
    } else {
        Err(bad())
    }
}
