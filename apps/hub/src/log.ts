/**
 * The hub's logger: one JSON object per line on stderr, with a stable snake_case `event` name and
 * flat fields. Secrets are redacted here, in one serializer, whatever field they arrive in.
 * @module
 */

import type { LogFields, Logger } from '@tributary/core';
import type { LogLevel } from './config.ts';

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const SECRET_FIELD = /key|password|secret|token|signature|connectionstring|authorization/i;
const SECRET_TEXT: [RegExp, string][] = [
  [/(sig=)[^&;\s"]+/gi, '$1<redacted>'],
  [/(SharedAccessKey=)[^;\s"]+/gi, '$1<redacted>'],
  [/(postgres(?:ql)?:\/\/[^:/@\s]+:)[^@\s]+@/gi, '$1<redacted>@'],
];

/** Redacts secret-looking fields and secret fragments inside text (SAS signatures, keys, passwords). */
export function redact(value: unknown, fieldName = ''): unknown {
  if (value === null || value === undefined) return value;
  if (SECRET_FIELD.test(fieldName) && typeof value !== 'object' && typeof value !== 'boolean') return '<redacted>';
  if (typeof value === 'string') return SECRET_TEXT.reduce((text, [pattern, replacement]) => text.replace(pattern, replacement), value);
  if (value instanceof Error) return { name: value.name, message: redact(value.message), stack: redact(value.stack) };
  if (Array.isArray(value)) return value.map((item) => redact(item));
  if (typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, redact(v, k)]));
  }
  return value;
}

/**
 * A class, so that a child (one per connection and one per device session) is one small object
 * rather than six closures and their scope.
 */
class JsonLogger implements Logger {
  readonly #level: LogLevel;
  readonly #write: (line: string) => void;
  readonly #bindings: LogFields;

  constructor(level: LogLevel, write: (line: string) => void, bindings: LogFields) {
    this.#level = level;
    this.#write = write;
    this.#bindings = bindings;
  }

  debug(event: string, fields?: LogFields): void {
    this.#emit('debug', event, fields);
  }

  info(event: string, fields?: LogFields): void {
    this.#emit('info', event, fields);
  }

  warn(event: string, fields?: LogFields): void {
    this.#emit('warn', event, fields);
  }

  error(event: string, fields?: LogFields): void {
    this.#emit('error', event, fields);
  }

  child(bindings: LogFields): Logger {
    return new JsonLogger(this.#level, this.#write, { ...this.#bindings, ...bindings });
  }

  #emit(at: LogLevel, event: string, fields?: LogFields): void {
    if (RANK[at] < RANK[this.#level]) return;
    const record = { time: new Date().toISOString(), level: at, event, ...this.#bindings, ...fields };
    this.#write(JSON.stringify(redact(record)));
  }
}

export function createJsonLogger(
  level: LogLevel,
  write: (line: string) => void = (line) => process.stderr.write(line + '\n'),
  bindings: LogFields = {},
): Logger {
  return new JsonLogger(level, write, bindings);
}
