import pino from 'pino';

/** JSON logs; secrets are redacted by key wherever they might slip into a logged object. */
export function createLogger(name: string) {
  return pino({
    name,
    level: process.env.CUTOVER_LOG_LEVEL ?? 'info',
    redact: {
      paths: ['*.connectionString', '*.password', '*.token', '*.authorization', 'connectionString', 'password', 'token', 'authorization'],
      censor: '***',
    },
  });
}

export type Logger = ReturnType<typeof createLogger>;
