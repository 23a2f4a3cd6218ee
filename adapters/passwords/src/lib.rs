//! # passerelle-passwords
//!
//! A driven adapter of the hexagon: [`Argon2Passwords`] implements core's
//! `PasswordHasher` port with argon2id. It is its own crate so that the
//! node crates choose the hashing (and tests a cheap one) without pulling
//! in an HTTP adapter, and so that the HTTP adapters never hash.
//!
//! It depends on core only (and on tokio's blocking pool, since one hash
//! costs tens of milliseconds of CPU by design). One module: this file.

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};
use async_trait::async_trait;
use passerelle_core::ports::{PasswordError, PasswordHasher};

/// argon2id password hashing, off the async runtime (`spawn_blocking`):
/// one hash costs tens of milliseconds of CPU by design.
#[derive(Clone, Debug)]
pub struct Argon2Passwords {
    /// Parameters of new hashes. Verification uses the parameters stored in
    /// each PHC string, so raising them later does not lock anyone out.
    params: Params,
}

impl Argon2Passwords {
    pub fn new(params: Params) -> Self {
        Self { params }
    }

    /// Cheap parameters (8 KiB, one pass) so tests do not spend seconds
    /// hashing. Never use them in a node.
    pub fn for_tests() -> Self {
        let params =
            Params::new(8, 1, 1, None).expect("8 KiB, t=1, p=1 are valid argon2 parameters");
        Self { params }
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }
}

impl Default for Argon2Passwords {
    /// argon2id with the crate's defaults (m = 19 MiB, t = 2, p = 1: the
    /// OWASP recommendation).
    fn default() -> Self {
        Self::new(Params::default())
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, PasswordError> + Send + 'static,
) -> Result<T, PasswordError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| PasswordError(format!("hashing task failed: {e}")))?
}

#[async_trait]
impl PasswordHasher for Argon2Passwords {
    async fn hash(&self, password: &str) -> Result<String, PasswordError> {
        let argon2 = self.argon2();
        let password = password.to_owned();
        blocking(move || {
            argon2
                .hash_password(password.as_bytes())
                .map(|h| h.to_string())
                .map_err(|e| PasswordError(e.to_string()))
        })
        .await
    }

    async fn verify(&self, password: &str, phc: &str) -> Result<bool, PasswordError> {
        let argon2 = self.argon2();
        let password = password.to_owned();
        let phc = phc.to_owned();
        blocking(move || {
            let parsed = PasswordHash::new(&phc)
                .map_err(|e| PasswordError(format!("malformed stored hash: {e}")))?;
            match argon2.verify_password(password.as_bytes(), &parsed) {
                Ok(()) => Ok(true),
                Err(argon2::password_hash::Error::PasswordInvalid) => Ok(false),
                Err(e) => Err(PasswordError(e.to_string())),
            }
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_with_argon2id_and_verifies_only_the_right_password() {
        let p = Argon2Passwords::for_tests();
        let phc = p.hash("correct horse battery").await.expect("hash");
        assert!(phc.starts_with("$argon2id$"), "{phc}");
        assert!(
            p.verify("correct horse battery", &phc)
                .await
                .expect("verify")
        );
        assert!(!p.verify("wrong horse battery", &phc).await.expect("verify"));
        let other = p.hash("correct horse battery").await.expect("hash");
        assert_ne!(phc, other, "each hash has a fresh salt");
    }

    #[tokio::test]
    async fn verifies_with_the_parameters_stored_in_the_hash() {
        let phc = Argon2Passwords::for_tests()
            .hash("a long enough password")
            .await
            .expect("hash");
        assert!(
            Argon2Passwords::default()
                .verify("a long enough password", &phc)
                .await
                .expect("verify")
        );
    }

    #[tokio::test]
    async fn new_hashes_carry_the_parameters_they_were_made_with() {
        // A node's hashes: argon2id v1.3 at the OWASP recommendation
        // (m = 19 MiB, t = 2, p = 1), written into the PHC string so that
        // verification keeps working after the parameters are raised.
        let phc = Argon2Passwords::default()
            .hash("a long enough password")
            .await
            .expect("hash");
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        let cheap = Argon2Passwords::for_tests()
            .hash("a long enough password")
            .await
            .expect("hash");
        assert!(cheap.starts_with("$argon2id$v=19$m=8,t=1,p=1$"), "{cheap}");
    }

    #[tokio::test]
    async fn a_malformed_stored_hash_is_an_error_not_a_mismatch() {
        assert!(
            Argon2Passwords::for_tests()
                .verify("x", "not a phc string")
                .await
                .is_err()
        );
    }
}
