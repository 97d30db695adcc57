import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config.ts';
import { PII_KINDS, type PiiKind } from '../../src/domain/vocabulary.ts';
import { DEFAULT_EXTRACT_LIMITS, extractFromBytes } from '../../src/extract/index.ts';
import { MAX_PHONE_CHECKS } from '../../src/pii/detectors.ts';
import { cardIssuer, detectPersonalData, isValidBsn, isValidIban, MAX_SAMPLES, MAX_SCAN_CHARS, type PiiSummary } from '../../src/pii/index.ts';
import { buildDocx } from '../support/extract-fixtures.ts';

const all = (text: string, parts?: Record<string, string>): PiiSummary => detectPersonalData({ text, parts }, PII_KINDS) ?? {};
const masked = (s: PiiSummary, kind: PiiKind) => s[kind]?.samples.map((x) => x.masked) ?? [];

describe('checks', () => {
  it('applies the 11-test to citizen service numbers', () => {
    assert.equal(isValidBsn('111222333'), true);
    assert.equal(isValidBsn('123456782'), true);
    assert.equal(isValidBsn('111222334'), false);
    assert.equal(isValidBsn('000000000'), false);
  });

  it('checks IBANs with mod-97 for every country', () => {
    assert.equal(isValidIban('NL91ABNA0417164300'), true);
    assert.equal(isValidIban('DE89370400440532013000'), true);
    assert.equal(isValidIban('GB82WEST12345698765432'), true);
    assert.equal(isValidIban('NL91ABNA0417164301'), false);
  });

  it('knows card numbers by Luhn and issuer range', () => {
    assert.equal(cardIssuer('4111111111111111'), 'visa');
    assert.equal(cardIssuer('5555555555554444'), 'mastercard');
    assert.equal(cardIssuer('2223003122003222'), 'mastercard');
    assert.equal(cardIssuer('378282246310005'), 'amex');
    assert.equal(cardIssuer('6011111111111117'), 'discover');
    assert.equal(cardIssuer('4111111111111112'), null, 'fails Luhn');
    // Passes Luhn, but no issuer has numbers starting with 9.
    assert.equal(cardIssuer('9111111111111110'), null);
  });
});

describe('detectPersonalData: bounded work', () => {
  it('looks at the first MAX_SCAN_CHARS of a text: values further on are not reported', () => {
    const filler = 'x '.repeat(MAX_SCAN_CHARS / 2);
    const s = all(`BSN 111222333 ${filler} BSN 123456782`);
    assert.deepEqual(masked(s, 'bsn'), ['******333']);
  });

  it('asks the phone library about one candidate once, and about at most MAX_PHONE_CHECKS a document', () => {
    const same = Array.from({ length: 50 }, () => '06-12345678').join(' en ');
    assert.equal(all(same).phone?.count, 1);
    const many = Array.from({ length: MAX_PHONE_CHECKS + 20 }, (_, i) => `06-${String(10000000 + i)}`).join(', ');
    assert.equal(all(many).phone?.count, MAX_PHONE_CHECKS);
  });
});

describe('detectPersonalData', () => {
  it('finds BSNs written plain, with dots or spaces, and skips those failing the 11-test', () => {
    const s = all('BSN 111222333, ook 123.456.782 en 111 222 333; fout: 111222334 en 123.456.789');
    assert.equal(s.bsn?.count, 2, 'the same number written twice is one value');
    assert.deepEqual(masked(s, 'bsn'), ['******333', '******782']);
  });

  it('finds IBANs with and without spaces, of any country, and skips wrong check digits', () => {
    const s = all('Rekening NL91ABNA0417164300 of NL91 ABNA 0417 1643 00, DE89 3704 0044 0532 0130 00; fout NL91ABNA0417164301');
    assert.equal(s.iban?.count, 2);
    assert.deepEqual(masked(s, 'iban'), ['NL91 **** **** **** 00', 'DE89 **** **** **** **** 00']);
    assert.equal(all('NL91ABNA0417164301 en NL91ABNA04171643001').iban, undefined, 'wrong check digits, or too long for NL');
  });

  it('finds card numbers of each issuer and skips those failing Luhn', () => {
    const s = all('Visa 4111 1111 1111 1111, MC 5555-5555-5555-4444, Amex 3782 822463 10005; fout 4111 1111 1111 1112');
    assert.equal(s.card?.count, 3);
    assert.deepEqual(masked(s, 'card'), ['*****1111', '*****4444', '*****0005']);
    assert.equal(all('4111 1111 1111 1112').card, undefined);
    assert.equal(s.bsn, undefined, 'digits of a card are not read again as a BSN');
  });

  it('finds e-mail addresses', () => {
    const s = all('Mail anna.jansen@example.nl of info@sub.firma.co.uk; niet: foo@bar, a..b@example.nl');
    assert.deepEqual(masked(s, 'email'), ['a***@example.nl', 'i***@sub.firma.co.uk']);
  });

  it('finds Dutch numbers without a country code and international ones with +', () => {
    const s = all('Bel 06-12345678, 020 123 4567 of +44 20 7946 0958; geen nummer: 111222334 of 12345');
    assert.deepEqual(masked(s, 'phone'), ['+31*******78', '+31*******67', '+44********58']);
  });

  it('finds dates of birth only next to a birth keyword, in Dutch or English', () => {
    const s = all('Geboortedatum: 12-03-1980. Born on March 5, 1975. Geboren op 3 mei 1990. DOB 1966-07-31.');
    assert.equal(s.birthdate?.count, 4);
    assert.deepEqual(masked(s, 'birthdate'), ['**-**-1980', '**-**-1975', '**-**-1990']);
    assert.equal(all('Factuurdatum 12-03-1980, vervaldatum 2024-01-05').birthdate, undefined);
    assert.equal(all('Geboren: 31-02-1980').birthdate, undefined, 'no such day');
  });

  it('keeps at most three samples per kind and counts every distinct value', () => {
    const emails = Array.from({ length: 7 }, (_, i) => `p${i}@example.nl`).join(' ');
    const s = all(emails);
    assert.equal(s.email?.count, 7);
    assert.equal(s.email?.samples.length, MAX_SAMPLES);
  });

  it('says which part or page a sample came from', () => {
    const s = all('Pagina een\fPagina twee: 111222333', { header: 'NL91ABNA0417164300', footer: 'info@firma.nl', sheetNames: '111222333' });
    assert.deepEqual(s.bsn?.samples, [{ masked: '******333', part: 'page 2' }]);
    assert.deepEqual(s.iban?.samples, [{ masked: 'NL91 **** **** **** 00', part: 'header' }]);
    assert.deepEqual(s.email?.samples, [{ masked: 'i***@firma.nl', part: 'footer' }]);
    assert.equal(all('body 111222333').bsn?.samples[0]?.part, 'body');
  });

  it('looks only for the kinds asked for, and for none when the list is empty', () => {
    const text = 'BSN 111222333, IBAN NL91ABNA0417164300, info@firma.nl';
    assert.deepEqual(Object.keys(detectPersonalData({ text }, ['iban']) ?? {}), ['iban']);
    assert.equal(detectPersonalData({ text }, []), undefined);
    assert.equal(detectPersonalData({ text: 'Geen persoonsgegevens hier.' }, PII_KINDS), undefined);
  });

  it('never puts a clear value in its output', () => {
    const clear = ['111222333', '123456782', 'NL91ABNA0417164300', '0417164300', '4111111111111111', '1111 1111 1111', 'anna.jansen', '612345678', '12-03-1980'];
    const text = 'BSN 111222333 en 123.456.782, NL91 ABNA 0417 1643 00, 4111 1111 1111 1111, anna.jansen@example.nl, 06 12345678, geboortedatum 12-03-1980';
    const json = JSON.stringify(all(text));
    assert.equal(Object.keys(JSON.parse(json) as object).length, 6, 'every kind found');
    for (const value of clear) assert.ok(!json.includes(value), `${value} appears in ${json}`);
    assert.ok(!json.replaceAll(' ', '').includes('ABNA'), 'the bank code is masked');
  });
});

describe('detection during extraction', () => {
  const docx = buildDocx({ paragraphs: ['BSN 111222333 en fout 111222334'], headers: ['IBAN NL91 ABNA 0417 1643 00'], footers: ['info@firma.nl'] });

  it('adds the masked summary of the body, headers and footers to the result when kinds are asked for', async () => {
    const r = await extractFromBytes(docx, 'dossier.docx', { ...DEFAULT_EXTRACT_LIMITS, piiKinds: PII_KINDS });
    assert.deepEqual(r.pii, {
      iban: { count: 1, samples: [{ masked: 'NL91 **** **** **** 00', part: 'headers' }] },
      bsn: { count: 1, samples: [{ masked: '******333', part: 'body' }] },
      email: { count: 1, samples: [{ masked: 'i***@firma.nl', part: 'footers' }] },
    });
  });

  it('leaves it out when no kind is asked for', async () => {
    assert.equal((await extractFromBytes(docx, 'dossier.docx', { ...DEFAULT_EXTRACT_LIMITS, piiKinds: [] })).pii, undefined);
    assert.equal((await extractFromBytes(docx, 'dossier.docx', DEFAULT_EXTRACT_LIMITS)).pii, undefined);
  });
});

describe('configuration', () => {
  const base = { DATABASE_URL: 'postgres://x@127.0.0.1/x' };

  it('looks for every kind by default, the kinds named in PII_KINDS, and none with PII_DETECTION=off', () => {
    assert.deepEqual(parseConfig(base).limits.piiKinds, [...PII_KINDS]);
    assert.deepEqual(parseConfig({ ...base, PII_KINDS: 'iban, bsn' }).limits.piiKinds, ['iban', 'bsn']);
    assert.deepEqual(parseConfig({ ...base, PII_DETECTION: 'off' }).limits.piiKinds, []);
  });

  it('refuses a kind it does not know', () => {
    assert.throws(() => parseConfig({ ...base, PII_KINDS: 'bsn,passport' }), /PII_KINDS/);
  });
});
