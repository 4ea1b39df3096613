//! Manager PIN checking: an argon2id hash (never the PIN itself) and growing delays after wrong
//! attempts. Pure apart from the hash; the attempt count lives in the store's audit log so a
//! restart does not reset it.

use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

/// Wrong PINs allowed before delays start.
pub const FREE_ATTEMPTS: u32 = 3;

/// How long the pad stays locked after `failures` wrong PINs in a row: nothing for the first
/// three, then 30 s doubling up to an hour.
pub fn lockout(failures: u32) -> Duration {
    if failures < FREE_ATTEMPTS {
        return Duration::ZERO;
    }
    let doublings = (failures - FREE_ATTEMPTS).min(7);
    Duration::from_secs((30u64 << doublings).min(3600))
}

/// A PIN problem.
#[derive(Debug, thiserror::Error)]
pub enum PinError {
    /// The configured hash is not an argon2 PHC string.
    #[error(
        "manager_pin_hash in station.toml is not a valid argon2id hash ({0}): make one with `kiosk set-pin`"
    )]
    BadHash(String),
    /// Hashing failed.
    #[error("could not hash the PIN: {0}")]
    Hash(String),
}

/// A PHC-format argon2id hash of `pin`, for `manager_pin_hash`.
pub fn hash_pin(pin: &str) -> Result<String, PinError> {
    // 16 random bytes (uuid's v4 comes from the OS random source).
    let salt = SaltString::encode_b64(uuid::Uuid::new_v4().as_bytes())
        .map_err(|e| PinError::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(pin.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PinError::Hash(e.to_string()))
}

/// True when `pin` matches `hash`. Slow on purpose (argon2id): call it off the frame schedule.
pub fn verify_pin(hash: &str, pin: &str) -> Result<bool, PinError> {
    let parsed = PasswordHash::new(hash).map_err(|e| PinError::BadHash(e.to_string()))?;
    if parsed.algorithm.as_str() != "argon2id" {
        return Err(PinError::BadHash(format!(
            "algorithm {} instead of argon2id",
            parsed.algorithm
        )));
    }
    Ok(Argon2::default()
        .verify_password(pin.as_bytes(), &parsed)
        .is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_after_three_wrong_pins() {
        assert_eq!(lockout(0), Duration::ZERO);
        assert_eq!(lockout(2), Duration::ZERO);
        assert_eq!(lockout(3), Duration::from_secs(30));
        assert_eq!(lockout(4), Duration::from_secs(60));
        assert_eq!(lockout(5), Duration::from_secs(120));
        assert_eq!(lockout(50), Duration::from_secs(3600));
    }

    #[test]
    fn hashes_verify_and_are_salted() {
        let h = hash_pin("2468").expect("hash");
        assert!(h.starts_with("$argon2id$"));
        assert_ne!(h, hash_pin("2468").expect("hash"), "salted");
        assert!(verify_pin(&h, "2468").expect("verify"));
        assert!(!verify_pin(&h, "2469").expect("verify"));
        assert!(matches!(
            verify_pin("2468", "2468"),
            Err(PinError::BadHash(_))
        ));
    }
}
