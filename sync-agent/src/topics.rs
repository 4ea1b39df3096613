//! The MQTT topic tree of one device: `kiosk/v1/{tenant}/{store_id}/{device_id}/…`.

use kiosk_store::StationIdentity;

/// Topics of one device.
#[derive(Debug, Clone)]
pub struct Topics {
    base: String,
}

impl Topics {
    /// Topics for this station.
    pub fn new(id: &StationIdentity) -> Self {
        Self {
            base: format!("kiosk/v1/{}/{}/{}", id.tenant, id.store_id, id.device_id),
        }
    }

    /// Retained presence: `online`, or `offline` (graceful stop or last will).
    pub fn status(&self) -> String {
        format!("{}/status", self.base)
    }

    /// Retained periodic health.
    pub fn health(&self) -> String {
        format!("{}/health", self.base)
    }

    /// What the cloud sends this device: `…/down/{config|roster|deletion_request}`.
    pub fn downlink_filter(&self) -> String {
        format!("{}/down/#", self.base)
    }

    /// The downlink message type of a topic under this device's `down/`, if it is one.
    pub fn downlink_kind<'a>(&self, topic: &'a str) -> Option<&'a str> {
        topic
            .strip_prefix(self.base.as_str())?
            .strip_prefix("/down/")
    }
}
