import { describe, expect, test } from 'bun:test';
import { flushPromises } from './recording-sink.ts';
import { Gate } from './gate.ts';

describe('Gate', () => {
  test('an open gate lets a call straight through', async () => {
    const gate = new Gate();
    let passed = false;
    void gate.pass().then(() => (passed = true));
    await flushPromises();
    expect(passed).toBe(true);
  });

  test('a closed gate holds calls until it opens, then lets later calls through', async () => {
    const gate = new Gate();
    gate.close();
    const passed: number[] = [];
    void gate.pass().then(() => passed.push(1));
    void gate.pass().then(() => passed.push(2));
    await flushPromises();
    expect(passed).toEqual([]);
    expect(gate.waitingCount).toBe(2);

    gate.open();
    await flushPromises();
    expect(passed).toEqual([1, 2]);
    expect(gate.waitingCount).toBe(0);
    await gate.pass();
  });
});
