//! Enrolment: HR issues a one-time token for a device path (`POST /v1/devices/enrolment-tokens`,
//! bearer token, own tenant only); the box sends it once with a certificate request
//! (`POST /v1/enroll`, no bearer: the token is the credential) and gets a client certificate whose
//! CN is the device's whole path (what the broker's ACL keys on), the CA that pins the broker and
//! the broker's address. The box's key never leaves it; the fleet CA's never leaves here. A token
//! works once: the second use is refused.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use chrono::{Datelike as _, Utc};
use cloud_store::{EnrolRefused, Enrolled};
use rcgen::{
    CertificateParams, CertificateRevocationListParams, CertificateSigningRequestParams,
    DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod, KeyPair,
    KeyUsagePurpose, RevocationReason, RevokedCertParams, SerialNumber,
};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{ApiError, ApiState, caller, digest};
use crate::config::Enrolment;

/// The fleet CA and what boxes are told about the broker.
#[derive(Debug)]
pub struct Signer {
    issuer: Issuer<'static, KeyPair>,
    broker_ca_pem: String,
    broker_host: String,
    broker_port: u16,
    token_hours: u32,
    certificate_days: u32,
}

impl Signer {
    /// Reads the CA certificate and key named in `[enrolment]`.
    pub fn load(c: &Enrolment) -> Result<Self, String> {
        let read = |what: &str, p: &std::path::Path| {
            std::fs::read_to_string(p).map_err(|e| format!("enrolment.{what} {}: {e}", p.display()))
        };
        let key = KeyPair::from_pem(&read("ca_key", &c.ca_key)?)
            .map_err(|e| format!("enrolment.ca_key: not a PKCS#8 PEM private key: {e}"))?;
        let ca_pem = read("ca_cert", &c.ca_cert)?;
        let issuer = Issuer::from_ca_cert_pem(&ca_pem, key)
            .map_err(|e| format!("enrolment.ca_cert: not a PEM certificate: {e}"))?;
        let broker_ca_pem = match &c.broker_ca {
            Some(p) => read("broker_ca", p)?,
            None => ca_pem,
        };
        Ok(Self {
            issuer,
            broker_ca_pem,
            broker_host: c.broker_host.clone(),
            broker_port: c.broker_port,
            token_hours: c.token_hours,
            certificate_days: c.certificate_days,
        })
    }

    /// A client certificate for `device` on the request's public key; nothing else of the request
    /// is taken (its subject, extensions and names are the box's word, not ours).
    fn sign(
        &self,
        mut csr: CertificateSigningRequestParams,
        device: &Enrolled,
        serial: &[u8],
    ) -> Result<String, rcgen::Error> {
        let mut p = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, device.path());
        p.distinguished_name = dn;
        let today = Utc::now().date_naive();
        let until = today + chrono::Days::new(u64::from(self.certificate_days));
        // A day's margin before now for boxes whose clock is a little behind.
        let from = today - chrono::Days::new(1);
        p.not_before = rcgen::date_time_ymd(from.year(), from.month() as u8, from.day() as u8);
        p.not_after = rcgen::date_time_ymd(until.year(), until.month() as u8, until.day() as u8);
        p.serial_number = Some(SerialNumber::from_slice(serial));
        p.is_ca = IsCa::ExplicitNoCa;
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        p.use_authority_key_identifier_extension = true;
        csr.params = p;
        Ok(csr.signed_by(&self.issuer)?.pem())
    }
}

impl Signer {
    /// The CRL (PEM) listing these revoked serials (hex), valid for a year: the broker refuses
    /// an expired CRL, so it is rewritten at every retirement and by `enrolment crl`.
    pub fn crl(&self, revoked: &[(String, chrono::DateTime<Utc>)]) -> Result<String, String> {
        let day =
            |d: chrono::NaiveDate| rcgen::date_time_ymd(d.year(), d.month() as u8, d.day() as u8);
        let today = Utc::now().date_naive();
        let revoked_certs = revoked
            .iter()
            .map(|(serial, at)| {
                let bytes = (0..serial.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(serial.get(i..i + 2).unwrap_or("zz"), 16))
                    .collect::<Result<Vec<u8>, _>>()
                    .map_err(|_| format!("stored serial `{serial}` is not hex"))?;
                Ok(RevokedCertParams {
                    serial_number: SerialNumber::from_slice(&bytes),
                    revocation_time: day(at.date_naive()),
                    reason_code: Some(RevocationReason::CessationOfOperation),
                    invalidity_date: None,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        let params = CertificateRevocationListParams {
            this_update: day(today - chrono::Days::new(1)),
            next_update: day(today + chrono::Days::new(365)),
            // Increases with every CRL written.
            crl_number: SerialNumber::from(Utc::now().timestamp().unsigned_abs()),
            issuing_distribution_point: None,
            revoked_certs,
            key_identifier_method: KeyIdMethod::Sha256,
        };
        params
            .signed_by(&self.issuer)
            .and_then(|c| c.pem())
            .map_err(|e| format!("signing the CRL: {e}"))
    }
}

fn valid_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TokenRequest {
    store_id: String,
    device_id: String,
}

/// `POST /v1/devices/enrolment-tokens`: a one-time token for one device of the caller's tenant.
pub(super) async fn issue(
    State(s): State<ApiState>,
    headers: HeaderMap,
    Json(r): Json<TokenRequest>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let c = caller(&s, &headers)?;
    let signer = s.signer.as_ref().ok_or_else(not_configured)?;
    for (field, v) in [("store_id", &r.store_id), ("device_id", &r.device_id)] {
        if !valid_id(v) {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("{field} must be 1–64 letters, digits, - or _ (it is an MQTT topic level)"),
            ));
        }
    }
    let token = format!("enr_{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple());
    let device = Enrolled {
        tenant: c.tenant.clone(),
        store_id: r.store_id,
        device_id: r.device_id,
    };
    let expires_at = Utc::now() + chrono::Duration::hours(i64::from(signer.token_hours));
    match s
        .store
        .add_enrolment_token(&digest(&token), &device, &c.user, expires_at)
        .await
    {
        Ok(()) => {}
        Err(EnrolRefused::OtherTenant(d)) => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                format!("device id `{d}` is registered to another tenant: choose another id"),
            ));
        }
        Err(EnrolRefused::Store(e)) => return Err(e.into()),
        Err(e) => return Err(ApiError::new(StatusCode::BAD_REQUEST, e.to_string())),
    }
    tracing::info!(device = %device.device_id, store = %device.store_id, user = %c.user, "enrolment token issued");
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "token": token,
            "device_path": device.path(),
            "expires_at": expires_at,
            "use": "kiosk enroll --station /etc/kiosk/station.toml --url <this service's URL> --token <token> (once)",
        })),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct EnrolRequest {
    token: String,
    csr: String,
    /// The box's own idea of its path (`tenant/store/device`): a token for another device is
    /// refused without being spent.
    #[serde(default)]
    device_path: Option<String>,
}

/// `POST /v1/enroll`: redeems the token once and signs the box's certificate request.
pub(super) async fn enroll(
    State(s): State<ApiState>,
    Json(r): Json<EnrolRequest>,
) -> Result<Json<Value>, ApiError> {
    let signer = s.signer.as_ref().ok_or_else(not_configured)?;
    // The request is checked (parsed, its self-signature verified) before the token is spent.
    let csr = CertificateSigningRequestParams::from_pem(&r.csr).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("csr: not a valid PEM certificate request: {e}"),
        )
    })?;
    let mut serial = *Uuid::new_v4().as_bytes();
    serial[0] &= 0x7f;
    let serial_hex: String = serial.iter().map(|b| format!("{b:02x}")).collect();
    let expected = match r
        .device_path
        .as_deref()
        .map(|p| p.split('/').collect::<Vec<_>>())
    {
        None => None,
        Some(parts) if parts.len() == 3 && parts.iter().all(|p| valid_id(p)) => Some(Enrolled {
            tenant: parts[0].to_owned(),
            store_id: parts[1].to_owned(),
            device_id: parts[2].to_owned(),
        }),
        Some(_) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "device_path must be tenant/store/device",
            ));
        }
    };
    let device = match s
        .store
        .redeem_enrolment_token(&digest(r.token.trim()), &serial_hex, expected.as_ref())
        .await
    {
        Ok(d) => d,
        Err(EnrolRefused::Store(e)) => return Err(e.into()),
        Err(e @ EnrolRefused::WrongDevice(_)) => {
            return Err(ApiError::new(StatusCode::CONFLICT, e.to_string()));
        }
        Err(e) => {
            tracing::warn!("enrolment refused: {e}");
            return Err(ApiError::new(StatusCode::FORBIDDEN, e.to_string()));
        }
    };
    let certificate = signer.sign(csr, &device, &serial).map_err(|e| {
        tracing::error!("signing an enrolment: {e}");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "could not sign the request",
        )
    })?;
    tracing::info!(device = %device.device_id, store = %device.store_id, serial = %serial_hex, "device enrolled");
    Ok(Json(json!({
        "certificate": certificate,
        "ca": signer.broker_ca_pem,
        "broker": {"host": signer.broker_host, "port": signer.broker_port},
        "device": {"tenant": device.tenant, "store_id": device.store_id, "device_id": device.device_id},
        "serial": serial_hex,
    })))
}

fn not_configured() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "enrolment is not configured on this service ([enrolment] in cloud.toml)",
    )
}
