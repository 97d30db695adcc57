/**
 * What every client command needs: where the server is, the key, the output streams, and the
 * exit codes. Options come from flags, then the environment (and a .env file, as the server
 * reads it, so `npm start` and the CLI agree on PORT without configuration).
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { type Client, createClient } from './client.ts';
import type { Out } from './render.ts';

export const EXIT = { ok: 0, jobFailures: 1, usage: 2, unreachable: 3 } as const;

/** Wrong flags or arguments: exit code 2 with the message and the command's usage. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface Io {
  stdout: Out;
  stderr: Out;
}

export interface Context extends Io {
  client: Client;
  json: boolean;
}

export type Env = Record<string, string | undefined>;

/** The environment with .env underneath it (the real environment wins, as for the server). */
export function withDotEnv(env: Env, file = '.env'): Env {
  if (!existsSync(file)) return env;
  return { ...parseEnv(readFileSync(file, 'utf8')), ...env };
}

export function makeContext(flags: { server?: string; key?: string; json?: boolean }, env: Env, io: Io): Context {
  const server = flags.server ?? `http://127.0.0.1:${env.PORT || '8000'}`;
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new UsageError(`--server must be a URL such as http://127.0.0.1:8000 (got "${server}")`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError('--server must be an http:// or https:// URL');
  const key = flags.key ?? env.DOCSIGHT_API_KEY ?? undefined;
  return { ...io, client: createClient({ server: url.toString(), key: key || undefined }), json: flags.json ?? false };
}
