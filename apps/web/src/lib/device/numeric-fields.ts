// Which numbers a telemetry message holds, for charting: nested JSON flattened to dotted names.
// Owns only the flattening; parsing the body and charting are the live-telemetry state's.

/**
 * The finite numbers in `value` keyed by their dotted path (`{"a":{"b":1},"c":[2]}` → `a.b`, `c.0`).
 * Strings, booleans and nulls are skipped; a bare number is named `value`.
 */
export function numericFields(value: unknown): Map<string, number> {
  const fields = new Map<string, number>();
  const visit = (node: unknown, path: string) => {
    if (typeof node === 'number') {
      if (Number.isFinite(node)) fields.set(path || 'value', node);
    } else if (typeof node === 'object' && node !== null) {
      for (const [key, child] of Object.entries(node)) visit(child, path ? `${path}.${key}` : key);
    }
  };
  visit(value, '');
  return fields;
}
