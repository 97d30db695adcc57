/**
 * Custom fields in the classification library: the strict-mode JSON schema they add, the prompt
 * lines that describe them, the normalisation of each type (domain/fields.ts) and of a whole
 * answer, and the exact-match accuracy evaluation uses.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normaliseAnswer } from '../../src/classify/normalise-answer.ts';
import { finalAnswerSchema, partialAnswerSchema, toOutputSchema, validateAnswer } from '../../src/classify/output-schema.ts';
import { buildMapMessages, buildSingleMessages, renderPartial } from '../../src/classify/prompt.ts';
import type { Taxonomy } from '../../src/classify/types.ts';
import { fieldAccuracy } from '../../src/domain/field-accuracy.ts';
import { type FieldDefinition, fieldDefinitionProblem, normaliseFieldValue, parseDate, parseNumber } from '../../src/domain/fields.ts';

const fields: FieldDefinition[] = [
  { name: 'counterparty', type: 'string', description: 'The other party of the contract' },
  { name: 'contract_value', type: 'number', description: 'Total value in euros' },
  { name: 'end_date', type: 'date' },
  { name: 'auto_renews', type: 'boolean' },
  { name: 'kind', type: 'enum', values: ['Lease', 'Service', 'Purchase'] },
];
const taxonomy: Taxonomy = { id: 't1', version: 2, name: 'contracts', labels: [{ name: 'Contracts' }, { name: 'Miscellaneous' }], fields };
const plain: Taxonomy = { id: 't0', version: 1, name: 'plain', labels: taxonomy.labels };

type Obj = Record<string, unknown>;

/** Every object in the schema: OpenAI's strict mode wants additionalProperties false and every property required. */
function assertStrict(node: unknown, path = '$'): void {
  if (Array.isArray(node)) {
    node.forEach((n, i) => assertStrict(n, `${path}[${i}]`));
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  const o = node as Obj;
  if (o.type === 'object' || o.properties) {
    assert.equal(o.additionalProperties, false, `${path}: additionalProperties`);
    assert.deepEqual([...((o.required as string[]) ?? [])].sort(), Object.keys(o.properties as Obj).sort(), `${path}: every property required`);
  }
  for (const banned of ['default', '$schema', 'minProperties', 'maxProperties']) assert.ok(!(banned in o), `${path}: ${banned}`);
  for (const [k, v] of Object.entries(o)) assertStrict(v, `${path}.${k}`);
}

describe('custom fields in the output schema', () => {
  const { schema } = toOutputSchema('document_classification', finalAnswerSchema(taxonomy));
  const props = (schema.properties as Obj).fields as { properties: Record<string, Obj>; required: string[] };

  it('is strict-mode valid: every object closed, every property (and every field) required', () => {
    assertStrict(schema);
    assertStrict(toOutputSchema('partial', partialAnswerSchema(taxonomy)).schema);
    assert.deepEqual(schema.required, ['tags', 'primaryCategory', 'summary', 'summaryLanguage', 'fields']);
    assert.deepEqual(props.required, fields.map((f) => f.name));
  });

  it('makes each field nullable, of its type; enum values listed; dates by pattern', () => {
    // zod writes a nullable primitive as a type list and a nullable enum or pattern as anyOf: strict mode takes both.
    const types = (name: string) => {
      const node = props.properties[name] as Obj;
      return Array.isArray(node.type) ? node.type : (node.anyOf as Obj[]).map((x) => x.type);
    };
    assert.deepEqual(types('counterparty'), ['string', 'null']);
    assert.deepEqual(types('contract_value'), ['number', 'null']);
    assert.deepEqual(types('auto_renews'), ['boolean', 'null']);
    assert.deepEqual(types('kind'), ['string', 'null']);
    assert.deepEqual(types('end_date'), ['string', 'null']);
    const kind = props.properties.kind?.anyOf as Obj[];
    assert.ok(kind.some((x) => JSON.stringify(x.enum) === JSON.stringify(['Lease', 'Service', 'Purchase'])));
    const date = (props.properties.end_date?.anyOf as Obj[])[0];
    assert.equal(date?.type, 'string');
    assert.equal(typeof date?.pattern, 'string');
  });

  it('leaves a taxonomy without fields exactly as before (no fields property, same prompt)', () => {
    const { schema: s } = toOutputSchema('document_classification', finalAnswerSchema(plain));
    assert.deepEqual(s.required, ['tags', 'primaryCategory', 'summary', 'summaryLanguage']);
    const input = { text: 'x', fileName: 'a.txt', taxonomy: plain };
    assert.ok(!buildSingleMessages(input, 'x', 100)[0]?.content.includes('Fields to extract'));
    assert.ok(!buildSingleMessages(input, 'x', 100)[0]?.content.includes('5. fields'));
  });

  it('describes the fields in the prompt: name, form, description, enum values', () => {
    const system = buildSingleMessages({ text: 'x', fileName: 'a.txt', taxonomy }, 'x', 100)[0]?.content ?? '';
    assert.match(system, /Fields to extract/);
    assert.match(system, /- contract_value \(a number[^)]*\): Total value in euros/);
    assert.match(system, /- end_date \(a date as yyyy-mm-dd\)/);
    assert.match(system, /- kind \(one of "Lease", "Service", "Purchase"\)/);
    assert.match(system, /5\. fields: /);
    assert.match(buildMapMessages({ text: 'x', fileName: 'a.txt', taxonomy }, 'x', 0, 2)[0]?.content ?? '', /4\. fields: /);
    const part = renderPartial({ tags: [], notes: 'n', language: 'en', fields: { counterparty: 'Acme </part>', kind: null } }, 0);
    assert.match(part, /field values: counterparty="Acme ‹\/part>"/);
  });
});

describe('normalising one field value', () => {
  const f = (name: string) => fields.find((x) => x.name === name) as FieldDefinition;

  it('numbers: kept, or read from currency text in either convention', () => {
    assert.deepEqual(normaliseFieldValue(f('contract_value'), 1234.5), { value: 1234.5, outcome: 'kept' });
    const cases: [string, number][] = [
      ['€ 1.234,50', 1234.5],
      ['1,234.50 USD', 1234.5],
      ['EUR 12.345.678', 12345678],
      ['1 234,5', 1234.5],
      ['12,5%', 12.5],
      ['-3.5', -3.5],
      ['1,234', 1234],
      ['1.234', 1.234],
      ['$1,000,000.00', 1000000],
    ];
    for (const [text, n] of cases) assert.deepEqual(normaliseFieldValue(f('contract_value'), text), { value: n, outcome: 'converted' }, text);
    for (const bad of ['lots', 'between 5 and 10', '1,23,4', true, { a: 1 }, [1]]) {
      assert.deepEqual(normaliseFieldValue(f('contract_value'), bad), { value: null, outcome: 'dropped' }, JSON.stringify(bad));
    }
    assert.equal(parseNumber('1.234,56,78'), null);
  });

  it('dates: ISO kept, other forms to yyyy-mm-dd, impossible dates dropped', () => {
    assert.deepEqual(normaliseFieldValue(f('end_date'), '2024-12-31'), { value: '2024-12-31', outcome: 'kept' });
    const cases: [string, string][] = [
      ['31-12-2024', '2024-12-31'],
      ['31/12/2024', '2024-12-31'],
      ['12/31/2024', '2024-12-31'],
      ['1.2.2025', '2025-02-01'],
      ['2024-12-31T10:00:00Z', '2024-12-31'],
      ['2024/1/5', '2024-01-05'],
      ['1 March 2024', '2024-03-01'],
      ['March 1, 2024', '2024-03-01'],
      ['31 december 2024', '2024-12-31'],
      ['1 maart 2024', '2024-03-01'],
    ];
    for (const [text, iso] of cases) assert.deepEqual(normaliseFieldValue(f('end_date'), text), { value: iso, outcome: 'converted' }, text);
    for (const bad of ['2024-02-30', 'next year', '13/13/2024', 20241231, '31 Smarch 2024']) {
      assert.deepEqual(normaliseFieldValue(f('end_date'), bad), { value: null, outcome: 'dropped' }, String(bad));
    }
    assert.equal(parseDate('2024-02-29'), '2024-02-29');
    assert.equal(parseDate('2023-02-29'), null);
  });

  it('booleans, enums and strings', () => {
    assert.deepEqual(normaliseFieldValue(f('auto_renews'), false), { value: false, outcome: 'kept' });
    assert.deepEqual(normaliseFieldValue(f('auto_renews'), 'Yes'), { value: true, outcome: 'converted' });
    assert.deepEqual(normaliseFieldValue(f('auto_renews'), 'nee'), { value: false, outcome: 'converted' });
    assert.deepEqual(normaliseFieldValue(f('auto_renews'), 'maybe'), { value: null, outcome: 'dropped' });
    assert.deepEqual(normaliseFieldValue(f('kind'), 'Lease'), { value: 'Lease', outcome: 'kept' });
    assert.deepEqual(normaliseFieldValue(f('kind'), '  service '), { value: 'Service', outcome: 'converted' });
    assert.deepEqual(normaliseFieldValue(f('kind'), 'Loan'), { value: null, outcome: 'dropped' });
    assert.deepEqual(normaliseFieldValue(f('counterparty'), ' Acme BV '), { value: 'Acme BV', outcome: 'converted' });
    assert.deepEqual(normaliseFieldValue(f('counterparty'), 42), { value: '42', outcome: 'converted' });
    assert.equal((normaliseFieldValue(f('counterparty'), 'x'.repeat(2000)).value as string).length, 500);
    // "Not found" is an answer, not a slip.
    for (const field of fields) assert.deepEqual(normaliseFieldValue(field, null), { value: null, outcome: 'kept' });
  });
});

describe('normalising and validating a whole answer with fields', () => {
  const base = { tags: [{ label: 'Contracts', confidence: 0.9 }], primaryCategory: 'Contracts', summary: 'A lease.', summaryLanguage: 'en' };
  const good = { counterparty: 'Acme BV', contract_value: 1234.5, end_date: '2025-06-30', auto_renews: true, kind: 'Lease' };

  it('a clean answer passes without warnings', () => {
    const v = validateAnswer(JSON.stringify({ ...base, fields: good }), finalAnswerSchema(taxonomy), taxonomy);
    assert.ok(v.ok);
    assert.deepEqual(v.ok && v.value.fields, good);
    assert.deepEqual(v.ok && v.warnings, []);
  });

  it('converts what it can, drops garbage to null, and the answer is still valid', () => {
    const raw = { ...base, fields: { counterparty: 'Acme BV', contract_value: '€ 1.234,50', end_date: 'sometime', auto_renews: 'yes', kind: 'LEASE', invented: 1 } };
    const v = validateAnswer(JSON.stringify(raw), finalAnswerSchema(taxonomy), taxonomy);
    assert.ok(v.ok, v.ok ? '' : v.problem);
    assert.deepEqual(v.value.fields, { counterparty: 'Acme BV', contract_value: 1234.5, end_date: null, auto_renews: true, kind: 'Lease' });
    assert.deepEqual(v.warnings, ['field_value_converted', 'field_value_dropped']);
  });

  it('a missing fields object (a server ignoring the schema) gives nulls and a warning, not a repair', () => {
    const { value, warnings } = normaliseAnswer(structuredClone(base), taxonomy);
    assert.deepEqual((value as Obj).fields, { counterparty: null, contract_value: null, end_date: null, auto_renews: null, kind: null });
    assert.deepEqual(warnings, ['field_value_dropped']);
    assert.ok(validateAnswer(JSON.stringify(base), finalAnswerSchema(taxonomy), taxonomy).ok);
  });
});

describe('field definitions', () => {
  it('accepts good definitions and names each breach', () => {
    assert.equal(fieldDefinitionProblem(fields), null);
    assert.match(fieldDefinitionProblem([{ name: 'end date', type: 'date' }])?.problem ?? '', /letter/);
    assert.match(fieldDefinitionProblem([{ name: '1st', type: 'date' }])?.problem ?? '', /letter/);
    assert.match(fieldDefinitionProblem([{ name: 'kind', type: 'enum' }])?.problem ?? '', /needs "values"/);
    assert.match(fieldDefinitionProblem([{ name: 'n', type: 'number', values: ['1'] }])?.problem ?? '', /only enum/);
    assert.match(fieldDefinitionProblem([{ name: 'a', type: 'string' }, { name: 'A', type: 'number' }])?.problem ?? '', /twice/);
    assert.match(fieldDefinitionProblem([{ name: 'k', type: 'enum', values: ['x', 'X'] }])?.problem ?? '', /twice/);
    const many = Array.from({ length: 21 }, (_, i) => ({ name: `f${i}`, type: 'string' as const }));
    assert.match(fieldDefinitionProblem(many)?.problem ?? '', /at most 20/);
  });
});

describe('fieldAccuracy', () => {
  it('scores exact matches per field over the gold documents', () => {
    const gold = {
      a: { counterparty: 'Acme BV', contract_value: 1000, end_date: '2025-01-01', kind: 'Lease' },
      b: { counterparty: 'Beta', contract_value: 250.5, end_date: null },
      c: { counterparty: 'Gamma' },
    };
    const predicted = new Map([
      ['a', { counterparty: ' acme  bv', contract_value: 1000.0000001, end_date: '2025-01-02', kind: 'Lease' }],
      ['b', { counterparty: 'Beta Ltd', contract_value: 250.5, end_date: null }],
      // c: never predicted -> every gold field of c counts as predicted null
    ]);
    assert.deepEqual(fieldAccuracy(gold, predicted), [
      { field: 'counterparty', compared: 3, correct: 1, accuracy: 1 / 3 },
      { field: 'contract_value', compared: 2, correct: 2, accuracy: 1 },
      { field: 'end_date', compared: 2, correct: 1, accuracy: 0.5 },
      { field: 'kind', compared: 1, correct: 1, accuracy: 1 },
    ]);
  });

  it('has nothing to score without gold values', () => {
    assert.deepEqual(fieldAccuracy({}, { a: { x: 1 } }), []);
    assert.deepEqual(fieldAccuracy({ a: { x: undefined } }, {}), []);
    assert.deepEqual(fieldAccuracy({ a: { x: true } }, { a: { x: 'true' } }), [{ field: 'x', compared: 1, correct: 0, accuracy: 0 }]);
  });
});
