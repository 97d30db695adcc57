/** Opaque pagination cursors: base64url JSON of the keyset position, validated on the way in. */
import type { z } from 'zod';
import { badRequest } from '../domain/errors.ts';

export function encodeCursor(position: unknown): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

export function decodeCursor<T>(cursor: string, schema: z.ZodType<T>): T {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw badRequest('Invalid cursor');
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw badRequest('Invalid cursor');
  return parsed.data;
}
