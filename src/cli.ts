/**
 * The `docsight` command. Service commands: start (API + workers + embedded database, one
 * process), api, worker, migrate. Exit codes: 0 ok, 1 failure, 2 bad usage or configuration.
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { openAdminServices, startRuntime, type Roles } from './container.ts';
import { reportFailure, showsTrace } from './cli/failure.ts';
import { CLIENT_USAGE, isClientCommand, runClientCommand } from './cli/index.ts';
import { KEYS_USAGE, keysCommand } from './keys-command.ts';
import { createLogger } from './logger.ts';
import { VERSION } from './version.ts';

const USAGE = `docsight ${VERSION}: what is in your document folders, and what each document is about

Usage: docsight <command>

Service
  start      API and workers in one process (embedded PostgreSQL unless DATABASE_URL is set)
  api        the HTTP API only (needs DATABASE_URL; REDIS_URL for BullMQ)
  worker     a worker only (needs DATABASE_URL; REDIS_URL for BullMQ)
  migrate    apply database migrations and exit
  reindex-search
             rebuild every document's search index entry (after a text search configuration change)
  duplicates backfill
             give a MinHash signature to documents whose stored text has none (extracted before
             duplicates existed), so duplicates and similar documents find them; no file is read
             again
${KEYS_USAGE}
${CLIENT_USAGE}
Every command
  --debug    on failure, show the stack trace too (as LOG_LEVEL=debug does)

Configuration comes from the environment and a .env file; see the README.
`;

/** Whether a failure shows its stack trace: --debug, or LOG_LEVEL debug or trace. */
let debug = false;

async function serve(config: Config, roles: Roles): Promise<void> {
  const log = createLogger(config.logLevel);
  const runtime = await startRuntime(config, roles, log);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, 'shutting down: no new work, finishing or releasing in-flight jobs');
    runtime
      .stop()
      .then(() => {
        log.info('stopped');
        process.exit(0);
      })
      .catch((err: unknown) => {
        log.error({ err: String(err) }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

async function migrate(config: Config): Promise<void> {
  const admin = await openAdminServices(config, createLogger(config.logLevel));
  const applied = admin.appliedMigrations;
  await admin.close();
  process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'database is up to date\n');
}

async function reindexSearch(config: Config): Promise<void> {
  const log = createLogger(config.logLevel);
  const admin = await openAdminServices(config, log);
  try {
    const started = Date.now();
    const count = await admin.search.reindex((done) => {
      if (done % 10_000 < 500) log.info({ done }, 'reindexing search');
    });
    process.stdout.write(`reindexed ${count} documents in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  } finally {
    await admin.close();
  }
}

async function backfillDuplicates(config: Config): Promise<void> {
  const log = createLogger(config.logLevel);
  const admin = await openAdminServices(config, log);
  try {
    const started = Date.now();
    let logged = 0;
    const { read, signed } = await admin.backfillSignatures((p) => {
      if (p.read - logged >= 10_000) {
        logged = p.read;
        log.info(p, 'backfilling signatures');
      }
    });
    process.stdout.write(`signed ${signed} of ${read} documents without a signature in ${((Date.now() - started) / 1000).toFixed(1)} s (the rest are too short to compare)\n`);
  } finally {
    await admin.close();
  }
}

export async function main(commandLine: string[]): Promise<number> {
  // --debug is the same for every command, so it is taken off before a command parses its options.
  debug = commandLine.includes('--debug');
  const argv = commandLine.filter((a) => a !== '--debug');
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: false,
    options: { help: { type: 'boolean', short: 'h' }, version: { type: 'boolean', short: 'v' } },
  });
  const [command] = positionals;
  // Client commands need no server configuration: they talk HTTP to a server.
  if (isClientCommand(command)) {
    debug ||= showsTrace(process.env.LOG_LEVEL);
    return runClientCommand(command, argv.filter((a, i) => i !== argv.indexOf(command)), process.env);
  }
  if (values.version) {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  if (!command || values.help || command === 'help') {
    process.stdout.write(USAGE);
    return command || values.help ? 0 : 2;
  }
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    throw err;
  }
  debug ||= showsTrace(config.logLevel);
  switch (command) {
    case 'start':
      await serve(config, { api: true, worker: true });
      return -1; // keeps running
    case 'api':
      await serve(config, { api: true, worker: false });
      return -1;
    case 'worker':
      await serve(config, { api: false, worker: true });
      return -1;
    case 'migrate':
      await migrate(config);
      return 0;
    case 'reindex-search':
      await reindexSearch(config);
      return 0;
    case 'duplicates':
      if (positionals[1] !== 'backfill') {
        process.stderr.write(`Usage: docsight duplicates backfill\n`);
        return 2;
      }
      await backfillDuplicates(config);
      return 0;
    case 'keys':
      // Quiet below warnings: the output is the keys (or their JSON), not the database's start-up.
      return keysCommand(argv.slice(argv.indexOf('keys') + 1), () => openAdminServices(config, createLogger('warn')));
    default:
      process.stderr.write(`Unknown command: ${command}\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err: unknown) => process.exit(reportFailure(err, { debug })),
);
