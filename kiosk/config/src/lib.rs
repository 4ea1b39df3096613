//! Station and role configuration from disk: `station.toml`, the roles folder and its `lexicon.toml`.
//!
//! Relative paths in `station.toml` resolve against the station file's folder. Every error names
//! the file and the field (and the role, for role files); an invalid configuration never starts a
//! screening.

mod cloud;
mod station;

pub use cloud::{ROLE_KEY_PREFIX, error_lines, parse_cloud_role, with_cloud_roles};
pub use kiosk_screening::{ConfigError, ConfigErrors};
pub use station::{
    BrokerConfig, KioskSettings, LogSettings, SpeechSettings, Station, StationConfig, SyncSettings,
    TlsFiles, log_level,
};

use std::path::Path;

use kiosk_screening::{Lexicon, RoleConfig, parse_lexicon, parse_role};

/// Name of the lexicon file inside the roles folder.
pub const LEXICON_FILE: &str = "lexicon.toml";

/// The roles a station offers, with the lexicon they are scored with.
#[derive(Debug, Clone)]
pub struct Catalog {
    /// Roles, sorted by id.
    pub roles: Vec<RoleConfig>,
    /// The compiled lexicon.
    pub lexicon: Lexicon,
}

impl Catalog {
    /// The role with this id.
    pub fn role(&self, id: &str) -> Option<&RoleConfig> {
        self.roles.iter().find(|r| r.id == id)
    }

    /// Role ids, for "did you mean" messages.
    pub fn ids(&self) -> Vec<&str> {
        self.roles.iter().map(|r| r.id.as_str()).collect()
    }
}

pub(crate) fn read(path: &Path) -> Result<String, ConfigErrors> {
    std::fs::read_to_string(path).map_err(|e| {
        ConfigErrors::file(
            &path.display().to_string(),
            "(file)",
            format!("cannot be read: {e}"),
        )
    })
}

/// Loads and validates every role file and the lexicon in `dir`; keeps the roles the station offers.
pub fn load_catalog(station: &Station) -> Result<Catalog, ConfigErrors> {
    let dir = &station.roles_dir;
    let lex_path = dir.join(LEXICON_FILE);
    let lexicon = parse_lexicon(&read(&lex_path)?, &lex_path.display().to_string())?;
    let entries = std::fs::read_dir(dir).map_err(|e| {
        ConfigErrors::file(
            &station.file.display().to_string(),
            "station.roles_dir",
            format!("{}: {e}", dir.display()),
        )
    })?;
    let mut files: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.extension().is_some_and(|x| x == "toml")
                && p.file_name().is_some_and(|n| n != LEXICON_FILE)
        })
        .collect();
    files.sort();
    let mut roles: Vec<RoleConfig> = Vec::new();
    let mut errors = Vec::new();
    for path in files {
        let name = path.display().to_string();
        match read(&path).and_then(|text| parse_role(&text, &name)) {
            Ok(role) if roles.iter().any(|r| r.id == role.id) => errors.push(ConfigError {
                file: name,
                role: Some(role.id.clone()),
                field: "id".into(),
                message: "another role file already uses this id".into(),
            }),
            Ok(role) => roles.push(role),
            Err(e) => errors.extend(e.0),
        }
    }
    if let Some(offered) = &station.config.station.roles {
        for (i, id) in offered.iter().enumerate() {
            if !roles.iter().any(|r| &r.id == id) {
                errors.push(ConfigError {
                    file: station.file.display().to_string(),
                    role: None,
                    field: format!("station.roles[{i}]"),
                    message: format!("no role `{id}` in {}", dir.display()),
                });
            }
        }
        roles.retain(|r| offered.contains(&r.id));
    }
    if roles.is_empty() && errors.is_empty() {
        errors.push(ConfigError {
            file: station.file.display().to_string(),
            role: None,
            field: "station.roles_dir".into(),
            message: format!("no role files (*.toml) in {}", dir.display()),
        });
    }
    if !errors.is_empty() {
        return Err(ConfigErrors(errors));
    }
    roles.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(Catalog {
        roles,
        lexicon: Lexicon::new(&lexicon),
    })
}
