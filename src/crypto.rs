//! Encryption at rest for the Slack tokens that OAuth installs leave in the
//! database: AES-256-GCM (the `aes-gcm` crate, an AEAD) under
//! `ONEONONE_ENCRYPTION_KEY`.
//!
//! Every value gets a fresh random 96-bit nonce and is stored as
//! `nonce || ciphertext+tag`. The associated data names the team and the
//! column (`{team_id}\0{purpose}`), so a stored value only decrypts where it
//! was written: a row copied to another team, or a refresh token pasted into
//! the bot-token column, fails authentication instead of handing the wrong
//! workspace a token. A database dump without the key reveals no token.
//!
//! A wrong key (or an altered value) is a [`CryptoError`], never a panic.
//! Must not import: anything else in the crate.

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine as _;
use secrecy::{ExposeSecret, SecretBox, SecretString};

/// Bytes of an AES-GCM nonce (96 bits, the size GCM is defined for).
const NONCE_LEN: usize = 12;
/// Bytes of the authentication tag GCM appends.
const TAG_LEN: usize = 16;

/// The 32-byte key, kept out of `Debug` output and zeroed on drop.
pub struct EncryptionKey(SecretBox<[u8; 32]>);

impl Clone for EncryptionKey {
    fn clone(&self) -> Self {
        EncryptionKey(SecretBox::new(Box::new(*self.0.expose_secret())))
    }
}

impl std::fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EncryptionKey([REDACTED])")
    }
}

impl EncryptionKey {
    /// Parses 32 bytes written in standard base64, what
    /// `openssl rand -base64 32` prints. The error says what is wrong without
    /// repeating the value.
    pub fn from_base64(text: &str) -> Result<Self, &'static str> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|_| "not base64; generate a key with `openssl rand -base64 32`")?;
        let key: [u8; 32] = bytes.try_into().map_err(
            |_| "must be exactly 32 bytes (44 base64 characters); generate one with `openssl rand -base64 32`",
        )?;
        Ok(EncryptionKey(SecretBox::new(Box::new(key))))
    }
}

/// Why a stored value could not be turned back into a token.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("stored token is too short to be an encrypted value")]
    Truncated,
    #[error(
        "stored token cannot be decrypted: ONEONONE_ENCRYPTION_KEY is not the key it was written with, or the row was altered or moved"
    )]
    Undecryptable,
    #[error("decrypted token is not text")]
    NotText,
}

/// Encrypts and decrypts tokens under one key.
#[derive(Clone)]
pub struct TokenCipher {
    aead: Aes256Gcm,
}

impl std::fmt::Debug for TokenCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenCipher([REDACTED])")
    }
}

fn associated_data(team_id: &str, purpose: &str) -> Vec<u8> {
    // A NUL cannot occur in a Slack team id, so the split is unambiguous.
    format!("{team_id}\0{purpose}").into_bytes()
}

impl TokenCipher {
    pub fn new(key: &EncryptionKey) -> Self {
        TokenCipher {
            aead: Aes256Gcm::new(&Key::<Aes256Gcm>::from(*key.0.expose_secret())),
        }
    }

    /// `nonce || ciphertext+tag` of `token`, bound to `team_id` and `purpose`
    /// (the column: `bot_token`, `bot_refresh_token`).
    pub fn encrypt(&self, team_id: &str, purpose: &str, token: &SecretString) -> Vec<u8> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let aad = associated_data(team_id, purpose);
        let payload = Payload {
            msg: token.expose_secret().as_bytes(),
            aad: &aad,
        };
        // AES-GCM encryption fails only for messages over 64 GiB.
        let sealed = match self.aead.encrypt(&nonce, payload) {
            Ok(sealed) => sealed,
            Err(_) => unreachable_for_tokens(),
        };
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// The token sealed by [`TokenCipher::encrypt`] with the same team and purpose.
    pub fn decrypt(&self, team_id: &str, purpose: &str, stored: &[u8]) -> Result<SecretString, CryptoError> {
        if stored.len() < NONCE_LEN + TAG_LEN {
            return Err(CryptoError::Truncated);
        }
        let (nonce, sealed) = stored.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| CryptoError::Truncated)?;
        let aad = associated_data(team_id, purpose);
        let plain = self
            .aead
            .decrypt(&Nonce::from(nonce), Payload { msg: sealed, aad: &aad })
            .map_err(|_| CryptoError::Undecryptable)?;
        let text = String::from_utf8(plain).map_err(|_| CryptoError::NotText)?;
        Ok(SecretString::from(text))
    }
}

/// AES-GCM refuses only plaintexts longer than 2^36 bytes; a token is a few
/// dozen. Kept out of line so the one impossible branch is named.
#[cold]
fn unreachable_for_tokens() -> Vec<u8> {
    // An empty value never decrypts, so even this cannot leak anything.
    Vec::new()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const KEY: &str = "q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq80=";

    fn cipher(key: &str) -> TokenCipher {
        TokenCipher::new(&EncryptionKey::from_base64(key).unwrap())
    }

    fn token(t: &str) -> SecretString {
        SecretString::from(t.to_string())
    }

    #[test]
    fn a_token_round_trips_and_its_bytes_never_appear_in_the_stored_value() {
        let c = cipher(KEY);
        let stored = c.encrypt("T1", "bot_token", &token("xoxb-secret-token"));
        assert!(!stored.windows(6).any(|w| w == b"secret"), "plaintext leaked");
        let back = c.decrypt("T1", "bot_token", &stored).unwrap();
        assert_eq!(back.expose_secret(), "xoxb-secret-token");
    }

    #[test]
    fn each_encryption_uses_a_fresh_nonce() {
        let c = cipher(KEY);
        let a = c.encrypt("T1", "bot_token", &token("xoxb-x"));
        let b = c.encrypt("T1", "bot_token", &token("xoxb-x"));
        assert_ne!(a[..NONCE_LEN], b[..NONCE_LEN]);
        assert_ne!(a, b);
    }

    #[test]
    fn a_value_moved_to_another_team_or_column_does_not_decrypt() {
        let c = cipher(KEY);
        let stored = c.encrypt("T1", "bot_token", &token("xoxb-x"));
        assert_eq!(
            c.decrypt("T2", "bot_token", &stored).err(),
            Some(CryptoError::Undecryptable)
        );
        assert_eq!(
            c.decrypt("T1", "bot_refresh_token", &stored).err(),
            Some(CryptoError::Undecryptable)
        );
    }

    #[test]
    fn a_wrong_key_an_altered_value_or_a_short_one_is_an_error_not_a_panic() {
        let stored = cipher(KEY).encrypt("T1", "bot_token", &token("xoxb-x"));
        let other = cipher("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
        let err = other.decrypt("T1", "bot_token", &stored).unwrap_err();
        assert_eq!(err, CryptoError::Undecryptable);
        assert!(err.to_string().contains("ONEONONE_ENCRYPTION_KEY"));
        let mut altered = stored.clone();
        *altered.last_mut().unwrap() ^= 1;
        assert_eq!(
            cipher(KEY).decrypt("T1", "bot_token", &altered).err(),
            Some(CryptoError::Undecryptable)
        );
        assert_eq!(
            cipher(KEY).decrypt("T1", "bot_token", &stored[..20]).err(),
            Some(CryptoError::Truncated)
        );
    }

    #[test]
    fn the_key_must_be_32_bytes_of_base64() {
        assert!(EncryptionKey::from_base64(KEY).is_ok());
        assert!(EncryptionKey::from_base64(&format!(" {KEY}\n")).is_ok());
        assert!(EncryptionKey::from_base64("not base64!").is_err());
        assert!(EncryptionKey::from_base64("AAAA").unwrap_err().contains("32 bytes"));
        let key = EncryptionKey::from_base64(KEY).unwrap();
        assert_eq!(format!("{key:?}"), "EncryptionKey([REDACTED])");
    }
}
