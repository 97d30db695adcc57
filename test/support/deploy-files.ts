/** Readers for the deployment files (Dockerfile, compose.yaml, deploy/k8s, deploy/nginx) used by their tests. */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const K8S_DIR = path.join(ROOT, 'deploy/k8s');

export type Json = Record<string, unknown>;

export const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A nested value by path, or undefined (the tests then fail with the path in the message). */
export function at(value: unknown, ...keys: (string | number)[]): unknown {
  let v = value;
  for (const k of keys) {
    if (typeof k === 'number') v = Array.isArray(v) ? v[k] : undefined;
    else v = isObject(v) ? v[k] : undefined;
  }
  return v;
}

/** compose.yaml as Compose reads it: YAML merge keys (`<<: *anchor`) resolved. */
export function readCompose(): Json {
  const doc: unknown = parse(readFileSync(path.join(ROOT, 'compose.yaml'), 'utf8'), { merge: true });
  if (!isObject(doc)) throw new Error('compose.yaml is not a mapping');
  return doc;
}

export interface K8sDoc {
  file: string;
  doc: Json;
}

/** Every document of every manifest in deploy/k8s (kustomization.yaml apart: it is kustomize's, not the API's). */
export function readK8s(): K8sDoc[] {
  const out: K8sDoc[] = [];
  for (const file of readdirSync(K8S_DIR).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').sort()) {
    for (const d of parseAllDocuments(readFileSync(path.join(K8S_DIR, file), 'utf8'))) {
      if (d.errors.length > 0) throw new Error(`${file}: ${d.errors.map((e) => e.message).join('; ')}`);
      const doc: unknown = d.toJS();
      if (doc === null) continue;
      if (!isObject(doc)) throw new Error(`${file}: a document is not a mapping`);
      out.push({ file, doc });
    }
  }
  return out;
}

export const kindOf = (docs: K8sDoc[], kind: string, name: string): Json => {
  const found = docs.find((d) => d.doc.kind === kind && at(d.doc, 'metadata', 'name') === name);
  if (!found) throw new Error(`no ${kind} ${name} in deploy/k8s`);
  return found.doc;
};

/** Containers of a workload (Deployment or Job). */
export const containersOf = (workload: Json): Json[] => {
  const c = at(workload, 'spec', 'template', 'spec', 'containers');
  return Array.isArray(c) ? c.filter(isObject) : [];
};

/** Dockerfile instructions, continuation lines joined, comments dropped. */
export function readDockerfile(): { instruction: string; args: string }[] {
  const text = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const m = /^(\S+)\s+(.*)$/.exec(l);
      return { instruction: (m?.[1] ?? l).toUpperCase(), args: m?.[2] ?? '' };
    });
}

/** `ENV A=1 B=2` → ['A', 'B']. */
export const envNames = (args: string) => [...args.matchAll(/(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)=/g)].map((m) => m[1] ?? '');

/** The commands `docsight --help` lists (the first word of each indented entry), from the real CLI. */
export function cliCommands(): Set<string> {
  const help = execFileSync(process.execPath, [path.join(ROOT, 'bin/docsight.js'), '--help'], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
  return new Set([...help.matchAll(/^ {2}([a-z][a-z-]*)(?=\s|$)/gm)].map((m) => m[1] ?? ''));
}
