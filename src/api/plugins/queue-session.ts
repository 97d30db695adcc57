/**
 * The queue dashboard's session cookie: how a browser presents an admin key to bull-board, which
 * cannot send a Bearer header (see queue-dashboard.ts). Kept apart from the dashboard plugin so
 * the auth layer can read it without loading bull-board.
 */
import type { FastifyRequest } from 'fastify';

export const QUEUE_DASHBOARD_PATH = '/admin/queues';
export const QUEUE_SESSION_COOKIE = 'docsight_queues';

/** Is this request for bull-board (its page, assets or API)? */
export function isQueueDashboardPath(url: string): boolean {
  const path = url.split('?')[0] ?? '';
  return path === QUEUE_DASHBOARD_PATH || path.startsWith(`${QUEUE_DASHBOARD_PATH}/`);
}

/** The key in the queue-session cookie, if the request carries one. */
export function queueSessionKey(req: FastifyRequest): string | undefined {
  const header = req.headers.cookie;
  if (typeof header !== 'string') return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === QUEUE_SESSION_COOKIE) {
      const value = part.slice(eq + 1).trim();
      return value.length > 0 ? value : undefined;
    }
  }
  return undefined;
}

/** Set-Cookie for a queue session (the key is URL-safe base64: no quoting needed). */
export function queueSessionCookie(key: string, secure: boolean): string {
  return `${QUEUE_SESSION_COOKIE}=${key}; Path=${QUEUE_DASHBOARD_PATH}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

