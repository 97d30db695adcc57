/**
 * `docsight keys create|list|revoke`: manage API keys directly in the database (the way to make
 * the first admin key; later ones can also be made through the admin API).
 */
import { parseArgs } from 'node:util';
import type { Config } from './config.ts';
import { openStore } from './container.ts';
import { ROLES, type Role } from './domain/access.ts';
import { createLogger } from './logger.ts';
import { createKeysService } from './services/keys.service.ts';
import { createKeysRepository } from './store/keys.repository.ts';
import { migrateToLatest } from './store/migrate.ts';

export const KEYS_USAGE = `  keys create --role viewer|editor|admin [--scope FOLDER]... [--name NAME] [--json]
             create an API key (printed once; stored as a hash)
  keys list [--json]        list keys (no secrets)
  keys revoke <id>          revoke a key
`;

export async function keysCommand(config: Config, args: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      role: { type: 'string' },
      scope: { type: 'string', multiple: true },
      name: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  const [sub, id] = positionals;
  const out = (s: string) => process.stdout.write(`${s}\n`);
  if (sub !== 'create' && sub !== 'list' && sub !== 'revoke') {
    process.stderr.write(`Usage:\n${KEYS_USAGE}`);
    return 2;
  }
  if (sub === 'create' && !ROLES.includes(values.role as Role)) {
    process.stderr.write(`--role must be one of ${ROLES.join(', ')}\n`);
    return 2;
  }
  if (sub === 'revoke' && !id) {
    process.stderr.write('keys revoke needs the key id\n');
    return 2;
  }
  const store = await openStore(config, createLogger('warn'), { allowEmbedded: true, poolSize: 2 });
  try {
    await migrateToLatest(store.handle.db);
    const keys = createKeysService(createKeysRepository(store.handle.db));
    if (sub === 'create') {
      const { key, record } = await keys.create({ name: values.name ?? `${values.role} key`, role: values.role as Role, scopes: values.scope ?? [] });
      if (values.json) out(JSON.stringify({ ...record, key }));
      else {
        out(`Created ${record.role} key ${record.id}${record.scopes.length ? ` scoped to ${record.scopes.map((s) => `"${s}"`).join(', ')}` : ''}.`);
        out('Store it now; it is not shown again:');
        out(key);
      }
    } else if (sub === 'list') {
      const list = await keys.list();
      if (values.json) out(JSON.stringify(list));
      else
        for (const k of list) {
          out(`${k.id}  ${k.role.padEnd(6)}  ${k.revokedAt ? 'revoked' : 'active '}  ${k.name}  ${k.scopes.length ? k.scopes.join(', ') : '(all folders)'}  last used ${k.lastUsedAt?.toISOString() ?? 'never'}`);
        }
    } else {
      const r = await keys.revoke(id ?? '');
      out(`Revoked ${r.id} (${r.name})`);
    }
    return 0;
  } finally {
    await store.close();
  }
}
