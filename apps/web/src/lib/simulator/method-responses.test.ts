import { describe, expect, test } from 'bun:test';
import { respondTo } from './method-responses.ts';

const fallback = { methodName: '', status: 200, payloadText: '{"ok": true}' };

describe('respondTo', () => {
  test('a rule for the method name wins over the default', () => {
    const rules = [{ methodName: 'reboot', status: 202, payloadText: '{"in": 5}' }];
    expect(respondTo('reboot', rules, fallback)).toEqual({ status: 202, payload: { in: 5 } });
    expect(respondTo('other', rules, fallback)).toEqual({ status: 200, payload: { ok: true } });
  });

  test('an empty payload answers null', () => {
    expect(respondTo('x', [], { methodName: '', status: 204, payloadText: ' ' })).toEqual({ status: 204, payload: null });
  });

  test('broken response JSON answers 500 with an explanation', () => {
    expect(respondTo('x', [{ methodName: 'x', status: 200, payloadText: '{' }], fallback)).toEqual({
      status: 500,
      payload: { error: "The simulator's response for 'x' is not valid JSON." },
    });
  });
});
