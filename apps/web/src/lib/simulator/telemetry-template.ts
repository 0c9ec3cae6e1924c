// The simulator's telemetry templates: a JSON document whose string values may be generators,
// evaluated once per message. Owns the template syntax and the generators' state; sending is
// the simulated device's.
//
// Syntax (a whole string value, spaces allowed around arguments):
//   "$walk(start, step)"            random walk: start, then each message adds a uniform step in [-step, step]
//   "$walk(start, step, min, max)"  the same, kept within [min, max]
//   "$random(min, max)"             a uniform number in [min, max)
//   "$counter(start)"               start, start + 1, … (start defaults to 0)
//   "$now"                          the send time as an ISO-8601 string
// Anything else, including strings that merely start with "$", is sent as written.
// Numbers are rounded to 3 decimals so messages stay readable.

export type Random = () => number;

type Generator = (random: Random, now: Date) => unknown;

const round = (value: number) => Math.round(value * 1000) / 1000;

function makeWalk(args: number[]): Generator | string {
  const [start, step, min = -Infinity, max = Infinity] = args;
  if (args.length !== 2 && args.length !== 4) return '$walk takes (start, step) or (start, step, min, max)';
  if (start === undefined || step === undefined) return '$walk needs a start and a step';
  let value: number | undefined;
  return (random) => {
    value = value === undefined ? start : Math.min(max, Math.max(min, value + (random() * 2 - 1) * step));
    return round(value);
  };
}

function makeRandom(args: number[]): Generator | string {
  const [min, max] = args;
  if (args.length !== 2 || min === undefined || max === undefined) return '$random takes (min, max)';
  return (random) => round(min + random() * (max - min));
}

function makeCounter(args: number[]): Generator | string {
  if (args.length > 1) return '$counter takes (start) or nothing';
  let next = args[0] ?? 0;
  return () => next++;
}

const factories: Record<string, (args: number[]) => Generator | string> = {
  walk: makeWalk,
  random: makeRandom,
  counter: makeCounter,
};

const CALL = /^\$(\w+)\(([^)]*)\)$/;

/** A generator for a template string, an error message for a malformed generator call, or undefined for a literal. */
function generatorFor(text: string): Generator | string | undefined {
  if (text.trim() === '$now') return (_random, now) => now.toISOString();
  const match = CALL.exec(text.trim());
  const factory = match && factories[match[1] ?? ''];
  if (!match || !factory) return undefined;
  const argText = (match[2] ?? '').trim();
  const args = argText === '' ? [] : argText.split(',').map((arg) => Number(arg.trim()));
  if (args.some((arg) => !Number.isFinite(arg))) return `${text}: arguments must be numbers`;
  const made = factory(args);
  return typeof made === 'string' ? `${text}: ${made}` : made;
}

/** The template with its generators bound; `render` advances them (walks and counters keep their state). */
export interface TelemetryTemplate {
  render(random: Random, now: Date): unknown;
}

function compileValue(value: unknown, errors: string[]): (random: Random, now: Date) => unknown {
  if (typeof value === 'string') {
    const generator = generatorFor(value);
    if (typeof generator === 'string') errors.push(generator);
    return typeof generator === 'function' ? generator : () => value;
  }
  if (Array.isArray(value)) {
    const items = value.map((item) => compileValue(item, errors));
    return (random, now) => items.map((item) => item(random, now));
  }
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).map(([key, item]) => [key, compileValue(item, errors)] as const);
    return (random, now) => Object.fromEntries(entries.map(([key, item]) => [key, item(random, now)]));
  }
  return () => value;
}

/**
 * Compiles template text; `error` says what is wrong when it is not JSON or a generator is malformed.
 * @example
 * const compiled = compileTemplate('{"temperature": "$walk(20, 0.5)"}');
 * if (compiled.template) send(JSON.stringify(compiled.template.render(Math.random, new Date())));
 */
export function compileTemplate(text: string): { template: TelemetryTemplate; error?: undefined } | { template?: undefined; error: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    return { error: `Not valid JSON: ${(cause as Error).message}` };
  }
  const errors: string[] = [];
  const render = compileValue(parsed, errors);
  return errors.length > 0 ? { error: errors.join('; ') } : { template: { render } };
}
