import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { CONFIG_DOCS_COMMAND, CONFIG_DOCS_PATH, renderConfigDocs } from '../../scripts/config-docs.ts';
import { ENV_VARIABLES } from '../../src/config.ts';

describe('docs/configuration.md', () => {
  it('is what the config schema generates now', () => {
    const committed = readFileSync(CONFIG_DOCS_PATH, 'utf8');
    assert.ok(
      committed === renderConfigDocs(),
      `docs/configuration.md differs from src/config.ts: run \`${CONFIG_DOCS_COMMAND}\` and commit the result`,
    );
  });

  it('has one row per variable the schema reads, each with a default and a description', () => {
    const rows = renderConfigDocs()
      .split('\n')
      .filter((line) => line.startsWith('| `'))
      .map((line) => line.split(' | '));
    assert.deepEqual(rows.map((cells) => cells[0]?.replace(/^\| `|`$/g, '')).sort(), [...ENV_VARIABLES].sort());
    for (const cells of rows) {
      assert.equal(cells.length, 3, cells.join(' | '));
      assert.ok(cells.every((c) => c.replace(/\|$/, '').trim().length > 0), cells.join(' | '));
    }
    assert.ok(rows.some((cells) => cells[0] === '| `RECONCILE_AFTER_MS`' && cells[1] === '`120000`'));
  });
});
