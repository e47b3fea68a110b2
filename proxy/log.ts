/**
 * Operational log: one JSON object per line on stderr. Callers pass facts, never
 * keys or message content.
 */
type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const threshold = ORDER[(process.env.GATEHOUSE_LOG_LEVEL as Level | undefined) ?? 'info'] ?? ORDER.info;

function write(level: Level, message: string, fields?: Record<string, unknown>): void {
  if (ORDER[level] < threshold) return;
  const line: Record<string, unknown> = { time: new Date().toISOString(), level, msg: message, ...fields };
  if (fields?.error instanceof Error) line.error = { name: fields.error.name, message: fields.error.message, code: (fields.error as { code?: string }).code };
  process.stderr.write(`${JSON.stringify(line)}\n`);
}

export const log = {
  debug: (message: string, fields?: Record<string, unknown>) => write('debug', message, fields),
  info: (message: string, fields?: Record<string, unknown>) => write('info', message, fields),
  warn: (message: string, fields?: Record<string, unknown>) => write('warn', message, fields),
  error: (message: string, fields?: Record<string, unknown>) => write('error', message, fields),
};
