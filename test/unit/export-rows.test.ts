/**
 * The export's rows, byte for byte: CSV records, JSONL lines and the XLSX sheet of a few awkward
 * documents (formula starts, quotes, line breaks, characters XML cannot hold, astral characters,
 * attachments, no classification, custom fields) as the writers of main at a4ed445 wrote them,
 * before the rows were written straight from the record (issue 19). Any change in what a
 * spreadsheet or a JSONL reader gets fails here.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { strFromU8, unzipSync } from 'fflate';
import { exportLayout, type ExportRow } from '../../src/services/export/columns.ts';
import { csvLine } from '../../src/services/export/csv.ts';
import { xlsxStream } from '../../src/services/export/xlsx.ts';

const base: ExportRow = {
  id: '00000000-0000-4000-8000-000000000001',
  path: 'A/=copy.docx',
  name: '=copy.docx',
  folder: 'A',
  extension: 'docx',
  size: 10,
  modified: new Date('2024-01-01T00:00:00.123Z'),
  format: 'docx',
  status: 'extracted',
  title: 'Say "hi", then\r\nleave',
  author: '-5 <me> & you',
  created: new Date('1999-12-31T23:59:59Z'),
  language: 'nl',
  pages: 3,
  words: 0,
  origin: 'file',
  parentPath: null,
  textSource: 'text-layer',
  tags: [
    { label: 'Invoice, paid', confidence: 0.9 },
    { label: '@home "x"', confidence: 1 },
  ],
  primaryCategory: '+Invoice',
  summary: 'bell\u0007 and \uD800 lone \u2603 \uD83D\uDE00',
  fields: { amount: 12.5, paid: true, due: '2024-02-01', note: 'x' },
  personalData: { iban: 2, email: 1 },
  duplicate: { group: 'ab12', kind: 'exact', duplicateOf: '@A/=original.docx', similarity: 0.8125 },
};
const ROWS: ExportRow[] = [
  base,
  {
    ...base,
    id: '2',
    path: 'B/mail.eml#1/att.pdf',
    name: 'att.pdf',
    folder: 'B',
    origin: 'attachment' as ExportRow['origin'],
    parentPath: 'B/mail.eml',
    title: null,
    author: null,
    created: null,
    language: null,
    pages: null,
    words: null,
    textSource: null,
    tags: null,
    primaryCategory: null,
    summary: null,
    fields: null,
    personalData: {},
    duplicate: null,
    size: -1,
  },
  { ...base, id: '3', path: '\tTab', name: '\tTab', fields: { amount: 0, paid: false }, tags: [], summary: '', duplicate: { group: 'cd', kind: 'near', duplicateOf: null, similarity: 1 } },
];

/** What main wrote, per list of custom fields. */
const EXPECTED: { fields: string[]; header: string; csv: string[]; jsonl: string[]; sheet: string }[] = [
  {
    fields: [],
    header: "path,name,folder,extension,size,modified,format,status,title,author,created,language,pages,words,origin,parent_path,text_source,tags,primary_category,summary,duplicate_group,duplicate_kind,duplicate_of,duplicate_similarity,personal_data_bsn,personal_data_iban,personal_data_card,personal_data_email,personal_data_phone,personal_data_birthdate\r\n",
    csv: [
      "A/=copy.docx,'=copy.docx,A,docx,10,2024-01-01T00:00:00.123Z,docx,extracted,\"Say \"\"hi\"\", then\r\nleave\",'-5 <me> & you,1999-12-31T23:59:59.000Z,nl,3,0,file,,text-layer,\"Invoice, paid (0.9); @home \"\"x\"\" (1)\",'+Invoice,bell\u0007 and \ud800 lone \u2603 \ud83d\ude00,ab12,exact,'@A/=original.docx,0.8125,0,2,0,1,0,0\r\n",
      "B/mail.eml#1/att.pdf,att.pdf,B,docx,-1,2024-01-01T00:00:00.123Z,docx,extracted,,,,,,,attachment,B/mail.eml,,,,,,,,,0,0,0,0,0,0\r\n",
      "'\tTab,'\tTab,A,docx,10,2024-01-01T00:00:00.123Z,docx,extracted,\"Say \"\"hi\"\", then\r\nleave\",'-5 <me> & you,1999-12-31T23:59:59.000Z,nl,3,0,file,,text-layer,,'+Invoice,,cd,near,,1,0,2,0,1,0,0\r\n",
    ],
    jsonl: [
      "{\"path\":\"A/=copy.docx\",\"name\":\"=copy.docx\",\"folder\":\"A\",\"extension\":\"docx\",\"size\":10,\"modified\":\"2024-01-01T00:00:00.123Z\",\"format\":\"docx\",\"status\":\"extracted\",\"title\":\"Say \\\"hi\\\", then\\r\\nleave\",\"author\":\"-5 <me> & you\",\"created\":\"1999-12-31T23:59:59.000Z\",\"language\":\"nl\",\"pages\":3,\"words\":0,\"origin\":\"file\",\"parent_path\":null,\"text_source\":\"text-layer\",\"tags\":[{\"label\":\"Invoice, paid\",\"confidence\":0.9},{\"label\":\"@home \\\"x\\\"\",\"confidence\":1}],\"primary_category\":\"+Invoice\",\"summary\":\"bell\\u0007 and \\ud800 lone \u2603 \ud83d\ude00\",\"duplicate_group\":\"ab12\",\"duplicate_kind\":\"exact\",\"duplicate_of\":\"@A/=original.docx\",\"duplicate_similarity\":0.8125,\"personal_data_bsn\":0,\"personal_data_iban\":2,\"personal_data_card\":0,\"personal_data_email\":1,\"personal_data_phone\":0,\"personal_data_birthdate\":0}",
      "{\"path\":\"B/mail.eml#1/att.pdf\",\"name\":\"att.pdf\",\"folder\":\"B\",\"extension\":\"docx\",\"size\":-1,\"modified\":\"2024-01-01T00:00:00.123Z\",\"format\":\"docx\",\"status\":\"extracted\",\"title\":null,\"author\":null,\"created\":null,\"language\":null,\"pages\":null,\"words\":null,\"origin\":\"attachment\",\"parent_path\":\"B/mail.eml\",\"text_source\":null,\"tags\":null,\"primary_category\":null,\"summary\":null,\"duplicate_group\":null,\"duplicate_kind\":null,\"duplicate_of\":null,\"duplicate_similarity\":null,\"personal_data_bsn\":0,\"personal_data_iban\":0,\"personal_data_card\":0,\"personal_data_email\":0,\"personal_data_phone\":0,\"personal_data_birthdate\":0}",
      "{\"path\":\"\\tTab\",\"name\":\"\\tTab\",\"folder\":\"A\",\"extension\":\"docx\",\"size\":10,\"modified\":\"2024-01-01T00:00:00.123Z\",\"format\":\"docx\",\"status\":\"extracted\",\"title\":\"Say \\\"hi\\\", then\\r\\nleave\",\"author\":\"-5 <me> & you\",\"created\":\"1999-12-31T23:59:59.000Z\",\"language\":\"nl\",\"pages\":3,\"words\":0,\"origin\":\"file\",\"parent_path\":null,\"text_source\":\"text-layer\",\"tags\":[],\"primary_category\":\"+Invoice\",\"summary\":\"\",\"duplicate_group\":\"cd\",\"duplicate_kind\":\"near\",\"duplicate_of\":null,\"duplicate_similarity\":1,\"personal_data_bsn\":0,\"personal_data_iban\":2,\"personal_data_card\":0,\"personal_data_email\":1,\"personal_data_phone\":0,\"personal_data_birthdate\":0}",
    ],
    sheet: "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData><row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">path</t></is></c><c r=\"B1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">name</t></is></c><c r=\"C1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">folder</t></is></c><c r=\"D1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">extension</t></is></c><c r=\"E1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">size</t></is></c><c r=\"F1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">modified</t></is></c><c r=\"G1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">format</t></is></c><c r=\"H1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">status</t></is></c><c r=\"I1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">title</t></is></c><c r=\"J1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">author</t></is></c><c r=\"K1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">created</t></is></c><c r=\"L1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">language</t></is></c><c r=\"M1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">pages</t></is></c><c r=\"N1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">words</t></is></c><c r=\"O1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">origin</t></is></c><c r=\"P1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">parent_path</t></is></c><c r=\"Q1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">text_source</t></is></c><c r=\"R1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">tags</t></is></c><c r=\"S1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">primary_category</t></is></c><c r=\"T1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">summary</t></is></c><c r=\"U1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">duplicate_group</t></is></c><c r=\"V1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">duplicate_kind</t></is></c><c r=\"W1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">duplicate_of</t></is></c><c r=\"X1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">duplicate_similarity</t></is></c><c r=\"Y1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">personal_data_bsn</t></is></c><c r=\"Z1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">personal_data_iban</t></is></c><c r=\"AA1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">personal_data_card</t></is></c><c r=\"AB1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">personal_data_email</t></is></c><c r=\"AC1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">personal_data_phone</t></is></c><c r=\"AD1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">personal_data_birthdate</t></is></c></row><row r=\"2\"><c r=\"A2\" t=\"inlineStr\"><is><t xml:space=\"preserve\">A/=copy.docx</t></is></c><c r=\"B2\" t=\"inlineStr\"><is><t xml:space=\"preserve\">=copy.docx</t></is></c><c r=\"C2\" t=\"inlineStr\"><is><t xml:space=\"preserve\">A</t></is></c><c r=\"D2\" t=\"inlineStr\"><is><t xml:space=\"preserve\">docx</t></is></c><c r=\"E2\"><v>10</v></c><c r=\"F2\" t=\"inlineStr\"><is><t xml:space=\"preserve\">2024-01-01T00:00:00.123Z</t></is></c><c r=\"G2\" t=\"inlineStr\"><is><t xml:space=\"preserve\">docx</t></is></c><c r=\"H2\" t=\"inlineStr\"><is><t xml:space=\"preserve\">extracted</t></is></c><c r=\"I2\" t=\"inlineStr\"><is><t xml:space=\"preserve\">Say &quot;hi&quot;, then\r\nleave</t></is></c><c r=\"J2\" t=\"inlineStr\"><is><t xml:space=\"preserve\">-5 &lt;me&gt; &amp; you</t></is></c><c r=\"K2\" t=\"inlineStr\"><is><t xml:space=\"preserve\">1999-12-31T23:59:59.000Z</t></is></c><c r=\"L2\" t=\"inlineStr\"><is><t xml:space=\"preserve\">nl</t></is></c><c r=\"M2\"><v>3</v></c><c r=\"N2\"><v>0</v></c><c r=\"O2\" t=\"inlineStr\"><is><t xml:space=\"preserve\">file</t></is></c><c r=\"Q2\" t=\"inlineStr\"><is><t xml:space=\"preserve\">text-layer</t></is></c><c r=\"R2\" t=\"inlineStr\"><is><t xml:space=\"preserve\">Invoice, paid (0.9); @home &quot;x&quot; (1)</t></is></c><c r=\"S2\" t=\"inlineStr\"><is><t xml:space=\"preserve\">+Invoice</t></is></c><c r=\"T2\" t=\"inlineStr\"><is><t xml:space=\"preserve\">bell and  lone \u2603 \ud83d\ude00</t></is></c><c r=\"U2\" t=\"inlineStr\"><is><t xml:space=\"preserve\">ab12</t></is></c><c r=\"V2\" t=\"inlineStr\"><is><t xml:space=\"preserve\">exact</t></is></c><c r=\"W2\" t=\"inlineStr\"><is><t xml:space=\"preserve\">@A/=original.docx</t></is></c><c r=\"X2\"><v>0.8125</v></c><c r=\"Y2\"><v>0</v></c><c r=\"Z2\"><v>2</v></c><c r=\"AA2\"><v>0</v></c><c r=\"AB2\"><v>1</v></c><c r=\"AC2\"><v>0</v></c><c r=\"AD2\"><v>0</v></c></row><row r=\"3\"><c r=\"A3\" t=\"inlineStr\"><is><t xml:space=\"preserve\">B/mail.eml#1/att.pdf</t></is></c><c r=\"B3\" t=\"inlineStr\"><is><t xml:space=\"preserve\">att.pdf</t></is></c><c r=\"C3\" t=\"inlineStr\"><is><t xml:space=\"preserve\">B</t></is></c><c r=\"D3\" t=\"inlineStr\"><is><t xml:space=\"preserve\">docx</t></is></c><c r=\"E3\"><v>-1</v></c><c r=\"F3\" t=\"inlineStr\"><is><t xml:space=\"preserve\">2024-01-01T00:00:00.123Z</t></is></c><c r=\"G3\" t=\"inlineStr\"><is><t xml:space=\"preserve\">docx</t></is></c><c r=\"H3\" t=\"inlineStr\"><is><t xml:space=\"preserve\">extracted</t></is></c><c r=\"O3\" t=\"inlineStr\"><is><t xml:space=\"preserve\">attachment</t></is></c><c r=\"P3\" t=\"inlineStr\"><is><t xml:space=\"preserve\">B/mail.eml</t></is></c><c r=\"Y3\"><v>0</v></c><c r=\"Z3\"><v>0</v></c><c r=\"AA3\"><v>0</v></c><c r=\"AB3\"><v>0</v></c><c r=\"AC3\"><v>0</v></c><c r=\"AD3\"><v>0</v></c></row><row r=\"4\"><c r=\"A4\" t=\"inlineStr\"><is><t xml:space=\"preserve\">\tTab</t></is></c><c r=\"B4\" t=\"inlineStr\"><is><t xml:space=\"preserve\">\tTab</t></is></c><c r=\"C4\" t=\"inlineStr\"><is><t xml:space=\"preserve\">A</t></is></c><c r=\"D4\" t=\"inlineStr\"><is><t xml:space=\"preserve\">docx</t></is></c><c r=\"E4\"><v>10</v></c><c r=\"F4\" t=\"inlineStr\"><is><t xml:space=\"preserve\">2024-01-01T00:00:00.123Z</t></is></c><c r=\"G4\" t=\"inlineStr\"><is><t xml:space=\"preserve\">docx</t></is></c><c r=\"H4\" t=\"inlineStr\"><is><t xml:space=\"preserve\">extracted</t></is></c><c r=\"I4\" t=\"inlineStr\"><is><t xml:space=\"preserve\">Say &quot;hi&quot;, then\r\nleave</t></is></c><c r=\"J4\" t=\"inlineStr\"><is><t xml:space=\"preserve\">-5 &lt;me&gt; &amp; you</t></is></c><c r=\"K4\" t=\"inlineStr\"><is><t xml:space=\"preserve\">1999-12-31T23:59:59.000Z</t></is></c><c r=\"L4\" t=\"inlineStr\"><is><t xml:space=\"preserve\">nl</t></is></c><c r=\"M4\"><v>3</v></c><c r=\"N4\"><v>0</v></c><c r=\"O4\" t=\"inlineStr\"><is><t xml:space=\"preserve\">file</t></is></c><c r=\"Q4\" t=\"inlineStr\"><is><t xml:space=\"preserve\">text-layer</t></is></c><c r=\"R4\" t=\"inlineStr\"><is><t xml:space=\"preserve\"></t></is></c><c r=\"S4\" t=\"inlineStr\"><is><t xml:space=\"preserve\">+Invoice</t></is></c><c r=\"T4\" t=\"inlineStr\"><is><t xml:space=\"preserve\"></t></is></c><c r=\"U4\" t=\"inlineStr\"><is><t xml:space=\"preserve\">cd</t></is></c><c r=\"V4\" t=\"inlineStr\"><is><t xml:space=\"preserve\">near</t></is></c><c r=\"X4\"><v>1</v></c><c r=\"Y4\"><v>0</v></c><c r=\"Z4\"><v>2</v></c><c r=\"AA4\"><v>0</v></c><c r=\"AB4\"><v>1</v></c><c r=\"AC4\"><v>0</v></c><c r=\"AD4\"><v>0</v></c></row></sheetData></worksheet>",
  },
  {
    fields: ["amount", "paid", "due"],
    header: "path,name,folder,extension,size,modified,format,status,title,author,created,language,pages,words,origin,parent_path,text_source,tags,primary_category,summary,duplicate_group,duplicate_kind,duplicate_of,duplicate_similarity,personal_data_bsn,personal_data_iban,personal_data_card,personal_data_email,personal_data_phone,personal_data_birthdate,field.amount,field.paid,field.due\r\n",
    csv: [
      "A/=copy.docx,'=copy.docx,A,docx,10,2024-01-01T00:00:00.123Z,docx,extracted,\"Say \"\"hi\"\", then\r\nleave\",'-5 <me> & you,1999-12-31T23:59:59.000Z,nl,3,0,file,,text-layer,\"Invoice, paid (0.9); @home \"\"x\"\" (1)\",'+Invoice,bell\u0007 and \ud800 lone \u2603 \ud83d\ude00,ab12,exact,'@A/=original.docx,0.8125,0,2,0,1,0,0,12.5,true,2024-02-01\r\n",
      "B/mail.eml#1/att.pdf,att.pdf,B,docx,-1,2024-01-01T00:00:00.123Z,docx,extracted,,,,,,,attachment,B/mail.eml,,,,,,,,,0,0,0,0,0,0,,,\r\n",
      "'\tTab,'\tTab,A,docx,10,2024-01-01T00:00:00.123Z,docx,extracted,\"Say \"\"hi\"\", then\r\nleave\",'-5 <me> & you,1999-12-31T23:59:59.000Z,nl,3,0,file,,text-layer,,'+Invoice,,cd,near,,1,0,2,0,1,0,0,0,false,\r\n",
    ],
    jsonl: [
      "{\"path\":\"A/=copy.docx\",\"name\":\"=copy.docx\",\"folder\":\"A\",\"extension\":\"docx\",\"size\":10,\"modified\":\"2024-01-01T00:00:00.123Z\",\"format\":\"docx\",\"status\":\"extracted\",\"title\":\"Say \\\"hi\\\", then\\r\\nleave\",\"author\":\"-5 <me> & you\",\"created\":\"1999-12-31T23:59:59.000Z\",\"language\":\"nl\",\"pages\":3,\"words\":0,\"origin\":\"file\",\"parent_path\":null,\"text_source\":\"text-layer\",\"tags\":[{\"label\":\"Invoice, paid\",\"confidence\":0.9},{\"label\":\"@home \\\"x\\\"\",\"confidence\":1}],\"primary_category\":\"+Invoice\",\"summary\":\"bell\\u0007 and \\ud800 lone \u2603 \ud83d\ude00\",\"duplicate_group\":\"ab12\",\"duplicate_kind\":\"exact\",\"duplicate_of\":\"@A/=original.docx\",\"duplicate_similarity\":0.8125,\"personal_data_bsn\":0,\"personal_data_iban\":2,\"personal_data_card\":0,\"personal_data_email\":1,\"personal_data_phone\":0,\"personal_data_birthdate\":0,\"fields\":{\"amount\":12.5,\"paid\":true,\"due\":\"2024-02-01\"}}",
      "{\"path\":\"B/mail.eml#1/att.pdf\",\"name\":\"att.pdf\",\"folder\":\"B\",\"extension\":\"docx\",\"size\":-1,\"modified\":\"2024-01-01T00:00:00.123Z\",\"format\":\"docx\",\"status\":\"extracted\",\"title\":null,\"author\":null,\"created\":null,\"language\":null,\"pages\":null,\"words\":null,\"origin\":\"attachment\",\"parent_path\":\"B/mail.eml\",\"text_source\":null,\"tags\":null,\"primary_category\":null,\"summary\":null,\"duplicate_group\":null,\"duplicate_kind\":null,\"duplicate_of\":null,\"duplicate_similarity\":null,\"personal_data_bsn\":0,\"personal_data_iban\":0,\"personal_data_card\":0,\"personal_data_email\":0,\"personal_data_phone\":0,\"personal_data_birthdate\":0,\"fields\":{\"amount\":null,\"paid\":null,\"due\":null}}",
      "{\"path\":\"\\tTab\",\"name\":\"\\tTab\",\"folder\":\"A\",\"extension\":\"docx\",\"size\":10,\"modified\":\"2024-01-01T00:00:00.123Z\",\"format\":\"docx\",\"status\":\"extracted\",\"title\":\"Say \\\"hi\\\", then\\r\\nleave\",\"author\":\"-5 <me> & you\",\"created\":\"1999-12-31T23:59:59.000Z\",\"language\":\"nl\",\"pages\":3,\"words\":0,\"origin\":\"file\",\"parent_path\":null,\"text_source\":\"text-layer\",\"tags\":[],\"primary_category\":\"+Invoice\",\"summary\":\"\",\"duplicate_group\":\"cd\",\"duplicate_kind\":\"near\",\"duplicate_of\":null,\"duplicate_similarity\":1,\"personal_data_bsn\":0,\"personal_data_iban\":2,\"personal_data_card\":0,\"personal_data_email\":1,\"personal_data_phone\":0,\"personal_data_birthdate\":0,\"fields\":{\"amount\":0,\"paid\":false,\"due\":null}}",
    ],
    sheet: "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData><row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">path</t></is></c><c r=\"B1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">name</t></is></c><c r=\"C1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">folder</t></is></c><c r=\"D1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">extension</t></is></c><c r=\"E1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">size</t></is></c><c r=\"F1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">modified</t></is></c><c r=\"G1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">format</t></is></c><c r=\"H1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">status</t></is></c><c r=\"I1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">title</t></is></c><c r=\"J1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">author</t></is></c><c r=\"K1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">created</t></is></c><c r=\"L1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">language</t></is></c><c r=\"M1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">pages</t></is></c><c r=\"N1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">words</t></is></c><c r=\"O1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">origin</t></is></c><c r=\"P1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">parent_path</t></is></c><c r=\"Q1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">text_source</t></is></c><c r=\"R1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">tags</t></is></c><c r=\"S1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">primary_category</t></is></c><c r=\"T1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">summary</t></is></c><c r=\"U1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">duplicate_group</t></is></c><c r=\"V1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">duplicate_kind</t></is></c><c r=\"W1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">duplicate_of</t></is></c><c r=\"X1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">duplicate_similarity</t></is></c><c r=\"Y1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">personal_data_bsn</t></is></c><c r=\"Z1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">personal_data_iban</t></is></c><c r=\"AA1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">personal_data_card</t></is></c><c r=\"AB1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">personal_data_email</t></is></c><c r=\"AC1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">personal_data_phone</t></is></c><c r=\"AD1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">personal_data_birthdate</t></is></c><c r=\"AE1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">field.amount</t></is></c><c r=\"AF1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">field.paid</t></is></c><c r=\"AG1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">field.due</t></is></c></row><row r=\"2\"><c r=\"A2\" t=\"inlineStr\"><is><t xml:space=\"preserve\">A/=copy.docx</t></is></c><c r=\"B2\" t=\"inlineStr\"><is><t xml:space=\"preserve\">=copy.docx</t></is></c><c r=\"C2\" t=\"inlineStr\"><is><t xml:space=\"preserve\">A</t></is></c><c r=\"D2\" t=\"inlineStr\"><is><t xml:space=\"preserve\">docx</t></is></c><c r=\"E2\"><v>10</v></c><c r=\"F2\" t=\"inlineStr\"><is><t xml:space=\"preserve\">2024-01-01T00:00:00.123Z</t></is></c><c r=\"G2\" t=\"inlineStr\"><is><t xml:space=\"preserve\">docx</t></is></c><c r=\"H2\" t=\"inlineStr\"><is><t xml:space=\"preserve\">extracted</t></is></c><c r=\"I2\" t=\"inlineStr\"><is><t xml:space=\"preserve\">Say &quot;hi&quot;, then\r\nleave</t></is></c><c r=\"J2\" t=\"inlineStr\"><is><t xml:space=\"preserve\">-5 &lt;me&gt; &amp; you</t></is></c><c r=\"K2\" t=\"inlineStr\"><is><t xml:space=\"preserve\">1999-12-31T23:59:59.000Z</t></is></c><c r=\"L2\" t=\"inlineStr\"><is><t xml:space=\"preserve\">nl</t></is></c><c r=\"M2\"><v>3</v></c><c r=\"N2\"><v>0</v></c><c r=\"O2\" t=\"inlineStr\"><is><t xml:space=\"preserve\">file</t></is></c><c r=\"Q2\" t=\"inlineStr\"><is><t xml:space=\"preserve\">text-layer</t></is></c><c r=\"R2\" t=\"inlineStr\"><is><t xml:space=\"preserve\">Invoice, paid (0.9); @home &quot;x&quot; (1)</t></is></c><c r=\"S2\" t=\"inlineStr\"><is><t xml:space=\"preserve\">+Invoice</t></is></c><c r=\"T2\" t=\"inlineStr\"><is><t xml:space=\"preserve\">bell and  lone \u2603 \ud83d\ude00</t></is></c><c r=\"U2\" t=\"inlineStr\"><is><t xml:space=\"preserve\">ab12</t></is></c><c r=\"V2\" t=\"inlineStr\"><is><t xml:space=\"preserve\">exact</t></is></c><c r=\"W2\" t=\"inlineStr\"><is><t xml:space=\"preserve\">@A/=original.docx</t></is></c><c r=\"X2\"><v>0.8125</v></c><c r=\"Y2\"><v>0</v></c><c r=\"Z2\"><v>2</v></c><c r=\"AA2\"><v>0</v></c><c r=\"AB2\"><v>1</v></c><c r=\"AC2\"><v>0</v></c><c r=\"AD2\"><v>0</v></c><c r=\"AE2\"><v>12.5</v></c><c r=\"AF2\" t=\"inlineStr\"><is><t xml:space=\"preserve\">true</t></is></c><c r=\"AG2\" t=\"inlineStr\"><is><t xml:space=\"preserve\">2024-02-01</t></is></c></row><row r=\"3\"><c r=\"A3\" t=\"inlineStr\"><is><t xml:space=\"preserve\">B/mail.eml#1/att.pdf</t></is></c><c r=\"B3\" t=\"inlineStr\"><is><t xml:space=\"preserve\">att.pdf</t></is></c><c r=\"C3\" t=\"inlineStr\"><is><t xml:space=\"preserve\">B</t></is></c><c r=\"D3\" t=\"inlineStr\"><is><t xml:space=\"preserve\">docx</t></is></c><c r=\"E3\"><v>-1</v></c><c r=\"F3\" t=\"inlineStr\"><is><t xml:space=\"preserve\">2024-01-01T00:00:00.123Z</t></is></c><c r=\"G3\" t=\"inlineStr\"><is><t xml:space=\"preserve\">docx</t></is></c><c r=\"H3\" t=\"inlineStr\"><is><t xml:space=\"preserve\">extracted</t></is></c><c r=\"O3\" t=\"inlineStr\"><is><t xml:space=\"preserve\">attachment</t></is></c><c r=\"P3\" t=\"inlineStr\"><is><t xml:space=\"preserve\">B/mail.eml</t></is></c><c r=\"Y3\"><v>0</v></c><c r=\"Z3\"><v>0</v></c><c r=\"AA3\"><v>0</v></c><c r=\"AB3\"><v>0</v></c><c r=\"AC3\"><v>0</v></c><c r=\"AD3\"><v>0</v></c></row><row r=\"4\"><c r=\"A4\" t=\"inlineStr\"><is><t xml:space=\"preserve\">\tTab</t></is></c><c r=\"B4\" t=\"inlineStr\"><is><t xml:space=\"preserve\">\tTab</t></is></c><c r=\"C4\" t=\"inlineStr\"><is><t xml:space=\"preserve\">A</t></is></c><c r=\"D4\" t=\"inlineStr\"><is><t xml:space=\"preserve\">docx</t></is></c><c r=\"E4\"><v>10</v></c><c r=\"F4\" t=\"inlineStr\"><is><t xml:space=\"preserve\">2024-01-01T00:00:00.123Z</t></is></c><c r=\"G4\" t=\"inlineStr\"><is><t xml:space=\"preserve\">docx</t></is></c><c r=\"H4\" t=\"inlineStr\"><is><t xml:space=\"preserve\">extracted</t></is></c><c r=\"I4\" t=\"inlineStr\"><is><t xml:space=\"preserve\">Say &quot;hi&quot;, then\r\nleave</t></is></c><c r=\"J4\" t=\"inlineStr\"><is><t xml:space=\"preserve\">-5 &lt;me&gt; &amp; you</t></is></c><c r=\"K4\" t=\"inlineStr\"><is><t xml:space=\"preserve\">1999-12-31T23:59:59.000Z</t></is></c><c r=\"L4\" t=\"inlineStr\"><is><t xml:space=\"preserve\">nl</t></is></c><c r=\"M4\"><v>3</v></c><c r=\"N4\"><v>0</v></c><c r=\"O4\" t=\"inlineStr\"><is><t xml:space=\"preserve\">file</t></is></c><c r=\"Q4\" t=\"inlineStr\"><is><t xml:space=\"preserve\">text-layer</t></is></c><c r=\"R4\" t=\"inlineStr\"><is><t xml:space=\"preserve\"></t></is></c><c r=\"S4\" t=\"inlineStr\"><is><t xml:space=\"preserve\">+Invoice</t></is></c><c r=\"T4\" t=\"inlineStr\"><is><t xml:space=\"preserve\"></t></is></c><c r=\"U4\" t=\"inlineStr\"><is><t xml:space=\"preserve\">cd</t></is></c><c r=\"V4\" t=\"inlineStr\"><is><t xml:space=\"preserve\">near</t></is></c><c r=\"X4\"><v>1</v></c><c r=\"Y4\"><v>0</v></c><c r=\"Z4\"><v>2</v></c><c r=\"AA4\"><v>0</v></c><c r=\"AB4\"><v>1</v></c><c r=\"AC4\"><v>0</v></c><c r=\"AD4\"><v>0</v></c><c r=\"AE4\"><v>0</v></c><c r=\"AF4\" t=\"inlineStr\"><is><t xml:space=\"preserve\">false</t></is></c></row></sheetData></worksheet>",
  },
];

describe('export rows', () => {
  for (const expected of EXPECTED) {
    const layout = exportLayout(expected.fields);
    const label = expected.fields.length > 0 ? 'with custom fields' : 'without custom fields';

    it(`writes CSV records as before, ${label}`, () => {
      assert.equal(csvLine(layout.header), expected.header);
      assert.deepEqual(ROWS.map(layout.csvLine), expected.csv);
      assert.deepEqual(ROWS.map((r) => csvLine(layout.cells(r))), expected.csv, 'the cells XLSX gets are those of the CSV');
    });

    it(`writes JSONL lines as before, ${label}`, () => {
      assert.deepEqual(ROWS.map(layout.jsonLine), expected.jsonl.map((l) => `${l}\n`));
      assert.deepEqual(ROWS.map((r) => JSON.stringify(layout.json(r))), expected.jsonl);
    });

    it(`writes the XLSX sheet as before, ${label}`, async () => {
      async function* batches() {
        yield ROWS.map(layout.cells);
      }
      const chunks: Uint8Array[] = [];
      for await (const c of xlsxStream(layout.header, batches())) chunks.push(c);
      const parts = unzipSync(new Uint8Array(Buffer.concat(chunks)));
      assert.equal(strFromU8(parts['xl/worksheets/sheet1.xml'] ?? new Uint8Array()), expected.sheet);
    });
  }
});
