/** API keys and the audit log. Keys are stored as SHA-256 hashes: a leaked table reveals no key. */
import { sql } from 'kysely';
import type { Db } from './database.ts';
import type { Role } from './schema.ts';

export interface ApiKeyRecord {
  id: string;
  name: string;
  prefix: string;
  role: Role;
  scopes: string[];
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

export interface AuditEvent {
  id: string;
  at: Date;
  keyId: string | null;
  action: string;
  target: string | null;
  status: number | null;
  ip: string | null;
  requestId: string | null;
}

const cols = ['id', 'name', 'prefix', 'role', 'scopes', 'created_at', 'last_used_at', 'revoked_at'] as const;
const toKey = (r: {
  id: string;
  name: string;
  prefix: string;
  role: Role;
  scopes: string[];
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}): ApiKeyRecord => ({
  id: r.id,
  name: r.name,
  prefix: r.prefix,
  role: r.role,
  scopes: r.scopes,
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
  revokedAt: r.revoked_at,
});

export function createKeysRepository(db: Db) {
  return {
    async create(k: { name: string; prefix: string; keyHash: string; role: Role; scopes: string[] }): Promise<ApiKeyRecord> {
      const r = await db
        .insertInto('api_keys')
        .values({ name: k.name, prefix: k.prefix, key_hash: k.keyHash, role: k.role, scopes: k.scopes })
        .returning(cols)
        .executeTakeFirstOrThrow();
      return toKey(r);
    },

    /** The active key with this hash (revoked keys are not found). */
    async findActiveByHash(keyHash: string): Promise<ApiKeyRecord | undefined> {
      const r = await db.selectFrom('api_keys').select(cols).where('key_hash', '=', keyHash).where('revoked_at', 'is', null).executeTakeFirst();
      return r ? toKey(r) : undefined;
    },

    async touch(id: string): Promise<void> {
      await db.updateTable('api_keys').set({ last_used_at: sql`now()` }).where('id', '=', id).execute();
    },

    async list(): Promise<ApiKeyRecord[]> {
      const rows = await db.selectFrom('api_keys').select(cols).orderBy('created_at', 'desc').execute();
      return rows.map(toKey);
    },

    async revoke(id: string): Promise<ApiKeyRecord | undefined> {
      const r = await db
        .updateTable('api_keys')
        .set({ revoked_at: sql`coalesce(revoked_at, now())` })
        .where('id', '=', id)
        .returning(cols)
        .executeTakeFirst();
      return r ? toKey(r) : undefined;
    },

    async audit(e: Omit<AuditEvent, 'id' | 'at'>): Promise<void> {
      await db
        .insertInto('audit_events')
        .values({ key_id: e.keyId, action: e.action, target: e.target, status: e.status, ip: e.ip, request_id: e.requestId })
        .execute();
    },

    async auditLog(limit: number, before?: string): Promise<AuditEvent[]> {
      let q = db.selectFrom('audit_events').selectAll().orderBy('id', 'desc').limit(limit);
      if (before) q = q.where('id', '<', before);
      const rows = await q.execute();
      return rows.map((r) => ({
        id: String(r.id),
        at: r.at,
        keyId: r.key_id,
        action: r.action,
        target: r.target,
        status: r.status,
        ip: r.ip,
        requestId: r.request_id,
      }));
    },
  };
}

export type KeysRepository = ReturnType<typeof createKeysRepository>;
