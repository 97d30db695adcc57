/**
 * Who is asking and what they may see. A key has a role (viewer < editor < admin) and optional
 * folder scopes: a scoped key sees only those folders and what is inside them, everywhere.
 * Anything outside is "not found" (404), never "forbidden", so existence does not leak.
 */
import { notFound } from './errors.ts';
import { isWithin } from './paths.ts';
import { ROLES, type Role } from './vocabulary.ts';

export { ROLES, type Role };

export interface Principal {
  /** null when auth is open (loopback) and no key was sent. */
  keyId: string | null;
  role: Role;
  /** Normalised folder paths; empty means every folder. */
  scopes: string[];
}

/** The caller when auth is open and no key is sent: everything, as on a personal machine. */
export const OPEN_ACCESS: Principal = { keyId: null, role: 'admin', scopes: [] };

export function roleAllows(has: Role, needs: Role): boolean {
  return ROLES.indexOf(has) >= ROLES.indexOf(needs);
}

export function isScoped(p: Principal): boolean {
  return p.scopes.length > 0;
}

/** May this caller see this folder or document path? */
export function canSee(p: Principal, path: string): boolean {
  return !isScoped(p) || p.scopes.some((s) => isWithin(s, path));
}

/** Refuse, as not found, a folder the caller may not see. */
export function assertFolderVisible(p: Principal, folder: string): void {
  if (!canSee(p, folder)) throw notFound(`Folder not found: ${folder || '.'}`);
}

/** May this caller see this job? Its folder is in scope, or the caller started it. */
export function canSeeJob(p: Principal, job: { folderPath: string | null; createdBy: string | null }): boolean {
  if (!isScoped(p)) return true;
  if (job.createdBy !== null && job.createdBy === p.keyId) return true;
  return job.folderPath !== null && canSee(p, job.folderPath);
}
