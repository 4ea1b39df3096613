//! The topic tree: `kiosk/v1/{tenant}/{store}/{device}/events/{type}`, `…/status`, `…/health`
//! and `…/down/{kind}`.

/// Where a device's topics start.
pub fn device_base(tenant: &str, store: &str, device: &str) -> String {
    format!("kiosk/v1/{tenant}/{store}/{device}")
}

/// The filter of every event of the fleet (for a shared subscription, prefix `$share/{group}/`).
pub const EVENTS_FILTER: &str = "kiosk/v1/+/+/+/events/#";
/// Retained presence of every device.
pub const STATUS_FILTER: &str = "kiosk/v1/+/+/+/status";
/// Retained health of every device.
pub const HEALTH_FILTER: &str = "kiosk/v1/+/+/+/health";

/// What a topic under a device is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TopicKind {
    /// `events/{type}`.
    Event(String),
    /// `status`.
    Status,
    /// `health`.
    Health,
    /// `down/{kind}`.
    Down(String),
}

/// A parsed device topic. The path's tenant and store are claims: the cloud trusts its device
/// registry, not the topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceTopic {
    /// Tenant level.
    pub tenant: String,
    /// Store level.
    pub store: String,
    /// Device level.
    pub device: String,
    /// What follows the device.
    pub kind: TopicKind,
}

/// Parses a topic of the tree, or `None`.
pub fn parse_topic(topic: &str) -> Option<DeviceTopic> {
    let rest = topic.strip_prefix("kiosk/v1/")?;
    let mut parts = rest.splitn(4, '/');
    let tenant = parts.next().filter(|s| !s.is_empty())?;
    let store = parts.next().filter(|s| !s.is_empty())?;
    let device = parts.next().filter(|s| !s.is_empty())?;
    let tail = parts.next()?;
    let kind = match tail.split_once('/') {
        None if tail == "status" => TopicKind::Status,
        None if tail == "health" => TopicKind::Health,
        Some(("events", t)) if !t.is_empty() && !t.contains('/') => TopicKind::Event(t.into()),
        Some(("down", k)) if !k.is_empty() && !k.contains('/') => TopicKind::Down(k.into()),
        _ => return None,
    };
    Some(DeviceTopic {
        tenant: tenant.into(),
        store: store.into(),
        device: device.into(),
        kind,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_round_trip() {
        let t = parse_topic("kiosk/v1/acme/s1/k1/events/decision").expect("parsed");
        assert_eq!(
            (t.tenant.as_str(), t.store.as_str(), t.device.as_str()),
            ("acme", "s1", "k1")
        );
        assert_eq!(t.kind, TopicKind::Event("decision".into()));
        assert_eq!(
            parse_topic("kiosk/v1/acme/s1/k1/status").map(|t| t.kind),
            Some(TopicKind::Status)
        );
        assert_eq!(
            parse_topic("kiosk/v1/acme/s1/k1/down/receipt").map(|t| t.kind),
            Some(TopicKind::Down("receipt".into()))
        );
        for bad in [
            "kiosk/v2/a/b/c/status",
            "kiosk/v1/a/b/status",
            "kiosk/v1/a/b/c/events/",
            "kiosk/v1/a/b/c/events/x/y",
            "kiosk/v1//b/c/status",
        ] {
            assert_eq!(parse_topic(bad), None, "{bad}");
        }
    }
}
