//! Everything a candidate or manager can do, as one message type: buttons carry an [`Action`],
//! tests and the demo send them directly, and screen systems read them.

use bevy::prelude::*;
use kiosk_store::Decision;

use crate::state::Field;

/// A tap (or the demo's / a test's equivalent).
#[derive(Message, Component, Debug, Clone, PartialEq)]
pub enum Action {
    /// Choose the language.
    Language(&'static str),
    /// Attract → consent.
    Start,
    /// Consent to voice and camera.
    ConsentAll,
    /// Consent to voice only.
    ConsentVoiceOnly,
    /// Decline: back to attract, nothing stored.
    Decline,
    /// Focus a text field.
    Focus(Field),
    /// Type a character into the focused field.
    Key(char),
    /// Delete the last character of the focused field.
    Backspace,
    /// Choose a role.
    Role(String),
    /// Go on from the current screen.
    Next,
    /// "I'm done" on a spoken question.
    Finished,
    /// Yes or no on a tap question.
    Tap(bool),
    /// Availability: toggle a part of the day.
    Part(kiosk_screening::DayPart),
    /// Availability: toggle weekdays or the weekend.
    Days(kiosk_screening::DayKind),
    /// Availability: the chips are chosen.
    Choose,
    /// The hidden manager gesture (a long press in the top-left corner).
    Manager,
    /// A digit on the PIN pad.
    PinDigit(u8),
    /// Clear the PIN pad.
    PinClear,
    /// Check the PIN.
    PinEnter,
    /// Leave the PIN pad.
    Cancel,
    /// Manager: a tab (today, status, roster).
    Tab(crate::Screen),
    /// Manager: open one interview.
    Open(String),
    /// Manager: choose a reason for the next decision.
    Reason(&'static str),
    /// Manager: decide.
    Decide(Decision),
    /// Manager: delete the open candidate's personal data (the first tap asks for a second).
    Forget,
    /// Manager: play an answer's audio.
    Play(String),
    /// Manager: sign out.
    Logout,
}

/// Buttons whose interaction changed this frame.
type ChangedButtons = (Changed<Interaction>, With<Button>);

/// Turns presses on buttons into actions.
pub fn buttons(
    pressed: Query<(&Interaction, &Action), ChangedButtons>,
    mut out: MessageWriter<Action>,
) {
    for (i, a) in &pressed {
        if *i == Interaction::Pressed {
            out.write(a.clone());
        }
    }
}
