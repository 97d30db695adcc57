import { pino, type Logger } from 'pino';

/** Structured JSON logs. Secrets never reach them: config values are not logged, keys are redacted. */
export function createLogger(level: string, name = 'docsight'): Logger {
  return pino({
    name,
    level,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers["x-api-key"]',
        'apiKey',
        'key',
        'password',
        'config.llm.apiKey',
        // Bucket credentials, wherever an object carrying them is logged (a request body, a source, the config).
        'secretAccessKey',
        'accessKeyId',
        '*.secretAccessKey',
        '*.accessKeyId',
        'credentials',
        '*.credentials',
        'config.sources.secretsKey',
      ],
      censor: '[redacted]',
    },
  });
}
