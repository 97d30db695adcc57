/**
 * Real-world documents (../shared/corpus, from public test suites; never copied into the repo):
 * every file must be extracted or fail with a coded ExtractionError, and the values the source
 * projects' own tests assert (EXPECTED_VALUES.tsv) must come out the same here.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  DEFAULT_EXTRACT_LIMITS,
  ExtractionError,
  detectFormat,
  extractFromBytes,
  isIgnoredFileName,
  type ExtractionResult,
} from '../../src/extract/index.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
// Beside the checkout (../shared/corpus), or where DOCSIGHT_CORPUS says, or the workspace's copy for
// a clone made elsewhere (CI clones to a fresh directory).
const candidates = [process.env.DOCSIGHT_CORPUS, resolve(repoRoot, '../shared/corpus'), '/work/shared/corpus'].filter(
  (c): c is string => c !== undefined && c !== '',
);
const corpus = candidates.find((c) => existsSync(join(c, 'MANIFEST.tsv'))) ?? resolve(repoRoot, '../shared/corpus');
const present = existsSync(join(corpus, 'MANIFEST.tsv'));
const PER_FILE_TIMEOUT_MS = 30_000;

type Outcome = { ok: true; result: ExtractionResult } | { ok: false; error: unknown };

function* walk(dir: string): Generator<string> {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* walk(p);
    else yield p;
  }
}

async function run(path: string): Promise<Outcome> {
  const bytes = new Uint8Array(readFileSync(path));
  detectFormat(bytes, path);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ExtractionError('timeout', `over ${PER_FILE_TIMEOUT_MS} ms`)), PER_FILE_TIMEOUT_MS);
  });
  try {
    return { ok: true, result: await Promise.race([extractFromBytes(bytes, path, DEFAULT_EXTRACT_LIMITS), timeout]) };
  } catch (error) {
    return { ok: false, error };
  } finally {
    clearTimeout(timer);
  }
}

/** TSV with spreadsheet-style quoting ("" inside quoted fields). */
function readTsv(path: string): Array<Record<string, string>> {
  const [header, ...lines] = readFileSync(path, 'utf8').split('\n').filter((l) => l.trim() !== '');
  const cols = (header ?? '').split('\t');
  return lines.map((line) => {
    const cells = line.split('\t').map((c) => (c.startsWith('"') && c.endsWith('"') ? c.slice(1, -1).replace(/""/g, '"') : c));
    return Object.fromEntries(cols.map((c, i) => [c, cells[i] ?? '']));
  });
}

const sameDate = (a: unknown, b: string) => typeof a === 'string' && Date.parse(a.endsWith('Z') || /[+-]\d\d:?\d\d$/.test(a) ? a : `${a}Z`) === Date.parse(b);
const allText = (r: ExtractionResult) => [r.text, ...Object.values(r.parts ?? {})].join('\n');

/** Expected-value rows that no extractor of document files can check, with the reason. */
const EXCEPTIONS: Record<string, string> = {
  'node-word-extractor/*.docx|body/headers/footnotes': 'the expected values are Jest snapshots in another repository, not in the corpus',
  'peer_PhilipSoliman + rebelsaI_case_study Project 1..5|sentiment label': 'an LLM classification outcome, not an extraction value (checked by the classify tests)',
};

/** Python-docx style "key value; key value" lists, split on the known keys (values may hold ';'). */
function keyedList(text: string, keys: string[]): Map<string, string> {
  const re = new RegExp(`(?:^|; )(${keys.join('|')}) `, 'g');
  const marks = [...text.matchAll(re)];
  const out = new Map<string, string>();
  marks.forEach((m, i) => {
    const start = (m.index ?? 0) + m[0].length;
    const end = i + 1 < marks.length ? (marks[i + 1]?.index ?? text.length) : text.length;
    out.set(m[1] ?? '', text.slice(start, end));
  });
  return out;
}

if (!present) {
  describe('real-world corpus', () => {
    it('runs when ../shared/corpus is present', (t) => t.skip(`no corpus at ${corpus}`));
  });
} else {
  describe('real-world corpus', () => {
    const outcomes = new Map<string, Outcome>();
    const summary = { files: 0, ignored: 0, extracted: 0, failed: {} as Record<string, number> };

    after(() => {
      console.log(`corpus: ${summary.files} files, ${summary.ignored} ignored, ${summary.extracted} extracted, failed by code ${JSON.stringify(summary.failed)}`);
    });

    it('extracts every file or fails it with a coded reason', async () => {
      for (const path of walk(corpus)) {
        const rel = relative(corpus, path);
        if (!rel.includes('/')) continue; // the corpus's own MANIFEST/README files
        summary.files++;
        if (isIgnoredFileName(path)) {
          summary.ignored++;
          continue;
        }
        const outcome = await run(path);
        outcomes.set(rel, outcome);
        if (outcome.ok) {
          summary.extracted++;
          assert.equal(typeof outcome.result.text, 'string');
          assert.ok(outcome.result.mimeType, rel);
        } else {
          assert.ok(outcome.error instanceof ExtractionError, `${rel}: uncoded failure ${String(outcome.error)}`);
          summary.failed[outcome.error.code] = (summary.failed[outcome.error.code] ?? 0) + 1;
          assert.notEqual(outcome.error.code, 'timeout', `${rel} timed out`);
        }
      }
      assert.ok(summary.extracted > summary.files / 2);
    });

    it('reads a Word part that carries a DTD with the DTD ignored and nothing expanded', () => {
      // POI's ExternalEntityInText.docx: word/document.xml declares an external entity and uses it
      // in the text. POI's own test (TestExternalEntities) reads the text with the reference dropped.
      const file = 'poi/document/ExternalEntityInText.docx';
      const o = outcomes.get(file);
      assert.ok(o, `${file} was not processed`);
      assert.ok(o.ok, `${file} failed: ${o.ok ? '' : String(o.error)}`);
      const r = o.result;
      const reference = (JSON.parse(readFileSync(join(corpus, 'reference-core-properties.json'), 'utf8')) as Record<string, Record<string, unknown>>)[file];
      assert.ok(reference, `${file} has reference core properties`);
      assert.equal(r.properties.creator, reference.author);
      assert.equal(r.properties.lastModifiedBy, reference.last_modified_by);
      assert.equal(r.properties.revision, String(reference.revision));
      assert.ok(sameDate(r.properties.created, String(reference.created)), String(r.properties.created));
      assert.ok(sameDate(r.properties.modified, String(reference.modified)), String(r.properties.modified));
      assert.equal(r.text.trim(), 'Here should not be the POI web site: ""');
      assert.ok(r.warnings?.includes('DTD in word/document.xml ignored; 1 entity reference not expanded'), String(r.warnings));
    });

    it('matches the values the source projects assert', () => {
      const got = (file: string): ExtractionResult => {
        const o = outcomes.get(file);
        assert.ok(o, `${file} was not processed`);
        assert.ok(o.ok, `${file} failed: ${o.ok ? '' : String(o.error)}`);
        return o.result;
      };
      const failure = (file: string): ExtractionError => {
        const o = outcomes.get(file);
        assert.ok(o && !o.ok && o.error instanceof ExtractionError, `${file} should fail with a code`);
        return o.error;
      };
      for (const row of readTsv(join(corpus, 'EXPECTED_VALUES.tsv'))) {
        const file = row.file ?? '';
        const field = row.field ?? '';
        const expected = row.expected ?? '';
        const key = `${file}|${field}`;
        if (EXCEPTIONS[key]) continue;
        const where = `${file} ${field}`;
        const single = /^(core|app|custom)\.(\w+)$/.exec(field);
        if (single) {
          const r = got(file);
          const [, group, name = ''] = single;
          const appMap: Record<string, keyof typeof r.properties> = { Application: 'application', AppVersion: 'appVersion', Template: 'template', Company: 'company', Pages: 'pages', Words: 'words' };
          const actual = group === 'custom' ? r.properties.custom?.[name] : group === 'app' ? r.properties[appMap[name] ?? 'application'] : r.properties[name as keyof typeof r.properties];
          if (/^\d{4}-\d\d-\d\dT/.test(expected)) assert.ok(sameDate(actual, expected), `${where}: ${String(actual)} != ${expected}`);
          else assert.equal(String(actual), expected, where);
          continue;
        }
        switch (field) {
          case 'app.Pages / app.Words':
          case 'app.Template / app.Company': {
            const r = got(file);
            const [a, b] = expected.split(' / ');
            const values = field.includes('Pages') ? [r.properties.pages, r.properties.words] : [r.properties.template, r.properties.company];
            assert.deepEqual(values.map(String), [a, b], where);
            break;
          }
          case 'core.creator (split on ;)': {
            const creators = got(file).raw['dc:creator'];
            assert.ok(Array.isArray(creators), where);
            assert.equal(creators.length, 3, where);
            assert.equal(creators[1], 'author2', where);
            break;
          }
          case 'text': {
            const text = allText(got(file));
            for (const m of expected.matchAll(/"([^"]+)"/g)) assert.ok(text.includes(m[1] ?? ''), `${where}: missing "${m[1]}"`);
            break;
          }
          case 'title / creator / creator tool': {
            const r = got(file);
            const [title, creator, tool] = expected.split(' / ');
            assert.equal(r.properties.title, title, where);
            assert.equal(r.properties.creator, creator, where);
            assert.equal(r.properties.application, tool, where);
            break;
          }
          case 'author / title / Info "Custom Property"': {
            const r = got(file);
            const [author, title, custom] = expected.split(' / ');
            assert.equal(r.properties.creator, author, where);
            assert.equal(r.properties.title, title, where);
            assert.equal(r.properties.custom?.['Custom Property'], custom, where);
            break;
          }
          case 'core.title / creator / subject / category / created': {
            const r = got(file);
            const [title, creator, subject, category, created = ''] = expected.split(' / ');
            assert.deepEqual([r.properties.title, r.properties.creator, r.properties.subject, r.properties.category], [title, creator, subject, category], where);
            assert.ok(sameDate(r.properties.created, created), where);
            break;
          }
          case 'all 16 core props': {
            const p = got(file).properties;
            assert.deepEqual(
              [p.title, p.creator, p.subject, p.keywords, p.description, p.category, p.contentStatus, p.contentType, p.identifier, p.language, p.lastModifiedBy, p.revision, p.version],
              ['MyTitle', 'MyCreator', 'MySubject', 'MyKeywords', 'MyDescription', 'MyCategory', 'MyContentStatus', 'MyContentType', 'MyIdentifier', 'MyLanguage', 'Julien Chable', '2', '2'],
              where,
            );
            for (const d of [p.created, p.modified, p.lastPrinted]) assert.ok(sameDate(d, '2007-05-12T08:00:00Z'), `${where}: ${String(d)}`);
            break;
          }
          case 'core.keywords; app.Application; app.AppVersion': {
            const p = got(file).properties;
            assert.deepEqual([p.keywords, p.application, p.appVersion], expected.split('; '), where);
            break;
          }
          case 'open result': {
            const re = new RegExp(`^${file.replace(/[.]/g, '\\.').replace('*', '.*')}$`);
            const matching = [...outcomes.keys()].filter((k) => re.test(k));
            assert.ok(matching.length > 0, where);
            for (const m of matching) assert.ok(got(m).warnings?.some((w) => w.startsWith('OPC M4')), `${m} should be flagged non-conformant`);
            break;
          }
          case 'password':
            // We never decrypt; a protected package is reported, not opened.
            assert.equal(failure(file).code, 'encrypted', where);
            break;
          case 'all core props': {
            const p = got(file).properties;
            const keys = ['author', 'category', 'comments', 'content_status', 'created', 'identifier', 'keywords', 'language', 'last_modified_by', 'last_printed', 'modified', 'revision', 'subject', 'title', 'version'];
            const ours: Record<string, unknown> = {
              author: p.creator, category: p.category, comments: p.description, content_status: p.contentStatus, created: p.created, identifier: p.identifier,
              keywords: p.keywords, language: p.language, last_modified_by: p.lastModifiedBy, last_printed: p.lastPrinted, modified: p.modified, revision: p.revision,
              subject: p.subject, title: p.title, version: p.version,
            };
            for (const [k, v] of keyedList(expected, keys)) {
              if (/^\d{4}-/.test(v)) assert.ok(sameDate(ours[k], v), `${where} ${k}`);
              else assert.equal(ours[k], v, `${where} ${k}`);
            }
            break;
          }
          case 'core props': {
            const p = got(file).properties;
            if (expected.startsWith('{}')) {
              for (const k of ['title', 'creator', 'subject', 'created', 'modified', 'lastModifiedBy'] as const) assert.equal(p[k], undefined, `${where} ${k}`);
              break;
            }
            const m = keyedList(expected, ['creator', 'lastModifiedBy', 'created', 'modified', 'revision', 'title/subject/keywords/description']);
            assert.equal(p.creator, m.get('creator'), where);
            assert.equal(p.lastModifiedBy, m.get('lastModifiedBy'), where);
            assert.ok(sameDate(p.created, m.get('created') ?? ''), where);
            assert.ok(sameDate(p.modified, m.get('modified') ?? ''), where);
            assert.equal(p.revision, m.get('revision'), where);
            for (const k of ['title', 'subject', 'keywords', 'description'] as const) assert.equal(p[k], undefined, `${where} ${k}`);
            break;
          }
          case 'visible title / authors / date': {
            // Pandoc reads these from paragraph styles, not core.xml: they must be in our body text.
            const text = got(file).text;
            for (const part of expected.replace(/\s*\(.*\)$/, '').split(' / ').flatMap((s) => s.split(', '))) {
              assert.ok(text.includes(part), `${where}: missing "${part}"`);
            }
            break;
          }
          case 'html': {
            const want = expected === '(empty string)' ? '' : expected.replace(/<[^>]+>/g, '');
            assert.equal(got(file).text.trim(), want, where);
            break;
          }
          default:
            assert.fail(`unhandled expected-value row: ${key} (add a check or an exception with a reason)`);
        }
      }
    });
  });
}
