import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { splitIntoChunks } from '../../src/classify/chunking.ts';
import { countTokens } from '../../src/classify/tokens.ts';

function paragraphs(n: number, words = 60): string {
  return Array.from({ length: n }, (_, i) => `P${i}START ${'lorem ipsum dolor sit amet '.repeat(words / 5)}P${i}END.`).join('\n\n');
}

describe('splitIntoChunks', () => {
  it('keeps a short text whole', () => {
    assert.deepEqual(splitIntoChunks('One paragraph.\n\nAnother one.', { maxTokens: 100 }), ['One paragraph.\n\nAnother one.']);
  });

  it('returns nothing for blank text', () => {
    assert.deepEqual(splitIntoChunks('  \n\n ', { maxTokens: 100 }), []);
  });

  it('keeps every chunk inside the budget and loses no paragraph', () => {
    const text = paragraphs(120);
    const chunks = splitIntoChunks(text, { maxTokens: 500, overlapTokens: 40 });
    assert.ok(chunks.length > 1);
    for (const c of chunks) assert.ok(countTokens(c) <= 500, `chunk of ${countTokens(c)} tokens`);
    const all = chunks.join('\n');
    for (let i = 0; i < 120; i++) {
      assert.ok(all.includes(`P${i}START`) && all.includes(`P${i}END`), `paragraph ${i} lost`);
    }
  });

  it('splits on paragraph boundaries when paragraphs fit', () => {
    const chunks = splitIntoChunks(paragraphs(40), { maxTokens: 400 });
    for (const c of chunks) {
      assert.match(c, /^P\d+START/);
      assert.match(c, /P\d+END\.$/);
    }
  });

  it('repeats a little of the previous chunk at the start of the next one', () => {
    const chunks = splitIntoChunks(paragraphs(30), { maxTokens: 400, overlapTokens: 30 });
    const [first, second] = chunks;
    assert.ok(first && second);
    const firstTail = first.slice(-40);
    assert.ok(second.includes(firstTail.trim().slice(-20)), 'no overlap found');
  });

  it('splits a giant paragraph without sentence breaks by tokens, losing nothing', () => {
    const word = 'abcdefghij';
    const text = Array.from({ length: 3000 }, (_, i) => `${word}${i}`).join(' ');
    const chunks = splitIntoChunks(text, { maxTokens: 300 });
    assert.ok(chunks.length > 5);
    for (const c of chunks) assert.ok(countTokens(c) <= 300);
    assert.equal(chunks.join('').replace(/\s+/g, ''), text.replace(/\s+/g, ''));
  });
});
