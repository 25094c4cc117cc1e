-- Two-factor set-up keeps the new secret apart until the user proves it
-- works, so starting (and abandoning) a re-set-up never turns 2FA off.
ALTER TABLE users ADD COLUMN totp_pending TEXT NOT NULL DEFAULT '';
