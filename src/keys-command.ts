/**
 * `docsight keys create|list|revoke`: manage API keys directly in the database (the way to make
 * the first admin key; later ones can also be made through the admin API). In embedded mode it
 * works while the service runs, through the service's own database server.
 */
import { parseArgs } from 'node:util';
import { ROLES, type Role } from './domain/vocabulary.ts';
import type { KeysService } from './services/keys.service.ts';

export const KEYS_USAGE = `  keys create --role ${ROLES.join('|')} [--scope FOLDER]... [--name NAME] [--json]
             create an API key (printed once; stored as a hash)
  keys list [--json]        list keys (no secrets)
  keys revoke <id>          revoke a key (works while the service runs)
`;

/** The keys of the configured database, and how to let go of it. */
export type OpenKeys = () => Promise<{ keys: KeysService; close(): Promise<void> }>;

const isRole = (r: unknown): r is Role => (ROLES as readonly unknown[]).includes(r);

function usage(message: string): number {
  process.stderr.write(`docsight keys: ${message}\nUsage:\n${KEYS_USAGE}`);
  return 2;
}

export async function keysCommand(args: string[], openKeys: OpenKeys): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        role: { type: 'string' },
        scope: { type: 'string', multiple: true },
        name: { type: 'string' },
        json: { type: 'boolean' },
      },
    });
  } catch (err) {
    return usage(err instanceof Error ? err.message.replace(/\. To specify a positional.*$/s, '') : String(err));
  }
  const { positionals, values } = parsed;
  const [sub, id] = positionals;
  const out = (s: string) => process.stdout.write(`${s}\n`);
  if (sub !== 'create' && sub !== 'list' && sub !== 'revoke') return usage(sub ? `unknown subcommand "${sub}"` : 'create, list or revoke?');
  const role = values.role;
  if (sub === 'create' && !isRole(role)) return usage(`--role must be one of ${ROLES.join(', ')}`);
  if (sub === 'revoke' && !id) return usage('keys revoke needs the key id');
  const { keys, close } = await openKeys();
  try {
    if (sub === 'create' && isRole(role)) {
      const { key, record } = await keys.create({ name: values.name ?? `${role} key`, role, scopes: values.scope ?? [] });
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
    } else if (sub === 'revoke') {
      const r = await keys.revoke(id ?? '');
      out(`Revoked ${r.id} (${r.name})`);
    }
    return 0;
  } finally {
    await close();
  }
}
