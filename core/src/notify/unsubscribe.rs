//! The unsubscribe link of an e-mail: it works without logging in (the
//! person reads the mail on a phone, far from their session), so it
//! carries who and which space, signed with the node's own key (a keyed
//! BLAKE3 hash, truncated to 128 bits): nobody can forge one for another
//! person or another space, and it never expires (an old digest's link
//! still does what it says).

use crate::ids::{PrincipalId, SpaceId};

/// Bytes of the key kept in the notification state.
pub const KEY_BYTES: usize = 32;
/// Bytes of the signature in a token.
const MAC_BYTES: usize = 16;

/// The node's signing key, as the notification state keeps it (hex).
#[derive(Clone, PartialEq, Eq)]
pub struct UnsubscribeKey([u8; KEY_BYTES]);

impl std::fmt::Debug for UnsubscribeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UnsubscribeKey(…)")
    }
}

impl UnsubscribeKey {
    pub fn from_bytes(bytes: [u8; KEY_BYTES]) -> Self {
        Self(bytes)
    }

    /// The key from its stored hex form; `None` if it is not one.
    pub fn from_hex(s: &str) -> Option<Self> {
        let bytes = hex::decode(s).ok()?;
        Some(Self(bytes.try_into().ok()?))
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    fn mac(&self, principal: PrincipalId, space: SpaceId) -> [u8; MAC_BYTES] {
        let mut h = blake3::Hasher::new_keyed(&self.0);
        h.update(b"passerelle unsubscribe v1");
        h.update(principal.as_uuid().as_bytes());
        h.update(space.as_uuid().as_bytes());
        let mut out = [0u8; MAC_BYTES];
        out.copy_from_slice(&h.finalize().as_bytes()[..MAC_BYTES]);
        out
    }

    /// The token for `principal` leaving `space`: 96 hex digits.
    pub fn token(&self, principal: PrincipalId, space: SpaceId) -> String {
        let mut out = hex::encode(principal.as_uuid().as_bytes());
        out.push_str(&hex::encode(space.as_uuid().as_bytes()));
        out.push_str(&hex::encode(self.mac(principal, space)));
        out
    }

    /// Who and which space a token names, if this key signed it.
    pub fn verify(&self, token: &str) -> Option<(PrincipalId, SpaceId)> {
        if token.len() != 96 || !token.is_ascii() {
            return None;
        }
        let p = uuid::Uuid::from_slice(&hex::decode(&token[..32]).ok()?).ok()?;
        let s = uuid::Uuid::from_slice(&hex::decode(&token[32..64]).ok()?).ok()?;
        let given = hex::decode(&token[64..]).ok()?;
        let (principal, space) = (PrincipalId::from_uuid(p), SpaceId::from_uuid(s));
        let expected = self.mac(principal, space);
        // Constant time, so the answer's timing tells nothing of the key.
        let diff = given
            .iter()
            .zip(expected.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        (diff == 0 && given.len() == MAC_BYTES).then_some((principal, space))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_names_its_person_and_space_and_nothing_else() {
        let key = UnsubscribeKey::from_bytes([7; KEY_BYTES]);
        let (p, s) = (PrincipalId::new(), SpaceId::new());
        let t = key.token(p, s);
        assert_eq!(key.verify(&t), Some((p, s)));
        // Another key, another space, a changed digit, a cut token, junk.
        assert_eq!(UnsubscribeKey::from_bytes([8; KEY_BYTES]).verify(&t), None);
        let other = key.token(p, SpaceId::new());
        let forged = format!("{}{}", &t[..64], &other[64..]);
        assert_eq!(key.verify(&forged), None);
        let mut flipped = t.clone().into_bytes();
        flipped[95] = if flipped[95] == b'0' { b'1' } else { b'0' };
        assert_eq!(
            key.verify(&String::from_utf8(flipped).expect("ascii")),
            None
        );
        for bad in ["", &t[..95], "é", &"z".repeat(96), &format!("{t}0")] {
            assert_eq!(key.verify(bad), None, "{bad:?}");
        }
        assert_eq!(UnsubscribeKey::from_hex(&key.to_hex()), Some(key));
        assert_eq!(UnsubscribeKey::from_hex("00"), None);
    }
}
