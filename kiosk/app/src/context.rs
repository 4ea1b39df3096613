//! Loading what every command needs: the station, its roles and lexicon, and the store.

use std::path::Path;

use anyhow::Context as _;
use kiosk_config::{Catalog, Station, load_catalog};
use kiosk_store::{StationIdentity, Store};

use crate::UsageError;

/// A station ready to work.
pub struct Context {
    /// The station.
    pub station: Station,
    /// Roles (the files', with the cloud's in force laid over them) and lexicon.
    pub catalog: Catalog,
    /// The store.
    pub store: Store,
}

impl Context {
    /// Loads and validates the station and its roles, and opens the store.
    pub fn load(station_file: &Path) -> anyhow::Result<Self> {
        let station = Station::load(station_file)
            .map_err(|e| UsageError(format!("invalid configuration:\n{e}")))?;
        let catalog = load_catalog(&station)
            .map_err(|e| UsageError(format!("invalid configuration:\n{e}")))?;
        let store = Store::open_with_key_file(&station.database(), &station.key_file)
            .with_context(|| format!("opening the store of station {}", station_file.display()))?;
        // The cloud's roles in force (the app puts new ones in force between visits).
        let cloud: Vec<_> = store
            .config_in_force()?
            .iter()
            .filter_map(|(key, version, doc)| {
                kiosk_config::parse_cloud_role(key, *version, doc).ok()
            })
            .collect();
        let catalog = catalog.with_cloud_roles(&cloud, station.config.station.roles.as_deref());
        Ok(Self {
            station,
            catalog,
            store,
        })
    }

    /// The station's identity for records and topics.
    pub fn identity(&self) -> StationIdentity {
        let s = &self.station.config.station;
        StationIdentity {
            tenant: s.tenant.clone(),
            store_id: s.store_id.clone(),
            device_id: s.device_id.clone(),
        }
    }

    /// The role with this id, or a usage error listing the roles there are.
    pub fn role(&self, id: &str) -> anyhow::Result<&kiosk_screening::RoleConfig> {
        self.catalog.role(id).ok_or_else(|| {
            UsageError(format!(
                "no role `{id}` at this station; roles: {}",
                self.catalog.ids().join(", ")
            ))
            .into()
        })
    }
}
