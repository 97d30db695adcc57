/**
 * Managing bucket sources (admin): create, change, remove, list. Credentials are sealed with
 * SECRETS_KEY before they reach the store and never leave this service: a source's view says only
 * whether it has stored credentials or uses the environment's.
 */
import { existsSync } from 'node:fs';
import { AppError, badRequest, notFound } from '../domain/errors.ts';
import { normalizeRelativePath } from '../domain/paths.ts';
import { RESERVED_SOURCE_NAMES, SOURCE_NAME_PATTERN, type SourceKind } from '../domain/vocabulary.ts';
import type { Source } from '../contract.ts';
import type { SourceRecord, SourcesRepository, SourceWrite } from '../store/sources.repository.ts';
import type { DocsRoot } from './docs-root.ts';
import type { SecretBox } from './secrets.ts';

export interface SourceInput {
  name: string;
  kind: SourceKind;
  bucket: string;
  prefix?: string | undefined;
  endpoint?: string | null | undefined;
  region?: string | null | undefined;
  forcePathStyle?: boolean | undefined;
  accessKeyId?: string | null | undefined;
  secretAccessKey?: string | null | undefined;
  watchIntervalSeconds?: number | null | undefined;
}

export type SourcePatch = Partial<Omit<SourceInput, 'name' | 'kind'>>;

export function toSourceView(r: SourceRecord): Source {
  return {
    name: r.name,
    kind: r.kind,
    bucket: r.bucket,
    prefix: r.prefix,
    endpoint: r.endpoint,
    region: r.region,
    forcePathStyle: r.forcePathStyle,
    credentials: r.accessKeyIdEnc ? 'stored' : 'environment',
    watchIntervalSeconds: r.watchIntervalSeconds,
    watchedAt: r.watchedAt?.toISOString() ?? null,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  };
}

/** S3 bucket names: 3-63 lowercase letters, digits, dots and hyphens, starting and ending alphanumeric. */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** A key prefix as stored: '' or relative segments ending in '/'. */
function normalisePrefix(prefix: string | undefined): string {
  if (!prefix) return '';
  const rel = normalizeRelativePath(prefix.replace(/^\/+/, ''));
  return rel === '' ? '' : `${rel}/`;
}

/** Only http(s) endpoints, without credentials, query or fragment; the URL's origin and path are kept. */
function normaliseEndpoint(endpoint: string | null | undefined): string | null {
  if (!endpoint) return null;
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw badRequest('endpoint is not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw badRequest('endpoint must be an http:// or https:// URL');
  if (url.username || url.password) throw badRequest('endpoint must not carry credentials; use accessKeyId and secretAccessKey');
  if (url.search || url.hash) throw badRequest('endpoint must not have a query or a fragment');
  return `${url.origin}${url.pathname === '/' ? '' : url.pathname.replace(/\/+$/, '')}`;
}

export function createSourcesService(deps: { repo: SourcesRepository; secrets: SecretBox; docsRoot: DocsRoot }) {
  const { repo, secrets } = deps;

  function checkName(name: string): void {
    if (!SOURCE_NAME_PATTERN.test(name)) throw badRequest('name must be 2-63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit');
    if ((RESERVED_SOURCE_NAMES as readonly string[]).includes(name)) throw badRequest(`"${name}" is a reserved word; choose another name`);
    // Its paths would be the folder's: the folder's documents and the bucket's would mix.
    if (existsSync(deps.docsRoot.join(name))) throw new AppError('conflict', `DOCS_ROOT has a top-level entry named "${name}": a source of that name would shadow it`);
  }

  /** The credentials to store: both sealed, or none (the environment's). */
  function sealed(accessKeyId: string | null | undefined, secretAccessKey: string | null | undefined): Pick<SourceWrite, 'accessKeyIdEnc' | 'secretAccessKeyEnc'> {
    if (!accessKeyId && !secretAccessKey) return { accessKeyIdEnc: null, secretAccessKeyEnc: null };
    if (!accessKeyId || !secretAccessKey) throw badRequest('Give both accessKeyId and secretAccessKey, or neither (credentials from the environment)');
    // Bucket credentials are never kept in clear: without SECRETS_KEY they stay in the environment.
    if (!secrets.encrypting) {
      throw new AppError('secrets_key_missing', 'SECRETS_KEY is not set: credentials cannot be stored. Set it, or leave the credentials out to use the environment (AWS default chain).');
    }
    return { accessKeyIdEnc: secrets.seal(accessKeyId), secretAccessKeyEnc: secrets.seal(secretAccessKey) };
  }

  function checkBucket(bucket: string): void {
    if (!BUCKET.test(bucket) || bucket.includes('..')) throw badRequest('bucket must be an S3 bucket name: 3-63 lowercase letters, digits, dots and hyphens');
  }

  async function existing(name: string): Promise<SourceRecord> {
    const r = await repo.find(name);
    if (!r) throw notFound(`Source not found: ${name}`);
    return r;
  }

  return {
    async list(): Promise<Source[]> {
      return (await repo.list()).map(toSourceView);
    },

    async get(name: string): Promise<Source> {
      return toSourceView(await existing(name));
    },

    async create(input: SourceInput): Promise<Source> {
      checkName(input.name);
      checkBucket(input.bucket);
      const record = await repo.create({
        name: input.name,
        kind: input.kind,
        bucket: input.bucket,
        prefix: normalisePrefix(input.prefix),
        endpoint: normaliseEndpoint(input.endpoint),
        region: input.region ?? null,
        forcePathStyle: input.forcePathStyle ?? false,
        ...sealed(input.accessKeyId, input.secretAccessKey),
        watchIntervalSeconds: input.watchIntervalSeconds ?? null,
      });
      if (!record) throw new AppError('conflict', `A source named "${input.name}" exists`);
      return toSourceView(record);
    },

    async update(name: string, patch: SourcePatch): Promise<Source> {
      const r = await existing(name);
      if (patch.bucket !== undefined) checkBucket(patch.bucket);
      const credentialsGiven = patch.accessKeyId !== undefined || patch.secretAccessKey !== undefined;
      const updated = await repo.update({
        name,
        kind: r.kind,
        bucket: patch.bucket ?? r.bucket,
        prefix: patch.prefix !== undefined ? normalisePrefix(patch.prefix) : r.prefix,
        endpoint: patch.endpoint !== undefined ? normaliseEndpoint(patch.endpoint) : r.endpoint,
        region: patch.region !== undefined ? patch.region : r.region,
        forcePathStyle: patch.forcePathStyle ?? r.forcePathStyle,
        ...(credentialsGiven ? sealed(patch.accessKeyId, patch.secretAccessKey) : { accessKeyIdEnc: r.accessKeyIdEnc, secretAccessKeyEnc: r.secretAccessKeyEnc }),
        watchIntervalSeconds: patch.watchIntervalSeconds !== undefined ? patch.watchIntervalSeconds : r.watchIntervalSeconds,
      });
      if (!updated) throw notFound(`Source not found: ${name}`);
      return toSourceView(updated);
    },

    /** Remove a source; its documents are kept as deleted. */
    async remove(name: string): Promise<Source> {
      const r = await existing(name);
      if (!(await repo.remove(name))) throw notFound(`Source not found: ${name}`);
      return toSourceView(r);
    },
  };
}

export type SourcesService = ReturnType<typeof createSourcesService>;
