/**
 * The deployment files, validated as far as this machine allows (no container engine, no
 * cluster): compose.yaml against the Compose Specification's JSON schema, the Kubernetes manifests
 * against the Kubernetes API schemas (kubernetes-models) and the rules we run by, the nginx config
 * with `nginx -t`, and drift checks: every command the files run and every variable they set must
 * exist in the CLI and in src/config.ts.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { ENV_VARIABLES } from '../../src/config.ts';
import {
  at,
  cliCommands,
  containersOf,
  envNames,
  isObject,
  type Json,
  K8S_DIR,
  kindOf,
  readCompose,
  readDockerfile,
  readK8s,
  ROOT,
} from '../support/deploy-files.ts';

const DOCSIGHT_SERVICES = ['migrate', 'api', 'worker'];
const known = new Set(ENV_VARIABLES);

function composeService(name: string): Json {
  const s = at(readCompose(), 'services', name);
  assert.ok(isObject(s), `compose service ${name}`);
  return s;
}

describe('compose.yaml', () => {
  it('validates against the Compose Specification JSON schema', () => {
    // dclint ships the compose-spec schema (compose-spec/compose-spec, Apache-2.0).
    const require = createRequire(import.meta.url);
    const schemaPath = path.join(path.dirname(require.resolve('dclint/package.json')), 'schemas/compose.schema.json');
    const schema: unknown = JSON.parse(readFileSync(schemaPath, 'utf8'));
    assert.ok(isObject(schema));
    // It names draft-07 by an https URL Ajv does not know; draft-07 is what Ajv speaks by default.
    const { $schema: _draft, ...body } = schema;
    const ajv = new Ajv({ allErrors: true, strict: false });
    const validate = ajv.compile(body);
    const ok = validate(readCompose());
    assert.ok(ok, JSON.stringify(validate.errors, null, 2));
    // The schema bites: an unknown service key or a wrong type is refused.
    assert.equal(validate({ services: { api: { image: 'x', restart_policy: 'always' } } }), false);
    assert.equal(validate({ services: { api: { image: 'x', depends_on: { db: { condition: 'healthy' } } } } }), false);
  });

  it('runs api, scalable workers, a one-shot migration, Redis without eviction and PostgreSQL', () => {
    const compose = readCompose();
    assert.deepEqual(Object.keys(at(compose, 'services') as Json).sort(), ['api', 'migrate', 'postgres', 'redis', 'worker']);
    const worker = composeService('worker');
    // `--scale worker=N` needs no fixed container name and no host port.
    assert.equal(worker.container_name, undefined);
    assert.equal(worker.ports, undefined);
    assert.match(JSON.stringify(composeService('redis').command), /"--maxmemory-policy","noeviction"/);
    assert.equal(composeService('migrate').restart, 'no');
    for (const name of ['api', 'worker']) {
      assert.equal(at(composeService(name), 'depends_on', 'migrate', 'condition'), 'service_completed_successfully', name);
      assert.equal(at(composeService(name), 'depends_on', 'postgres', 'condition'), 'service_healthy', name);
      assert.equal(at(composeService(name), 'depends_on', 'redis', 'condition'), 'service_healthy', name);
    }
    for (const name of ['postgres', 'redis']) assert.ok(at(composeService(name), 'healthcheck', 'test'), `${name} health check`);
    // Named volumes for the data, declared at the top level.
    const volumes = Object.keys((at(compose, 'volumes') as Json | undefined) ?? {});
    for (const name of ['postgres', 'redis']) {
      const mounts = (composeService(name).volumes as string[]).map((v) => v.split(':')[0] ?? '');
      assert.ok(mounts.every((m) => volumes.includes(m)), `${name} uses named volumes`);
    }
  });

  it('mounts the documents root read-only at the same path in the api and every worker, and reads .env', () => {
    for (const name of ['api', 'worker']) {
      const s = composeService(name);
      const docsRoot = at(s, 'environment', 'DOCS_ROOT');
      const mount = (s.volumes as Json[]).find((v) => v.target === docsRoot);
      assert.ok(mount, `${name}: a mount at DOCS_ROOT`);
      assert.equal(mount.read_only, true, `${name}: documents read-only`);
      assert.equal(at(s, 'env_file', 0, 'path'), '.env');
    }
    assert.equal(at(composeService('api'), 'environment', 'DOCS_ROOT'), at(composeService('worker'), 'environment', 'DOCS_ROOT'));
  });
});

describe('Kubernetes manifests', () => {
  const docs = readK8s();

  it('parse, and every document has apiVersion, kind and metadata.name', () => {
    assert.ok(docs.length >= 12, `${docs.length} documents`);
    for (const { file, doc } of docs) {
      assert.equal(typeof doc.apiVersion, 'string', file);
      assert.equal(typeof doc.kind, 'string', file);
      assert.equal(typeof at(doc, 'metadata', 'name'), 'string', `${file} ${String(doc.kind)}`);
    }
  });

  it('validate against the Kubernetes API schemas (kubernetes-models), which do reject a bad manifest', async () => {
    const validate = async (doc: Json) => {
      const apiVersion = String(doc.apiVersion);
      const kind = String(doc.kind);
      const mod = (await import(`kubernetes-models/${apiVersion}/${kind}`)) as Record<string, new (data: unknown) => { validate(): void }>;
      const Model = mod[kind];
      assert.ok(Model, `${apiVersion} ${kind} model`);
      new Model(doc).validate();
    };
    let checked = 0;
    for (const { file, doc } of docs) {
      if (String(doc.apiVersion).startsWith('keda.sh/')) continue; // a CRD: checked by rule below
      await assert.doesNotReject(validate(doc), `${file} ${String(doc.kind)} ${String(at(doc, 'metadata', 'name'))}`);
      checked++;
    }
    assert.ok(checked >= 12);
    const broken = structuredClone(kindOf(docs, 'Deployment', 'docsight-worker'));
    (at(broken, 'spec', 'template', 'spec') as Json).terminationGracePeriodSeconds = 'long';
    await assert.rejects(validate(broken));
  });

  it('give the workers a grace period longer than SHUTDOWN_TIMEOUT_MS, and every pod probes and resources', () => {
    const config = at(kindOf(docs, 'ConfigMap', 'docsight-config'), 'data') as Json;
    const shutdownMs = Number(config.SHUTDOWN_TIMEOUT_MS ?? 20_000);
    const worker = kindOf(docs, 'Deployment', 'docsight-worker');
    const grace = Number(at(worker, 'spec', 'template', 'spec', 'terminationGracePeriodSeconds'));
    // The queue adapter adds up to 5 s to hand released jobs back.
    assert.ok(grace * 1000 > shutdownMs + 5_000, `grace ${grace}s vs SHUTDOWN_TIMEOUT_MS ${shutdownMs}`);
    for (const name of ['docsight-api', 'docsight-worker']) {
      for (const c of containersOf(kindOf(docs, 'Deployment', name))) {
        for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) assert.ok(c[probe], `${name} ${probe}`);
        assert.ok(at(c, 'resources', 'requests', 'cpu') && at(c, 'resources', 'limits', 'memory'), `${name} resources`);
        assert.equal(at(c, 'securityContext', 'allowPrivilegeEscalation'), false, name);
      }
      assert.equal(at(kindOf(docs, 'Deployment', name), 'spec', 'template', 'spec', 'securityContext', 'runAsNonRoot'), true, name);
      // Autoscalers own the replica count: a re-apply must not reset it.
      assert.equal(at(kindOf(docs, 'Deployment', name), 'spec', 'replicas'), undefined, name);
    }
    assert.equal(at(containersOf(kindOf(docs, 'Deployment', 'docsight-api'))[0], 'readinessProbe', 'httpGet', 'path'), '/ready');
  });

  it('autoscale the api on CPU and the workers on the BullMQ wait list of QUEUE_NAME', () => {
    const hpa = kindOf(docs, 'HorizontalPodAutoscaler', 'docsight-api');
    assert.deepEqual(at(hpa, 'spec', 'scaleTargetRef'), { apiVersion: 'apps/v1', kind: 'Deployment', name: 'docsight-api' });
    const so = kindOf(docs, 'ScaledObject', 'docsight-worker');
    assert.equal(at(so, 'spec', 'scaleTargetRef', 'name'), 'docsight-worker');
    const trigger = at(so, 'spec', 'triggers', 0) as Json;
    assert.equal(trigger.type, 'redis');
    // BullMQ keeps waiting jobs in the Redis list `<prefix>:<queue>:wait`; the adapter's prefix is "bull".
    const queueName = at(kindOf(docs, 'ConfigMap', 'docsight-config'), 'data', 'QUEUE_NAME');
    assert.equal(at(trigger, 'metadata', 'listName'), `bull:${String(queueName)}:wait`);
    const auth = kindOf(docs, 'TriggerAuthentication', String(at(trigger, 'authenticationRef', 'name')));
    for (const ref of at(auth, 'spec', 'secretTargetRef') as Json[]) {
      assert.ok(at(kindOf(docs, 'Secret', String(ref.name)), 'stringData', String(ref.key)) !== undefined, `secret key ${String(ref.key)}`);
    }
  });

  it('route through nginx with event streams unbuffered, and budget disruptions', () => {
    const events = kindOf(docs, 'Ingress', 'docsight-api-events');
    assert.equal(at(events, 'metadata', 'annotations', 'nginx.ingress.kubernetes.io/proxy-buffering'), 'off');
    assert.ok(Number(at(events, 'metadata', 'annotations', 'nginx.ingress.kubernetes.io/proxy-read-timeout')) >= 600);
    assert.match(String(at(events, 'spec', 'rules', 0, 'http', 'paths', 0, 'path')), /events/);
    for (const name of ['docsight-api', 'docsight-worker']) {
      const labels = at(kindOf(docs, 'Deployment', name), 'spec', 'template', 'metadata', 'labels');
      assert.deepEqual(at(kindOf(docs, 'PodDisruptionBudget', name), 'spec', 'selector', 'matchLabels'), labels, `${name} PDB selects its pods`);
    }
    assert.deepEqual(at(kindOf(docs, 'Service', 'docsight-api'), 'spec', 'selector'), at(kindOf(docs, 'Deployment', 'docsight-api'), 'spec', 'template', 'metadata', 'labels'));
  });

  it('are all listed in kustomization.yaml, and kubectl renders them (when kubectl is installed)', (t) => {
    const kustomization = parse(readFileSync(path.join(K8S_DIR, 'kustomization.yaml'), 'utf8')) as Json;
    assert.deepEqual([...(kustomization.resources as string[])].sort(), [...new Set(docs.map((d) => d.file))].sort());
    if (spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status !== 0) {
      t.skip('kubectl is not installed: kustomize rendering and kubectl dry runs not checked');
      return;
    }
    const rendered = execFileSync('kubectl', ['kustomize', K8S_DIR], { encoding: 'utf8' });
    assert.equal((rendered.match(/^kind: /gm) ?? []).length, docs.length);
    // `kubectl create --dry-run=client` still asks a cluster for its API list; none exists here.
    const dry = spawnSync('kubectl', ['create', '--dry-run=client', '-o', 'name', '-f', K8S_DIR], { encoding: 'utf8', timeout: 60_000 });
    if (dry.status !== 0 && /connection refused|unable to recognize|failed to download openapi|no configuration has been provided/i.test(dry.stderr)) {
      t.diagnostic('kubectl create --dry-run=client needs a cluster to reach: skipped (no cluster on this machine)');
      return;
    }
    assert.equal(dry.status, 0, dry.stderr);
  });
});

describe('deploy/nginx/docsight.conf', () => {
  it('passes nginx -t (when nginx is installed)', (t) => {
    const nginx = ['/usr/sbin/nginx', '/usr/local/sbin/nginx'].find((p) => existsSync(p));
    if (!nginx) {
      t.skip('nginx is not installed (apt-get install nginx-light): config not checked');
      return;
    }
    const prefix = mkdtempSync(path.join(tmpdir(), 'docsight-nginx-'));
    try {
      // The file belongs in nginx's http block: wrap it in the smallest full configuration.
      const conf = path.join(prefix, 'nginx.conf');
      writeFileSync(
        conf,
        `error_log ${prefix}/error.log;\npid ${prefix}/nginx.pid;\nevents {}\nhttp { include ${path.join(ROOT, 'deploy/nginx/docsight.conf')}; }\n`,
      );
      const r = spawnSync(nginx, ['-t', '-p', prefix, '-c', conf], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, /test is successful/);
    } finally {
      rmSync(prefix, { recursive: true, force: true });
    }
  });

  it('streams job events unbuffered with a long read timeout', () => {
    const text = readFileSync(path.join(ROOT, 'deploy/nginx/docsight.conf'), 'utf8');
    const events = /location ~ \^\/v1\/jobs\/\[\^\/\]\+\/events\$ \{([^}]*)\}/.exec(text)?.[1] ?? '';
    assert.match(events, /proxy_buffering off;/);
    assert.match(events, /proxy_read_timeout 1h;/);
    assert.ok((text.match(/^\s*server 127\.0\.0\.1:\d+/gm) ?? []).length >= 2, 'several API replicas upstream');
  });
});

describe('drift between the deployment files and the code', () => {
  const commands = cliCommands();
  const dockerfile = readDockerfile();
  const docs = readK8s();

  it('reads the command list from `docsight --help`', () => {
    for (const c of ['start', 'api', 'worker', 'migrate', 'keys', 'scan']) assert.ok(commands.has(c), c);
  });

  it('the Dockerfile: multi-stage, non-root, health check, `docsight` entrypoint and a command the CLI has', () => {
    const one = (instruction: string) => dockerfile.filter((i) => i.instruction === instruction).at(-1)?.args ?? '';
    assert.ok(dockerfile.filter((i) => i.instruction === 'FROM').length >= 2, 'multi-stage');
    assert.ok(!/^(root|0)(:|$)/.test(one('USER')) && one('USER') !== '', `USER ${one('USER')}`);
    assert.match(one('HEALTHCHECK'), /CMD/);
    assert.deepEqual(JSON.parse(one('ENTRYPOINT')), ['docsight']);
    const cmd = JSON.parse(one('CMD')) as string[];
    assert.ok(commands.has(cmd[0] ?? ''), `CMD ${cmd.join(' ')}`);
    // What the runtime stage copies from the build context must exist and not be excluded from it.
    const ignored = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    for (const copy of dockerfile.filter((i) => i.instruction === 'COPY' && !i.args.startsWith('--from'))) {
      for (const src of copy.args.split(/\s+/).slice(0, -1)) {
        assert.ok(existsSync(path.join(ROOT, src)), `COPY ${src}: missing`);
        assert.ok(!ignored.some((p) => src === p || src.startsWith(`${p}/`)), `COPY ${src}: excluded by .dockerignore`);
      }
    }
  });

  it("the Dockerfile's build stage copies every file the dashboard imports from outside web/", () => {
    const stages = dockerfile.reduce<{ instruction: string; args: string }[][]>((acc, i) => (i.instruction === 'FROM' ? [...acc, []] : (acc.at(-1)?.push(i), acc)), []);
    const copied = (stages[0] ?? []).filter((i) => i.instruction === 'COPY' && !i.args.startsWith('--from')).flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    const imports = new Set<string>();
    const walk = (dir: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const file = path.join(dir, e.name);
        if (e.isDirectory()) walk(file);
        else if (/\.tsx?$/.test(e.name)) {
          for (const m of readFileSync(file, 'utf8').matchAll(/from '(\.{1,2}\/[^']+)'/g)) {
            const target = path.relative(ROOT, path.resolve(path.dirname(file), m[1] ?? ''));
            if (!target.startsWith('web/')) imports.add(target);
          }
        }
      }
    };
    walk(path.join(ROOT, 'web/src'));
    assert.ok(imports.size > 0, 'the dashboard imports the shared contract');
    for (const target of imports) assert.ok(copied.some((src) => target === src || target.startsWith(`${src}/`)), `${target}: not copied into the build stage`);
  });

  it('compose and Kubernetes run only commands `docsight --help` lists', () => {
    for (const name of DOCSIGHT_SERVICES) {
      const command = composeService(name).command as string[];
      assert.ok(commands.has(command[0] ?? ''), `compose ${name}: ${command.join(' ')}`);
    }
    for (const { file, doc } of docs) {
      for (const c of containersOf(doc)) {
        assert.equal(c.command, undefined, `${file}: the image's entrypoint is docsight`);
        const args = c.args as string[];
        assert.ok(commands.has(args[0] ?? ''), `${file} ${String(c.name)}: ${args.join(' ')}`);
      }
    }
  });

  it('the image caps the V8 heap as `npm start` does', () => {
    const env = dockerfile.filter((d) => d.instruction === 'ENV').map((d) => d.args).join(' ');
    const start = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
    const cap = /--max-old-space-size=(\d+)/.exec(start)?.[1];
    assert.ok(cap, 'npm start sets a heap cap');
    assert.match(env, new RegExp(`NODE_OPTIONS=--max-old-space-size=${cap}\\b`));
  });

  it('every variable the files set is one src/config.ts reads', () => {
    const set: [string, string][] = [];
    for (const i of dockerfile.filter((d) => d.instruction === 'ENV')) for (const n of envNames(i.args)) set.push(['Dockerfile', n]);
    for (const name of DOCSIGHT_SERVICES) for (const n of Object.keys(composeService(name).environment as Json)) set.push([`compose ${name}`, n]);
    for (const n of Object.keys(at(kindOf(docs, 'ConfigMap', 'docsight-config'), 'data') as Json)) set.push(['configmap', n]);
    for (const n of Object.keys(at(kindOf(docs, 'Secret', 'docsight-secrets'), 'stringData') as Json)) set.push(['secret', n]);
    for (const { file, doc } of docs) {
      for (const c of containersOf(doc)) for (const e of (c.env as Json[] | undefined) ?? []) set.push([file, String(e.name)]);
    }
    assert.ok(set.length > 15);
    // NODE_OPTIONS is Node's own (the heap cap), not docsight's configuration.
    const unknown = set.filter(([, n]) => !known.has(n) && n !== 'NODE_OPTIONS');
    assert.deepEqual(unknown, [], 'variables that docsight does not read');
  });
});
