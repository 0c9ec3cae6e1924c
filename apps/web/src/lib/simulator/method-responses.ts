// How a simulated device answers direct methods: a response per method name, else the default.
// Pure, so the choice and the payload parsing are unit-tested.

export interface MethodResponseRule {
  /** '' for the default rule */
  methodName: string;
  status: number;
  /** JSON text; empty means a null payload */
  payloadText: string;
}

/** The status and payload to answer `methodName` with; a rule whose JSON is broken answers 500. */
export function respondTo(methodName: string, rules: MethodResponseRule[], fallback: MethodResponseRule): { status: number; payload: unknown } {
  const rule = rules.find((candidate) => candidate.methodName.trim() === methodName) ?? fallback;
  if (rule.payloadText.trim() === '') return { status: rule.status, payload: null };
  try {
    return { status: rule.status, payload: JSON.parse(rule.payloadText) };
  } catch {
    return { status: 500, payload: { error: `The simulator's response for '${methodName}' is not valid JSON.` } };
  }
}
