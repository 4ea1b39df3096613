//! Validation of role and lexicon files: every shipped file is valid, every broken one is named precisely.

mod common;

use kiosk_screening::{parse_lexicon, parse_role};

const GOOD: &str = include_str!("../../../provisioning/examples/roles/factory-worker.toml");

#[test]
fn shipped_roles_are_valid() {
    for id in ["factory-worker", "sales-associate", "nurse"] {
        let r = common::role(id);
        assert_eq!(r.id, id);
        assert_eq!(r.dimensions.iter().map(|d| d.weight).sum::<i64>(), 100);
    }
    assert_eq!(
        common::role("factory-worker")
            .dimension("communication")
            .map(|d| d.weight),
        Some(70)
    );
}

/// Each case edits the good file and names the field the error must point at.
#[test]
fn broken_roles_are_rejected_with_file_role_and_field() {
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            "weight = 70",
            "weight = 60",
            "dimensions[].weight",
            "sum to 90",
        ),
        (
            "dimension = \"willingness\"\nweight = 4",
            "dimension = \"grit\"\nweight = 4",
            "questions[1].rules[0].dimension",
            "`grit` is not declared",
        ),
        (
            ", en = \"Can you accept two-shift work (day and night)?\"",
            "",
            "questions[1].prompt.en",
            "missing English",
        ),
        (
            "time_limit_s = 20",
            "time_limit_s = 0",
            "questions[1].time_limit_s",
            "must be positive",
        ),
        (
            "kind = \"spoken\"\ntime_limit_s = 20",
            "kind = \"tap\"\ntime_limit_s = 20",
            "",
            "(no error)",
        ),
        (
            "pass_threshold = 60",
            "pass_threshold = 160",
            "pass_threshold",
            "between 0 and 100",
        ),
        (
            "yes = 100",
            "yes = 130",
            "questions[1].rules[0].yes",
            "between 0 and 100",
        ),
        (
            "id = \"experience\"",
            "id = \"motivation\"",
            "questions[2].id",
            "unique",
        ),
        (
            "curve = [[1, 100], [4, 90], [10, 50]]",
            "curve = [[4, 100], [1, 90]]",
            "questions[0].rules[3].curve",
            "strictly increase",
        ),
    ];
    for (from, to, field, message) in cases {
        assert!(GOOD.contains(from), "fixture text {from:?} not found");
        let text = GOOD.replacen(from, to, 1);
        let result = parse_role(&text, "roles/factory-worker.toml");
        if field.is_empty() {
            assert!(
                result.is_ok(),
                "{from:?} → {to:?} should stay valid: {:?}",
                result.err()
            );
            continue;
        }
        let errs = result.expect_err("must be rejected");
        let e = errs
            .0
            .iter()
            .find(|e| e.field == *field)
            .unwrap_or_else(|| panic!("no error on {field}: {errs}"));
        assert_eq!(e.file, "roles/factory-worker.toml");
        assert_eq!(e.role.as_deref(), Some("factory-worker"));
        assert!(e.message.contains(message), "{e}");
        let shown = e.to_string();
        assert!(
            shown.contains("roles/factory-worker.toml")
                && shown.contains("factory-worker")
                && shown.contains(field),
            "{shown}"
        );
    }
}

#[test]
fn a_tap_question_takes_only_intent_rules() {
    let text = GOOD.replacen(
        "kind = \"spoken\"\ntime_limit_s = 30",
        "kind = \"tap\"\ntime_limit_s = 30",
        1,
    );
    let errs = parse_role(&text, "f.toml").expect_err("keywords on a tap question");
    assert!(
        errs.0
            .iter()
            .any(|e| e.field == "questions[0].rules[0].type"),
        "{errs}"
    );
}

#[test]
fn a_declared_dimension_nobody_feeds_is_an_error() {
    let text = GOOD.replacen(
        "[[dimensions]]\nid = \"willingness\"",
        "[[dimensions]]\nid = \"punctuality\"\nname = { zh = \"守时\", en = \"Punctuality\" }\nweight = 0\n\n[[dimensions]]\nid = \"willingness\"",
        1,
    );
    let errs = parse_role(&text, "f.toml").expect_err("unused dimension");
    assert!(
        errs.to_string()
            .contains("`punctuality` is declared but no rule feeds it"),
        "{errs}"
    );
    assert!(
        errs.0.iter().any(|e| e.field == "dimensions[1].weight"),
        "{errs}"
    );
}

#[test]
fn syntax_errors_and_unknown_fields_name_the_file() {
    let errs = parse_role("id = \"x\"\nthis is not toml", "roles/broken.toml").expect_err("syntax");
    assert!(
        errs.to_string()
            .starts_with("roles/broken.toml: field `(file)`"),
        "{errs}"
    );
    let typo = GOOD.replacen("pass_threshold", "pass_treshold", 1);
    let errs = parse_role(&typo, "roles/typo.toml").expect_err("unknown field");
    assert!(errs.to_string().contains("pass_treshold"), "{errs}");
}

#[test]
fn lexicon_needs_yes_and_no_words() {
    assert!(parse_lexicon("[intent.en]\nyes = [\"yes\"]\nno = [\"no\"]\n", "l.toml").is_ok());
    let errs = parse_lexicon("[intent.en]\nyes = [\"yes\"]\n", "l.toml").expect_err("no refusals");
    assert_eq!(errs.0[0].field, "intent.en.no");
    assert!(parse_lexicon("negation_window = 2\n[intent]\n", "l.toml").is_err());
}
