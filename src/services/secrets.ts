/**
 * Secrets at rest: AES-256-GCM under SECRETS_KEY, a fresh 12-byte nonce per value, stored as
 * `v1.<nonce>.<tag>.<ciphertext>` (base64url). The authentication tag makes a tampered value or a
 * wrong key fail loudly instead of yielding garbage credentials.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { AppError } from '../domain/errors.ts';

export interface SecretBox {
  seal(plain: string): string;
  open(sealed: string): string;
}

/** A box under `key`, or one that refuses to seal (no SECRETS_KEY) with a coded 400. */
export function createSecretBox(key: Buffer | undefined): SecretBox {
  const missing = () =>
    new AppError('secrets_key_missing', 'SECRETS_KEY is not set: credentials cannot be stored. Set it, or leave the credentials out to use the environment (AWS default chain).');
  return {
    seal(plain) {
      if (!key) throw missing();
      const nonce = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, nonce);
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return ['v1', nonce.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join('.');
    },
    open(sealed) {
      if (!key) throw missing();
      const [version, nonce, tag, body] = sealed.split('.');
      if (version !== 'v1' || !nonce || !tag || body === undefined) throw new Error('Stored secret has an unknown format');
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(nonce, 'base64url'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      try {
        return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
      } catch {
        throw new Error('Stored secret cannot be decrypted: SECRETS_KEY differs from the one that sealed it');
      }
    },
  };
}
