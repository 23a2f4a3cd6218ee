//! A password hasher for tests: BLAKE3 with a random salt. Fast, therefore
//! unfit for production (argon2id lives in the HTTP adapter).

use async_trait::async_trait;
use rand::RngCore;

use crate::ports::{PasswordError, PasswordHasher};

/// Salted BLAKE3 "hashes" in the form `test$<salt hex>$<hash hex>`.
#[derive(Debug, Default, Clone, Copy)]
pub struct FastPasswords;

fn digest(salt: &[u8], password: &str) -> String {
    let mut h = blake3::Hasher::new();
    h.update(salt);
    h.update(password.as_bytes());
    h.finalize().to_hex().to_string()
}

#[async_trait]
impl PasswordHasher for FastPasswords {
    async fn hash(&self, password: &str) -> Result<String, PasswordError> {
        let mut salt = [0u8; 16];
        rand::rng().fill_bytes(&mut salt);
        Ok(format!(
            "test${}${}",
            hex::encode(salt),
            digest(&salt, password)
        ))
    }

    async fn verify(&self, password: &str, phc: &str) -> Result<bool, PasswordError> {
        let mut parts = phc.split('$');
        let (Some("test"), Some(salt), Some(hash), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(PasswordError("not a test password hash".into()));
        };
        let salt = hex::decode(salt).map_err(|e| PasswordError(e.to_string()))?;
        Ok(digest(&salt, password) == hash)
    }
}
