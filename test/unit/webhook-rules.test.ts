/** The pure rules of webhooks: which addresses may be called, the signature, the backoff, sealed secrets. */
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { ConfigError, parseConfig } from '../../src/config.ts';
import { nonPublicReason } from '../../src/domain/addresses.ts';
import { createSecretBox, SecretUnreadable } from '../../src/services/secrets.ts';
import { backoffMs, signatureHeader } from '../../src/services/webhook-delivery.service.ts';

describe('webhook rules', () => {
  it('refuses every non-public address, in each of its spellings, and allows public ones', () => {
    const refused: [string, RegExp][] = [
      ['127.0.0.1', /loopback/],
      ['127.255.0.9', /loopback/],
      ['10.200.3.4', /private/],
      ['172.31.255.255', /private/],
      ['192.168.0.1', /private/],
      ['100.127.0.1', /CGNAT/],
      ['169.254.169.254', /link-local/],
      ['0.0.0.0', /unspecified/],
      ['224.0.0.251', /multicast/],
      ['255.255.255.255', /broadcast/],
      ['::1', /loopback/],
      ['0:0:0:0:0:0:0:1', /loopback/],
      ['::', /unspecified/],
      ['::ffff:127.0.0.1', /loopback/],
      ['::ffff:7f00:1', /loopback/],
      ['::ffff:a9fe:a9fe', /link-local/],
      ['::127.0.0.1', /loopback/],
      ['64:ff9b::10.0.0.1', /private/],
      ['2002:c0a8:0101::1', /private/],
      ['fd12:3456::1', /unique-local/],
      ['fe80::1%eth0', /link-local/],
      ['ff02::1', /multicast/],
      ['localhost', /not an IP/],
    ];
    for (const [ip, why] of refused) assert.match(nonPublicReason(ip) ?? 'allowed', why, ip);
    for (const ip of ['93.184.216.34', '8.8.8.8', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8', '2002:0808:0808::1']) {
      assert.equal(nonPublicReason(ip), null, ip);
    }
  });

  it('signs "<t>.<body>" with HMAC-SHA256 under the secret', () => {
    const body = '{"id":"e","type":"job.completed"}';
    const header = signatureHeader('whsec_abc', body, 1_700_000_000);
    const expected = createHmac('sha256', 'whsec_abc').update(`1700000000.${body}`).digest('hex');
    assert.equal(header, `t=1700000000,v1=${expected}`);
  });

  it('backs off exponentially with jitter, within the cap', () => {
    const s = { backoffBaseMs: 1000, backoffMaxMs: 60_000 };
    assert.deepEqual([1, 2, 3, 4].map((n) => backoffMs(n, s, () => 0)), [500, 1000, 2000, 4000]);
    assert.deepEqual([1, 2, 3, 4].map((n) => backoffMs(n, s, () => 1)), [1000, 2000, 4000, 8000]);
    assert.equal(backoffMs(30, s, () => 1), 60_000);
    assert.equal(backoffMs(500, s, () => 0.5), 45_000);
  });

  it('seals secrets under SECRETS_KEY and reads unsealed ones after a key is set', () => {
    const key = randomBytes(32);
    const box = createSecretBox(key);
    const sealed = box.seal('whsec_secret');
    assert.ok(!sealed.includes('whsec_secret'));
    assert.notEqual(box.seal('whsec_secret'), sealed, 'a fresh IV each time');
    assert.equal(box.open(sealed), 'whsec_secret');
    assert.throws(() => createSecretBox(randomBytes(32)).open(sealed), SecretUnreadable);
    assert.throws(() => createSecretBox(undefined).open(sealed), SecretUnreadable);
    const tampered = `${sealed.slice(0, -2)}${sealed.endsWith('A') ? 'B' : 'A'}A`;
    assert.throws(() => box.open(tampered), SecretUnreadable);
    assert.equal(box.open(createSecretBox(undefined).seal('old')), 'old');
  });

  it('takes SECRETS_KEY as 32 bytes in hex or base64, and names no value when it refuses one', () => {
    const key = randomBytes(32);
    assert.deepEqual(parseConfig({ SECRETS_KEY: key.toString('hex') }).secretsKey, key);
    assert.deepEqual(parseConfig({ SECRETS_KEY: key.toString('base64') }).secretsKey, key);
    assert.equal(parseConfig({}).secretsKey, undefined);
    for (const bad of ['short', randomBytes(16).toString('hex'), randomBytes(31).toString('base64')]) {
      assert.throws(() => parseConfig({ SECRETS_KEY: bad }), (err: Error) => err instanceof ConfigError && /SECRETS_KEY/.test(err.message) && !err.message.includes(bad));
    }
    assert.equal(parseConfig({}).webhooks.allowPrivate, false);
    assert.equal(parseConfig({ WEBHOOK_ALLOW_PRIVATE: 'true' }).webhooks.allowPrivate, true);
  });
});
