/**
 * Secrets docsight must use again later (webhook signing secrets), so they cannot be hashed:
 * sealed with AES-256-GCM under SECRETS_KEY. Without a key they are kept as they are (marked so),
 * and a key set later still reads them. A sealed value says how it was sealed, so the format can
 * change without a migration.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const SEALED = 'v1';
const PLAIN = 'plain';

export interface SecretBox {
  /** Whether secrets are encrypted (SECRETS_KEY is set). */
  readonly encrypting: boolean;
  seal(secret: string): string;
  /** The secret; throws when it was sealed under another key (or none is set now). */
  open(sealed: string): string;
}

export class SecretUnreadable extends Error {
  override name = 'SecretUnreadable';
}

export function createSecretBox(key: Buffer | undefined): SecretBox {
  if (key !== undefined && key.length !== 32) throw new Error('SECRETS_KEY must be 32 bytes');
  return {
    encrypting: key !== undefined,
    seal(secret) {
      if (!key) return `${PLAIN}:${Buffer.from(secret, 'utf8').toString('base64url')}`;
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
      return [SEALED, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join(':');
    },
    open(sealed) {
      const [kind, ...parts] = sealed.split(':');
      if (kind === PLAIN && parts.length === 1) return Buffer.from(parts[0] ?? '', 'base64url').toString('utf8');
      if (kind !== SEALED || parts.length !== 3) throw new SecretUnreadable('The stored secret has an unknown format');
      if (!key) throw new SecretUnreadable('The stored secret is encrypted and SECRETS_KEY is not set');
      const [iv, tag, body] = parts.map((p) => Buffer.from(p ?? '', 'base64url')) as [Buffer, Buffer, Buffer];
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, iv);
        decipher.setAuthTag(tag);
        return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
      } catch {
        throw new SecretUnreadable('The stored secret was encrypted under another SECRETS_KEY');
      }
    },
  };
}
