//! When a candidate can work — the role's `availability` question: chips tapped (morning,
//! afternoon, night; weekdays, weekend) or a spoken answer read with the lexicon ("I can do
//! nights but not Sundays", "周末不行，白天都可以"). It goes to rostering and never to a score.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::intent::Polarity;
use crate::phrases::PhraseSet;
use crate::text::{Located, Token};

/// A part of the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayPart {
    /// A shift starting before noon.
    Morning,
    /// A shift starting from noon.
    Afternoon,
    /// A night shift.
    Night,
}

/// Weekdays or the weekend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayKind {
    /// Monday to Friday.
    Weekdays,
    /// Saturday and Sunday.
    Weekend,
}

impl DayPart {
    /// Every part, in chip order.
    pub const ALL: [DayPart; 3] = [DayPart::Morning, DayPart::Afternoon, DayPart::Night];
}

impl DayKind {
    /// Both, in chip order.
    pub const ALL: [DayKind; 2] = [DayKind::Weekdays, DayKind::Weekend];
}

/// What the candidate said they can work. An empty set is no restriction.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Availability {
    /// Parts of the day they can work.
    #[serde(default)]
    pub parts: BTreeSet<DayPart>,
    /// Weekdays, weekend or both.
    #[serde(default)]
    pub days: BTreeSet<DayKind>,
}

impl Availability {
    /// `night; weekdays` (`any time` when unrestricted), as stored with the answer.
    pub fn describe(&self) -> String {
        let mut words: Vec<&str> = self
            .parts
            .iter()
            .map(|p| match p {
                DayPart::Morning => "morning",
                DayPart::Afternoon => "afternoon",
                DayPart::Night => "night",
            })
            .collect();
        words.extend(self.days.iter().map(|d| match d {
            DayKind::Weekdays => "weekdays",
            DayKind::Weekend => "weekend",
        }));
        if words.is_empty() {
            "any time".into()
        } else {
            words.join("; ")
        }
    }
}

/// Availability phrases of one language, as `lexicon.toml` writes them.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AvailabilityWords {
    /// Mornings.
    #[serde(default)]
    pub morning: Vec<String>,
    /// Afternoons.
    #[serde(default)]
    pub afternoon: Vec<String>,
    /// Nights.
    #[serde(default)]
    pub night: Vec<String>,
    /// Daytime: mornings and afternoons.
    #[serde(default)]
    pub daytime: Vec<String>,
    /// Weekdays.
    #[serde(default)]
    pub weekdays: Vec<String>,
    /// The weekend (and its days).
    #[serde(default)]
    pub weekend: Vec<String>,
    /// Any time.
    #[serde(default)]
    pub any: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Slot {
    Part(DayPart),
    Daytime,
    Day(DayKind),
    Any,
    Polar(Polarity),
}

/// The compiled availability phrases, with the intent lexicon's refusals and negators.
#[derive(Debug, Clone)]
pub struct AvailabilityReader {
    phrases: PhraseSet<Slot>,
    window: usize,
}

impl AvailabilityReader {
    /// Compiles slot words and the intent words that negate them.
    pub(crate) fn new(
        words: &[&AvailabilityWords],
        refusals: &[(String, Polarity)],
        window: usize,
    ) -> Self {
        let mut phrases: Vec<(String, Slot)> = refusals
            .iter()
            .map(|(p, pol)| (p.clone(), Slot::Polar(*pol)))
            .collect();
        for w in words {
            for (list, slot) in [
                (&w.morning, Slot::Part(DayPart::Morning)),
                (&w.afternoon, Slot::Part(DayPart::Afternoon)),
                (&w.night, Slot::Part(DayPart::Night)),
                (&w.daytime, Slot::Daytime),
                (&w.weekdays, Slot::Day(DayKind::Weekdays)),
                (&w.weekend, Slot::Day(DayKind::Weekend)),
                (&w.any, Slot::Any),
            ] {
                phrases.extend(list.iter().map(|p| (p.clone(), slot)));
            }
        }
        Self {
            phrases: PhraseSet::new(phrases),
            window,
        }
    }

    /// Reads an answer. None when it names no time, or says yes and no to the same one: the
    /// kiosk then shows the chips.
    pub fn read(&self, tokens: &[Located]) -> Option<Availability> {
        let hits = self.phrases.find(tokens);
        let (mut yes_parts, mut no_parts, mut yes_days, mut no_days) = (
            BTreeSet::new(),
            BTreeSet::new(),
            BTreeSet::new(),
            BTreeSet::new(),
        );
        let mut named = false;
        for (i, hit) in hits.iter().enumerate() {
            let parts: Vec<DayPart> = match hit.tag {
                Slot::Part(p) => vec![p],
                Slot::Daytime => vec![DayPart::Morning, DayPart::Afternoon],
                Slot::Any => {
                    named = true;
                    continue;
                }
                _ => vec![],
            };
            let day = match hit.tag {
                Slot::Day(d) => Some(d),
                _ => None,
            };
            if parts.is_empty() && day.is_none() {
                continue;
            }
            named = true;
            // A refusal or negator before it in the same clause ("not Sundays", "不能上夜班"), or a
            // refusal after it ("周末不行", "夜班上不了"), with no other time named between.
            let is_slot = |t: Slot| !matches!(t, Slot::Polar(_));
            let refused = hits.iter().enumerate().any(|(j, h)| {
                let (a, b, forward) = if h.end <= hit.start {
                    (h.end, hit.start, true)
                } else if h.start >= hit.end {
                    (hit.end, h.start, false)
                } else {
                    return false;
                };
                let applies = match h.tag {
                    Slot::Polar(Polarity::No) => true,
                    Slot::Polar(Polarity::Negator) => forward,
                    _ => false,
                };
                let (lo, hi) = (i.min(j), i.max(j));
                applies
                    && b - a <= self.window
                    && !tokens[a..b].iter().any(|t| t.token == Token::Boundary)
                    && !hits[lo + 1..hi].iter().any(|x| is_slot(x.tag))
            });
            let (ps, ds) = if refused {
                (&mut no_parts, &mut no_days)
            } else {
                (&mut yes_parts, &mut yes_days)
            };
            ps.extend(parts);
            ds.extend(day);
        }
        if !named
            || yes_parts.intersection(&no_parts).next().is_some()
            || yes_days.intersection(&no_days).next().is_some()
        {
            return None;
        }
        let a = Availability {
            parts: pick(yes_parts, &no_parts, &DayPart::ALL),
            days: pick(yes_days, &no_days, &DayKind::ALL),
        };
        // Everything refused is not an availability: show the chips.
        let all_refused =
            no_parts.len() == DayPart::ALL.len() || no_days.len() == DayKind::ALL.len();
        (!all_refused).then_some(a)
    }
}

/// What was said yes to; else everything not refused; nothing (no restriction) when nothing
/// was refused ("any time").
fn pick<T: Ord + Copy>(yes: BTreeSet<T>, no: &BTreeSet<T>, all: &[T]) -> BTreeSet<T> {
    if !yes.is_empty() {
        yes
    } else if no.is_empty() {
        BTreeSet::new()
    } else {
        all.iter().copied().filter(|x| !no.contains(x)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intent::Lexicon;
    use crate::text::tokenise;

    fn read(s: &str) -> Option<Availability> {
        let text = include_str!("../../../provisioning/examples/roles/lexicon.toml");
        let lex = Lexicon::new(&toml::from_str(text).expect("shipped lexicon parses"));
        let tokens: Vec<Located> = tokenise(s)
            .into_iter()
            .map(|token| Located { token, segment: 0 })
            .collect();
        lex.read_availability(&tokens)
    }

    fn a(parts: &[DayPart], days: &[DayKind]) -> Option<Availability> {
        Some(Availability {
            parts: parts.iter().copied().collect(),
            days: days.iter().copied().collect(),
        })
    }

    #[test]
    fn spoken_availability_table() {
        use DayKind::*;
        use DayPart::*;
        let cases = [
            ("I can do nights but not Sundays", a(&[Night], &[Weekdays])),
            ("I can't do nights", a(&[Morning, Afternoon], &[])),
            (
                "I can't do nights, but weekends are fine",
                a(&[Morning, Afternoon], &[Weekend]),
            ),
            (
                "mornings and afternoons on weekdays",
                a(&[Morning, Afternoon], &[Weekdays]),
            ),
            ("any time is fine", a(&[], &[])),
            (
                "周末不行，白天都可以",
                a(&[Morning, Afternoon], &[Weekdays]),
            ),
            ("夜班我上不了", a(&[Morning, Afternoon], &[])),
            ("我不能上夜班", a(&[Morning, Afternoon], &[])),
            ("我只能上早班", a(&[Morning], &[])),
            ("都可以", a(&[], &[])),
            ("夜班可以，周末也可以", a(&[Night], &[Weekend])),
            // Unclear: the chips are shown.
            ("I like this company", None),
            ("", None),
            ("nights yes, nights no", None),
            ("不能上夜班也不能上白班", None),
        ];
        for (answer, expected) in cases {
            assert_eq!(read(answer), expected, "answer {answer:?}");
        }
    }
}
