//! Configuration the cloud sends (`config` downlinks): role documents, validated with the same
//! validator as the role files and laid over the station's catalog. Pure: the caller reads the
//! documents from the store and records what was applied or rejected.

use kiosk_screening::{ConfigError, ConfigErrors, RoleConfig, validate_role};
use serde::Deserialize;

use crate::Catalog;

/// The inbox key prefix of a role document (`role:<id>`).
pub const ROLE_KEY_PREFIX: &str = "role:";

/// A role document as the cloud sends it: `{"kind": "role", "role": {…}}`.
#[derive(Debug, Deserialize)]
struct RoleDoc {
    kind: String,
    role: RoleConfig,
}

/// Reads and validates one `config` document (`key`, the downlink's whole JSON message): the
/// role it carries, or the errors (file = `cloud:<key> v<version>`) that keep it out.
pub fn parse_cloud_role(
    key: &str,
    version: i64,
    message: &str,
) -> Result<RoleConfig, ConfigErrors> {
    let file = format!("cloud:{key} v{version}");
    let fail = |field: &str, m: String| ConfigErrors::file(&file, field, m);
    let Some(id) = key.strip_prefix(ROLE_KEY_PREFIX) else {
        return Err(fail(
            "key",
            format!("`{key}` is not a configuration this kiosk knows (expected role:<id>)"),
        ));
    };
    let v: serde_json::Value =
        serde_json::from_str(message).map_err(|e| fail("(message)", format!("not JSON: {e}")))?;
    let doc: RoleDoc = serde_json::from_value(v.get("body").cloned().unwrap_or_default())
        .map_err(|e| fail("body", format!("not a role document: {e}")))?;
    if doc.kind != "role" {
        return Err(fail(
            "body.kind",
            format!("`{}` instead of `role`", doc.kind),
        ));
    }
    if doc.role.id != id {
        return Err(fail(
            "body.role.id",
            format!("`{}` is not the `{id}` of the key", doc.role.id),
        ));
    }
    validate_role(&doc.role, &file)?;
    Ok(doc.role)
}

/// `base` with these cloud roles laid over it: a role of the same id is replaced; a new one is
/// added unless the station lists the roles it offers (`offered`) without it. Sorted by id.
pub fn with_cloud_roles(
    base: &[RoleConfig],
    cloud: &[RoleConfig],
    offered: Option<&[String]>,
) -> Vec<RoleConfig> {
    let mut out = base.to_vec();
    for r in cloud {
        match out.iter_mut().find(|x| x.id == r.id) {
            Some(slot) => *slot = r.clone(),
            None if offered.is_none_or(|o| o.contains(&r.id)) => out.push(r.clone()),
            None => {}
        }
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

impl Catalog {
    /// This catalog with the cloud's roles in force laid over it (see [`with_cloud_roles`]).
    pub fn with_cloud_roles(&self, cloud: &[RoleConfig], offered: Option<&[String]>) -> Catalog {
        Catalog {
            roles: with_cloud_roles(&self.roles, cloud, offered),
            lexicon: self.lexicon.clone(),
        }
    }
}

/// The errors as one line each, for the upstream report and the logs.
pub fn error_lines(e: &ConfigErrors) -> Vec<String> {
    e.0.iter().map(ConfigError::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NURSE: &str = include_str!("../../../provisioning/examples/roles/nurse.toml");

    fn message(role: &serde_json::Value) -> String {
        serde_json::json!({"version": 3, "key": "role:nurse", "body": {"kind": "role", "role": role}})
            .to_string()
    }

    #[test]
    fn a_cloud_role_is_validated_like_a_file_and_laid_over_the_files() {
        let file = kiosk_screening::parse_role(NURSE, "nurse.toml").expect("nurse");
        let mut changed = serde_json::to_value(&file).expect("json");
        changed["pass_threshold"] = serde_json::json!(72);
        let role = parse_cloud_role("role:nurse", 3, &message(&changed)).expect("valid");
        assert_eq!(role.pass_threshold, 72);
        let merged = with_cloud_roles(
            std::slice::from_ref(&file),
            std::slice::from_ref(&role),
            None,
        );
        assert_eq!((merged.len(), merged[0].pass_threshold), (1, 72));
        // Not offered by a station that lists its roles: not added.
        let mut other = role.clone();
        other.id = "cashier".into();
        let offered = vec!["nurse".to_string()];
        assert_eq!(
            with_cloud_roles(
                std::slice::from_ref(&file),
                std::slice::from_ref(&other),
                Some(&offered)
            )
            .len(),
            1
        );
        assert_eq!(with_cloud_roles(&[file], &[other], None).len(), 2);

        let mut bad = changed.clone();
        bad["pass_threshold"] = serde_json::json!(170);
        let cases = [
            ("role:nurse", message(&bad), "pass_threshold"),
            ("station", message(&changed), "key"),
            ("role:cashier", message(&changed), "body.role.id"),
            ("role:nurse", "{not json".to_string(), "(message)"),
            (
                "role:nurse",
                r#"{"version":3,"body":{"kind":"role"}}"#.to_string(),
                "body",
            ),
        ];
        for (key, msg, field) in cases {
            let err = parse_cloud_role(key, 3, &msg).expect_err(field);
            assert!(
                err.0
                    .iter()
                    .any(|e| e.field == field && e.file == format!("cloud:{key} v3")),
                "{err}"
            );
        }
    }
}
