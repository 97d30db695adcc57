import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { strToU8, zipSync, type Zippable } from 'fflate';
import { DEFAULT_EXTRACT_LIMITS, ExtractionError, detectFormat, extractFromBytes, type ExtractionFailureCode } from '../../src/extract/index.ts';
import { buildDocx, buildOle, JPEG_BYTES, randomBytes } from '../support/extract-fixtures.ts';

const limits = DEFAULT_EXTRACT_LIMITS;

async function failsWith(promise: Promise<unknown>, code: ExtractionFailureCode): Promise<ExtractionError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof ExtractionError, `expected an ExtractionError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`expected failure with ${code}`);
}

/** A docx whose document.xml is `size` bytes of one repeated character (deflates ~1000:1). */
function bombDocx(size: number): Uint8Array {
  return buildDocx({ rawMainXml: `<w:document xmlns:w="w"><w:body><w:p><w:r><w:t>${'A'.repeat(size)}</w:t></w:r></w:p></w:body></w:document>` });
}

describe('hostile and broken input', () => {
  it('refuses a high-ratio entry as a zip bomb', async () => {
    const bytes = bombDocx(20 * 1024 * 1024);
    assert.ok(bytes.length < 100_000);
    const err = await failsWith(extractFromBytes(bytes, 'bomb.docx', limits), 'zip_bomb');
    assert.match(err.message, /expands more than/);
  });

  it('refuses an archive with too many entries', async () => {
    const files: Zippable = {};
    for (let i = 0; i < limits.maxEntries + 1; i++) files[`f${i}.txt`] = new Uint8Array(0);
    await failsWith(extractFromBytes(zipSync(files), 'many.docx', limits), 'zip_bomb');
  });

  it('stops at the total inflated size even when declared sizes lie', async () => {
    const bytes = bombDocx(3 * 1024 * 1024);
    // Rewrite every declared uncompressed size (central directory and local headers) to 10 bytes.
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i + 30 < bytes.length; i++) {
      const sig = v.getUint32(i, true);
      if (sig === 0x02014b50) v.setUint32(i + 24, 10, true);
      if (sig === 0x04034b50) v.setUint32(i + 22, 10, true);
    }
    await failsWith(extractFromBytes(bytes, 'liar.docx', { ...limits, maxUncompressedBytes: 1024 * 1024, maxCompressionRatio: 1e9 }), 'zip_bomb');
  });

  it('reads billion-laughs XML with the DTD ignored and nothing expanded', async () => {
    const laughs =
      '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">' +
      '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>' +
      '<w:document xmlns:w="w"><w:body><w:p><w:r><w:t>before &lol3; after</w:t></w:r></w:p></w:body></w:document>';
    const r = await extractFromBytes(buildDocx({ rawMainXml: laughs }), 'lol.docx', limits);
    assert.equal(r.text, 'before  after');
    assert.deepEqual(r.warnings?.filter((w) => w.startsWith('DTD')), ['DTD in word/document.xml ignored; 1 entity reference not expanded']);
  });

  it('never resolves an external entity, in the body or in a property part', async () => {
    const xxe = '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><w:document xmlns:w="w"><w:body><w:p><w:r><w:t>&xxe;</w:t></w:r></w:p></w:body></w:document>';
    const r = await extractFromBytes(buildDocx({ rawMainXml: xxe }), 'xxe.docx', limits);
    assert.equal(r.text, '');
    assert.doesNotMatch(JSON.stringify(r), /root:/);
    // The same in a property part: the title is the dropped reference, so there is none.
    const core = buildDocx({ paragraphs: ['x'], extraFiles: { 'docProps/core.xml': strToU8('<!DOCTYPE x [<!ENTITY a SYSTEM "http://127.0.0.1:9/x">]><cp:coreProperties xmlns:cp="c"><dc:title xmlns:dc="d">&a;</dc:title><dc:creator xmlns:dc="d">Eva</dc:creator></cp:coreProperties>') } });
    const c = await extractFromBytes(core, 'xxe-core.docx', limits);
    assert.equal(c.properties.title, undefined);
    assert.equal(c.properties.creator, 'Eva');
    assert.equal(c.text, 'x');
    assert.ok(c.warnings?.includes('DTD in docProps/core.xml ignored; 1 entity reference not expanded'), String(c.warnings));
  });

  it('reports a truncated archive as corrupt', async () => {
    const bytes = buildDocx({ paragraphs: Array.from({ length: 200 }, (_, i) => `Paragraph ${i}`) });
    await failsWith(extractFromBytes(bytes.subarray(0, Math.floor(bytes.length / 2)), 'cut.docx', limits), 'corrupt');
  });

  it('detects a JPEG named .docx by content', async () => {
    assert.deepEqual(detectFormat(JPEG_BYTES, 'photo.docx'), { format: 'image', mimeType: 'image/jpeg' });
    const r = await extractFromBytes(JPEG_BYTES, 'photo.docx', limits);
    assert.equal(r.format, 'image');
    assert.equal(r.text, '');
  });

  it('handles zero-byte files', async () => {
    await failsWith(extractFromBytes(new Uint8Array(0), 'empty.docx', limits), 'corrupt');
    const txt = await extractFromBytes(new Uint8Array(0), 'empty.txt', limits);
    assert.equal(txt.text, '');
  });

  it('reports an OLE container with EncryptedPackage as encrypted', async () => {
    const ole = buildOle({ EncryptionInfo: new Uint8Array([4, 0, 4, 0]), EncryptedPackage: randomBytes(5000) });
    assert.equal(detectFormat(ole, 'secret.docx').mimeType, 'application/x-tika-ooxml-protected');
    await failsWith(extractFromBytes(ole, 'secret.docx', limits), 'encrypted');
  });

  it('survives random bytes and random bytes behind a zip or OLE signature', async () => {
    for (let seed = 1; seed <= 20; seed++) {
      const noise = randomBytes(4096, seed);
      const asZip = new Uint8Array(noise);
      asZip.set([0x50, 0x4b, 3, 4]);
      const asOle = new Uint8Array(noise);
      asOle.set([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);
      for (const [bytes, name] of [[noise, 'noise.bin'], [asZip, 'noise.docx'], [asOle, 'noise.doc']] as const) {
        try {
          const r = await extractFromBytes(bytes, name, limits);
          assert.equal(typeof r.mimeType, 'string');
        } catch (err) {
          assert.ok(err instanceof ExtractionError, `seed ${seed} ${name}: ${String(err)}`);
        }
      }
    }
  });

  it('refuses files over the size limit before parsing', async () => {
    await failsWith(extractFromBytes(new Uint8Array(2048), 'big.pdf', { ...limits, maxFileBytes: 1024 }), 'too_large');
  });
});
