/**
 * docs/configuration.md, generated from the config schema (src/config.ts): one table row per
 * environment variable with its default and description, in the schema's groups.
 * `npm run docs:config` writes it; test/unit/config-docs.test.ts fails when the committed file differs.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { CONFIG_GROUPS } from '../src/config.ts';

export const CONFIG_DOCS_PATH = fileURLToPath(new URL('../docs/configuration.md', import.meta.url));
export const CONFIG_DOCS_COMMAND = 'npm run docs:config';

/** The description of a variable's schema; a variable without one is an error, not an empty cell. */
function describe(name: string, schema: z.ZodType): string {
  const description = z.globalRegistry.get(schema)?.description;
  if (!description) throw new Error(`${name} has no description in src/config.ts`);
  return description;
}

function defaultOf(schema: z.ZodType): string {
  const shown = z.globalRegistry.get(schema)?.docDefault;
  if (shown) return shown;
  if (schema instanceof z.ZodDefault) return `\`${String(schema.def.defaultValue)}\``;
  return 'unset';
}

const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

export function renderConfigDocs(): string {
  const out = [
    `<!-- Generated from src/config.ts by \`${CONFIG_DOCS_COMMAND}\`; edit the schema, not this file. -->`,
    '# Configuration',
    '',
    'docsight reads its configuration from the environment, or from a `.env` file in the working directory',
    '(the environment wins; see `.env.example`). Everything is validated at start: an invalid value stops the',
    "process with the variable's name and the rule it broke, never the value. An empty value counts as unset.",
    'Nothing else in docsight reads the environment.',
  ];
  for (const group of CONFIG_GROUPS) {
    out.push('', `## ${group.title}`, '', '| variable | default | meaning |', '| --- | --- | --- |');
    for (const [name, schema] of Object.entries(group.shape) as [string, z.ZodType][]) {
      out.push(`| \`${name}\` | ${cell(defaultOf(schema))} | ${cell(describe(name, schema))} |`);
    }
  }
  return `${out.join('\n')}\n`;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  writeFileSync(CONFIG_DOCS_PATH, renderConfigDocs());
  console.log(`wrote ${path.relative(process.cwd(), CONFIG_DOCS_PATH)}`);
}
