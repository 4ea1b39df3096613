//! The kiosk's fullscreen Bevy app: the candidate's one-minute interview (attract, consent,
//! details, device check, questions, thank-you) and the store manager's review behind a PIN.
//!
//! Bevy systems only adapt: screening logic is in `kiosk-screening`, devices and models in
//! `kiosk-perception`, SQL in `kiosk-store`; everything that blocks runs on [`workers`].

pub mod action;
pub mod app;
pub mod bench;
pub mod demo;
pub mod devices;
pub mod evidence;
pub mod pin_gate;
pub mod prompts;
pub mod roster_text;
pub mod run;
pub mod screens;
pub mod state;
pub mod strings;
pub mod theme;
pub mod watchdog;
pub mod workers;

pub use app::{KioskPlugin, Setup, build_setup};
pub use state::{Screen, Visit};
