/**
 * The logging interface core writes to. The hub supplies the JSON implementation (with secret
 * redaction); core only names events (snake_case, past tense) and passes flat fields.
 * @module
 */

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
  /** A logger that adds `bindings` to every line, e.g. `{adapter, connId, deviceId}`. */
  child(bindings: LogFields): Logger;
}

/** A logger that drops everything; the default for tests and library use. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silentLogger;
  },
};
