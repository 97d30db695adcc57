/**
 * `docsight scan | classify | insights | jobs | export | sources`: client commands that talk HTTP to a docsight
 * server (default the local one on PORT, or --server URL with --key KEY). Exit codes: 0 ok,
 * 1 the job had failures (or the server could not do it), 2 bad usage (including requests the
 * server refused as invalid: unknown folder, bad key), 3 server unreachable.
 */
import { Writable } from 'node:stream';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ApiError, ServerUnreachable } from './client.ts';
import * as commands from './commands.ts';
import * as evaluation from './eval.ts';
import { webhooks, WEBHOOKS_USAGE } from './webhooks.ts';
import { type Env, EXIT, type Io, makeContext, UsageError, withDotEnv } from './context.ts';

export const CLIENT_COMMANDS = ['scan', 'classify', 'insights', 'jobs', 'export', 'sources', 'eval', 'webhooks', 'watch', 'unwatch'] as const;
export type ClientCommand = (typeof CLIENT_COMMANDS)[number];

export const isClientCommand = (c: string | undefined): c is ClientCommand => CLIENT_COMMANDS.includes(c as ClientCommand);

export const CLIENT_USAGE = `Client (talks HTTP to a docsight server)
  scan <folder>        scan a folder and follow the job: progress, then a summary
  classify <folder>    classify a folder's documents [--taxonomy X] [--summary-language nl] [--force] [--dry-run]
  insights <folder>    counts and breakdowns of a folder
  export <folder>      every document of a folder with its metadata and classification, to stdout [--format csv|jsonl|xlsx]
  jobs [<id>]          recent jobs [--status s] [--kind k] [--folder f] [--limit n], or one job [--follow]
  sources              bucket sources (admin): list | add NAME s3://bucket/prefix [--endpoint URL] [--region R]
                       [--path-style] [--watch SECONDS] | remove NAME. Credentials: DOCSIGHT_S3_ACCESS_KEY_ID and
                       DOCSIGHT_S3_SECRET_ACCESS_KEY (stored encrypted), or none (the server's environment).
  eval                 evaluation against gold labels: eval --labels FILE --taxonomy T (import), eval run <folder>
                       [--taxonomy T] [--model M] [--prompt-version P], eval show <id>, eval compare <a> <b>, eval list
  webhooks add <url> --events E[,E…] [--folder f]   call a URL when jobs end, documents change or need review (admin)
  webhooks list | remove <id>                       the webhooks, or remove one
  watch <folder>       keep a folder in sync: its changes are scanned as they happen [--classify]; watch list: the watches
  unwatch <folder>     stop watching a folder

  Folders are relative to the server's documents root ("." is the root); a bucket source's begin with its name.
  Options for all: --server URL (default http://127.0.0.1:$PORT, PORT 8000), --key KEY (or DOCSIGHT_API_KEY),
  --json (machine-readable output on stdout). scan and classify: --detach (start, print the job, do not wait).
  Exit codes: 0 ok, 1 failures in the job, 2 bad usage, 3 server unreachable.
`;

const COMMON = {
  server: { type: 'string' },
  key: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

const OPTIONS = {
  scan: { ...COMMON, detach: { type: 'boolean' } },
  classify: {
    ...COMMON,
    detach: { type: 'boolean' },
    taxonomy: { type: 'string' },
    'summary-language': { type: 'string' },
    force: { type: 'boolean' },
    'dry-run': { type: 'boolean' },
    budget: { type: 'string' },
  },
  insights: COMMON,
  export: { ...COMMON, format: { type: 'string' } },
  jobs: { ...COMMON, status: { type: 'string' }, kind: { type: 'string' }, folder: { type: 'string' }, limit: { type: 'string' }, follow: { type: 'boolean' } },
  sources: { ...COMMON, endpoint: { type: 'string' }, region: { type: 'string' }, 'path-style': { type: 'boolean' }, watch: { type: 'string' } },
  eval: { ...COMMON, labels: { type: 'string' }, taxonomy: { type: 'string' }, model: { type: 'string' }, 'prompt-version': { type: 'string' }, detach: { type: 'boolean' } },
  webhooks: { ...COMMON, events: { type: 'string' }, folder: { type: 'string' } },
  watch: { ...COMMON, classify: { type: 'boolean' } },
  unwatch: COMMON,
} as const satisfies Record<ClientCommand, ParseArgsConfig['options']>;

const USAGE_LINE: Record<ClientCommand, string> = {
  scan: 'docsight scan <folder> [--detach] [--json] [--server URL] [--key KEY]',
  classify:
    'docsight classify <folder> [--taxonomy X] [--summary-language nl] [--force] [--dry-run] [--budget USD] [--detach] [--json] [--server URL] [--key KEY]',
  insights: 'docsight insights <folder> [--json] [--server URL] [--key KEY]',
  export: 'docsight export <folder> [--format csv|jsonl|xlsx] [--server URL] [--key KEY] > file',
  jobs: 'docsight jobs [<id> [--follow]] [--status s] [--kind scan|classify] [--folder f] [--limit n] [--json] [--server URL] [--key KEY]',
  sources:
    'docsight sources list | add NAME s3://bucket/prefix [--endpoint URL] [--region R] [--path-style] [--watch SECONDS] | remove NAME [--json] [--server URL] [--key KEY]',
  eval:
    'docsight eval --labels FILE --taxonomy T | eval run <folder> [--taxonomy T] [--model M] [--prompt-version P] [--detach] | eval show <id> | eval compare <a> <b> | eval list  [--json] [--server URL] [--key KEY]',
  webhooks: WEBHOOKS_USAGE,
  watch: 'docsight watch <folder> [--classify] | docsight watch list [--json] [--server URL] [--key KEY]',
  unwatch: 'docsight unwatch <folder> [--json] [--server URL] [--key KEY]',
};

function oneFolder(positionals: string[]): string {
  if (positionals.length !== 1) throw new UsageError(positionals.length ? 'give one folder (quote names with spaces)' : 'which folder? give a path relative to the documents root ("." for the root)');
  const folder = (positionals[0] as string).replace(/\/+$/, '');
  return folder === '' ? '.' : folder;
}

function positiveNumber(name: string, v: string | undefined, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || n > max) throw new UsageError(`--${name} must be a number above 0 and at most ${max}`);
  return n;
}

async function dispatch(command: ClientCommand, args: string[], env: Env, io: Io): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, options: OPTIONS[command], allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message.replace(/\. To specify a positional.*$/s, '') : String(err));
  }
  const { values: v, positionals } = parsed as { values: Record<string, string | boolean | undefined>; positionals: string[] };
  if (v.help) {
    io.stdout.write(`Usage: ${USAGE_LINE[command]}\n\n${CLIENT_USAGE}`);
    return EXIT.ok;
  }
  const str = (k: string) => (typeof v[k] === 'string' ? (v[k] as string) : undefined);
  const flag = (k: string) => v[k] === true;
  const ctx = makeContext({ server: str('server'), key: str('key'), json: flag('json') }, withDotEnv(env), io);
  switch (command) {
    case 'scan':
      return commands.scan(ctx, oneFolder(positionals), { detach: flag('detach') });
    case 'classify': {
      const lang = str('summary-language');
      if (lang !== undefined && !/^[A-Za-z]{2,3}(-[A-Za-z]{2,4})?$/.test(lang)) throw new UsageError('--summary-language must be a language code such as nl or en');
      return commands.classify(ctx, oneFolder(positionals), {
        taxonomy: str('taxonomy'),
        summaryLanguage: lang,
        force: flag('force'),
        dryRun: flag('dry-run'),
        budgetUsd: positiveNumber('budget', str('budget'), 1_000_000),
        detach: flag('detach'),
      });
    }
    case 'insights':
      return commands.insights(ctx, oneFolder(positionals));
    case 'export': {
      const format = str('format') ?? 'csv';
      if (format !== 'csv' && format !== 'jsonl' && format !== 'xlsx') throw new UsageError('--format must be csv, jsonl or xlsx');
      // Bytes go to the real stdout (an xlsx is binary), unless the caller gave a stream of its own.
      return commands.exportFolder(ctx, oneFolder(positionals), format, io.stdout instanceof Writable ? io.stdout : process.stdout);
    }
    case 'jobs': {
      if (positionals.length > 1) throw new UsageError('give at most one job id');
      const limit = positiveNumber('limit', str('limit'), 200) ?? 20;
      if (!Number.isInteger(limit)) throw new UsageError('--limit must be a whole number');
      if (positionals[0]) return commands.job(ctx, positionals[0], flag('follow'));
      return commands.jobs(ctx, { status: str('status'), kind: str('kind'), folder: str('folder'), limit });
    }
    case 'sources': {
      const [action, name, url, ...rest] = positionals;
      if (action === 'list' && !name) return commands.sourcesList(ctx);
      if (action === 'remove' && name && !url) return commands.sourcesRemove(ctx, name);
      if (action === 'add' && name && url && rest.length === 0) {
        const watch = positiveNumber('watch', str('watch'), 86_400);
        if (watch !== undefined && (!Number.isInteger(watch) || watch < 10)) throw new UsageError('--watch must be a whole number of seconds, 10 or more');
        const e = withDotEnv(env);
        return commands.sourcesAdd(ctx, name, url, {
          endpoint: str('endpoint'),
          region: str('region'),
          pathStyle: flag('path-style'),
          watchIntervalSeconds: watch,
          // From the environment, never a flag: flags end up in shell history and process lists.
          accessKeyId: e.DOCSIGHT_S3_ACCESS_KEY_ID || undefined,
          secretAccessKey: e.DOCSIGHT_S3_SECRET_ACCESS_KEY || undefined,
        });
      }
      throw new UsageError('use: sources list | sources add NAME s3://bucket/prefix | sources remove NAME');
    }
    case 'eval': {
      const labels = str('labels');
      if (labels !== undefined) {
        const taxonomy = str('taxonomy');
        if (!taxonomy) throw new UsageError('--labels needs --taxonomy T: the taxonomy the labels are from');
        if (positionals.length > 0) throw new UsageError('--labels takes no other arguments');
        return evaluation.importLabels(ctx, labels, taxonomy);
      }
      const [sub, ...rest] = positionals;
      if (sub === 'run') {
        return evaluation.run(ctx, oneFolder(rest), { taxonomy: str('taxonomy'), model: str('model'), promptVersion: str('prompt-version'), detach: flag('detach') });
      }
      if (sub === 'show' && rest.length === 1) return evaluation.showOne(ctx, rest[0] as string);
      if (sub === 'compare' && rest.length === 2) return evaluation.compare(ctx, rest[0] as string, rest[1] as string);
      if ((sub === 'list' || sub === undefined) && rest.length === 0) return evaluation.list(ctx);
      throw new UsageError('give --labels FILE --taxonomy T, run <folder>, show <id>, compare <a> <b> or list');
    }
    case 'webhooks':
      return webhooks(ctx, positionals, { events: str('events'), folder: str('folder') });
    case 'watch':
      // `list` is the listing; a folder named "list" is `./list`.
      if (positionals.length === 1 && positionals[0] === 'list') return commands.watchList(ctx);
      return commands.watch(ctx, oneFolder(positionals).replace(/^\.\//, ''), { autoClassify: flag('classify') });
    case 'unwatch':
      return commands.unwatch(ctx, oneFolder(positionals).replace(/^\.\//, ''));
  }
}

/** Run a client command; never throws: every failure becomes a message on stderr and an exit code. */
export async function runClientCommand(
  command: ClientCommand,
  args: string[],
  env: Env,
  io: Io = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  try {
    return await dispatch(command, args, env, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`docsight ${command}: ${err.message}\nUsage: ${USAGE_LINE[command]}\n`);
      return EXIT.usage;
    }
    if (err instanceof ServerUnreachable) {
      io.stderr.write(`docsight ${command}: ${err.message}\nIs it running? Start it with \`npm start\`, or point to another one with --server URL.\n`);
      return EXIT.unreachable;
    }
    if (err instanceof ApiError) {
      const hint = err.status === 401 ? ' (give an API key with --key or DOCSIGHT_API_KEY)' : '';
      io.stderr.write(`docsight ${command}: ${err.message}${hint} [${err.code}]\n`);
      return err.status >= 400 && err.status < 500 ? EXIT.usage : EXIT.jobFailures;
    }
    throw err;
  }
}
