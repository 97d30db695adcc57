/**
 * What the attack suites (test/security) share: a tally of the cases they try, printed at the end
 * so a run says how many it checked, and a caller that sends a request as one of the suite's
 * identities (its API key, or none) to a listening server.
 */
import assert from 'node:assert/strict';

export function caseTally(): { check(ok: boolean, what: string): void; summary(label: string): string } {
  let tried = 0;
  let passed = 0;
  return {
    check(ok, what) {
      tried++;
      if (ok) passed++;
      assert.ok(ok, what);
    },
    summary: (label) => `# ${label}: ${tried} tried, ${passed} passed\n`,
  };
}

export interface AttackResponse {
  status: number;
  /** The body parsed as JSON; empty when it is not JSON (event streams, pages). */
  json: Record<string, unknown>;
  text: string;
  headers: Headers;
}

/** Requests as `who`: with that identity's key as a bearer token, or without one where it has none. */
export function callerAs<Identity extends string>(
  base: () => string,
  keys: Partial<Record<Identity, string | undefined>>,
): (who: Identity, method: string, url: string, body?: unknown, extra?: Record<string, string>) => Promise<AttackResponse> {
  return async (who, method, url, body, extra = {}) => {
    const headers: Record<string, string> = { ...extra };
    const key = keys[who];
    if (key) headers.authorization = `Bearer ${key}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${base()}${url}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // not JSON
    }
    return { status: res.status, json, text, headers: res.headers };
  };
}
