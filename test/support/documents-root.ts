/**
 * A documents root for pipeline tests: generated client folders plus the awkward cases real
 * folders have (corrupt and empty files, unicode names, lock and hidden files, a sibling whose
 * name extends another folder's, symlinks that lead out of the root).
 */
import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildDocx, generateDocxFolder, type GeneratedDoc } from './docx-fixtures.ts';

export interface TestRoot {
  root: string;
  generated: GeneratedDoc[];
  /** Relative paths of the documents that must end as failed. */
  broken: string[];
  /** Every path that must be recorded as a document. */
  documents: string[];
}

export async function makeTestRoot(count = 24): Promise<TestRoot> {
  const root = await mkdtemp(path.join(tmpdir(), 'docsight-root-'));
  const generated = await generateDocxFolder(root, count, { companies: 2, projectsPerCompany: 2, targetKb: 12 });
  const a2 = path.join(root, 'Company A2');
  await mkdir(a2, { recursive: true });
  await writeFile(path.join(a2, 'sibling.docx'), buildDocx({ title: 'Sibling', creator: 'Outsider', paragraphs: ['Not in Company A.'] }));
  const odd = path.join(root, 'Company A', 'Ünïcode map met spaties');
  await mkdir(odd, { recursive: true });
  await writeFile(
    path.join(odd, 'Besluit aanbesteding – ronde 2.docx'),
    buildDocx({ title: 'Besluit aanbesteding', creator: 'Zoë Ærøskøbing', paragraphs: ['Het college besluit de opdracht te gunnen.'] }),
  );
  await writeFile(path.join(odd, 'corrupt.docx'), Buffer.from('PK\u0003\u0004 this is not really a zip archive at all'));
  await writeFile(path.join(odd, 'empty.docx'), Buffer.alloc(0));
  await writeFile(path.join(odd, '.DS_Store'), Buffer.from([0, 0, 0, 1, 66, 117, 100, 49]));
  await writeFile(path.join(odd, '~$ck file.docx'), Buffer.from('owner'));
  await symlink('/etc', path.join(root, 'escape'));
  await symlink('/etc/hostname', path.join(root, 'Company A', 'link.docx'));
  const generatedPaths = generated.map((g) => g.rel);
  const broken = ['Company A/Ünïcode map met spaties/corrupt.docx'];
  return {
    root,
    generated,
    broken,
    documents: [
      ...generatedPaths,
      'Company A2/sibling.docx',
      'Company A/Ünïcode map met spaties/Besluit aanbesteding – ronde 2.docx',
      ...broken,
      'Company A/Ünïcode map met spaties/empty.docx',
    ],
  };
}

/** A fresh documents root holding these text files (paths relative to it, folders made as needed). */
export async function writeTree(prefix: string, files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(path.join(tmpdir(), prefix));
  for (const [rel, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
    await writeFile(path.join(root, rel), text);
  }
  return root;
}
