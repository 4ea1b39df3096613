//! MQTT connection options: identity, session, keep-alive, last will and TLS (pinned CA, client certificate).

use std::time::Duration;

use kiosk_config::Station;
use rumqttc::v5::MqttOptions;
use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::LastWill;
use rumqttc::{TlsConfiguration, Transport};

use crate::topics::Topics;

/// How long the broker keeps this device's session (and queued downlink) while it is offline.
pub const SESSION_EXPIRY_S: u32 = 7 * 24 * 3600;

/// A file named in `[broker]` could not be read.
#[derive(Debug, thiserror::Error)]
#[error(
    "cannot read {what} {path}: {source} (check [broker] in the station file; a box not enrolled yet gets these files from `kiosk enroll`)"
)]
pub struct TlsFileError {
    what: &'static str,
    path: String,
    source: std::io::Error,
}

/// The presence message (retained on the status topic).
pub fn presence(station: &Station, state: &str, reason: &str) -> String {
    serde_json::json!({
        "state": state,
        "reason": reason,
        "device": station.config.station.device_id,
        "at": chrono::Local::now().fixed_offset().to_rfc3339(),
    })
    .to_string()
}

/// Builds the connection options for this station.
pub fn options(station: &Station, topics: &Topics) -> Result<MqttOptions, TlsFileError> {
    let s = &station.config.station;
    let b = &station.config.broker;
    let sync = &station.config.sync;
    let mut o = MqttOptions::new(s.device_id.clone(), b.host.clone(), b.port as u16);
    o.set_keep_alive(Duration::from_secs(sync.keep_alive_s))
        .set_clean_start(false)
        .set_session_expiry_interval(Some(SESSION_EXPIRY_S))
        .set_manual_acks(true)
        .set_max_packet_size(Some(crate::downlink::MAX_PACKET_BYTES))
        .set_connection_timeout(10)
        .set_request_channel_capacity(sync.window * 2 + 64)
        .set_last_will(LastWill::new(
            topics.status(),
            presence(station, "offline", "connection lost"),
            QoS::AtLeastOnce,
            true,
            None,
        ));
    if let Some(tls) = &station.tls {
        let read = |what: &'static str, path: &std::path::Path| {
            std::fs::read(path).map_err(|source| TlsFileError {
                what,
                path: path.display().to_string(),
                source,
            })
        };
        o.set_transport(Transport::tls_with_config(TlsConfiguration::Simple {
            ca: read("CA certificate", &tls.ca)?,
            alpn: None,
            client_auth: Some((
                read("client certificate", &tls.cert)?,
                read("client key", &tls.key)?,
            )),
        }));
    }
    Ok(o)
}
