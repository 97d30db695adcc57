/**
 * API keys: created with a role and optional folder scopes, shown once, stored as a hash,
 * revocable, with a last-used time. Authentication turns a presented key into a Principal.
 */
import { createHash, randomBytes } from 'node:crypto';
import { type Principal, ROLES, type Role } from '../domain/access.ts';
import { AppError, badRequest, notFound } from '../domain/errors.ts';
import { normalizeRelativePath } from '../domain/paths.ts';
import type { ApiKeyRecord, AuditEvent, KeysRepository } from '../store/keys.repository.ts';

export const hashKey = (key: string) => createHash('sha256').update(key).digest('hex');

/** Keys look like `dsk_<8 id chars>_<43 secret chars>`; the prefix identifies a key in lists and logs. */
const KEY_FORMAT = /^dsk_[A-Za-z0-9_-]{8}_[A-Za-z0-9_-]{43}$/;

export function createKeysService(repo: KeysRepository) {
  // last_used_at is written at most once a minute per key, not on every request.
  const touched = new Map<string, number>();

  return {
    async create(input: { name: string; role: Role; scopes?: string[] }): Promise<{ key: string; record: ApiKeyRecord }> {
      if (!ROLES.includes(input.role)) throw badRequest(`role must be one of ${ROLES.join(', ')}`);
      const scopes = [...new Set((input.scopes ?? []).map((s) => normalizeRelativePath(s)))];
      if (scopes.includes('')) throw badRequest('A scope of "." is the whole root: leave scopes out instead');
      const prefix = randomBytes(6).toString('base64url').slice(0, 8);
      const key = `dsk_${prefix}_${randomBytes(32).toString('base64url')}`;
      const record = await repo.create({ name: input.name, prefix, keyHash: hashKey(key), role: input.role, scopes });
      return { key, record };
    },

    /** The principal for a presented key, or an `unauthorized` error (unknown, malformed or revoked). */
    async authenticate(key: string): Promise<Principal & { record: ApiKeyRecord }> {
      if (!KEY_FORMAT.test(key)) throw new AppError('unauthorized', 'Invalid API key');
      const record = await repo.findActiveByHash(hashKey(key));
      if (!record) throw new AppError('unauthorized', 'Invalid or revoked API key');
      const last = touched.get(record.id) ?? 0;
      if (Date.now() - last > 60_000) {
        touched.set(record.id, Date.now());
        await repo.touch(record.id);
      }
      return { keyId: record.id, role: record.role, scopes: record.scopes, record };
    },

    list: () => repo.list(),

    async revoke(id: string): Promise<ApiKeyRecord> {
      const r = await repo.revoke(id);
      if (!r) throw notFound(`Key not found: ${id}`);
      return r;
    },

    audit: (e: Omit<AuditEvent, 'id' | 'at'>) => repo.audit(e),
    auditLog: (limit: number, before?: string) => repo.auditLog(limit, before),
  };
}

export type KeysService = ReturnType<typeof createKeysService>;
