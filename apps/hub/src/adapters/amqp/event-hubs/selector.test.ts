import { describe, expect, test } from 'bun:test';
import { dirname, join } from 'node:path';
import { HubError } from '@tributary/core';
import rhea from 'rhea';
import { LATEST, parseSelector, parseSourceFilter, SELECTOR_FILTER_DESCRIPTOR, SELECTOR_FILTER_NAME } from './selector.ts';

/** The filter exactly as @azure/event-hubs puts it on the attach (partitionReceiver.js). */
const sdkFilter = (selector: string) => ({ [SELECTOR_FILTER_NAME]: rhea.types.wrap_described(selector, 0x468c00000004) });

/** The same filter after encoding and decoding, the shape rhea hands over in `link.remote.attach.source.filter`. */
function decodedFilter(selector: string): Record<string, unknown> {
  const codec = rhea.types as unknown as { Writer: new () => { write(v: unknown): void; toBuffer(): Buffer }; Reader: new (b: Buffer) => { read(): unknown } };
  const writer = new codec.Writer();
  writer.write(rhea.types.wrap_described(selector, 0x468c00000004));
  return { [SELECTOR_FILTER_NAME]: new codec.Reader(writer.toBuffer()).read() };
}

function thrown(fn: () => unknown): HubError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(HubError);
    return error as HubError;
  }
  throw new Error('expected the call to throw');
}

describe('selectors the Event Hubs SDK sends', () => {
  test('offset -1 (earliest) starts at the beginning of the partition', () => {
    expect(parseSelector("amqp.annotation.x-opt-offset > '-1'")).toEqual({ position: 'start', isInclusive: false });
  });

  test('offset @latest starts after the last event', () => {
    expect(parseSelector("amqp.annotation.x-opt-offset > '@latest'")).toEqual({ position: 'end', isInclusive: false });
  });

  test('an inclusive offset starts at that offset', () => {
    expect(parseSelector("amqp.annotation.x-opt-offset >= '123'")).toEqual({ position: { offset: 123 }, isInclusive: true });
  });

  test('an exclusive offset starts one past it, which the store reads as the next event', () => {
    expect(parseSelector("amqp.annotation.x-opt-offset > '123'")).toEqual({ position: { offset: 124 }, isInclusive: false });
  });

  test('an exclusive sequence number starts at the next one, an inclusive one at itself', () => {
    expect(parseSelector("amqp.annotation.x-opt-sequence-number > '5'")).toEqual({ position: { sequenceNumber: 6 }, isInclusive: false });
    expect(parseSelector("amqp.annotation.x-opt-sequence-number >= '5'")).toEqual({ position: { sequenceNumber: 5 }, isInclusive: true });
  });

  test('sequence number -1 starts at sequence number 0', () => {
    expect(parseSelector("amqp.annotation.x-opt-sequence-number > '-1'").position).toEqual({ sequenceNumber: 0 });
  });

  test('an enqueued time in ms starts one millisecond after it (exclusive), or at it with >=', () => {
    expect(parseSelector("amqp.annotation.x-opt-enqueued-time > '1795346439730'")).toEqual({
      position: { enqueuedTime: 1795346439731 },
      isInclusive: false,
    });
    expect(parseSelector("amqp.annotation.x-opt-enqueued-time >= '1795346439730'").position).toEqual({ enqueuedTime: 1795346439730 });
  });

  test('annotation names are matched case-insensitively and spacing is free', () => {
    expect(parseSelector("  AMQP.Annotation.X-Opt-Sequence-Number>='7' ").position).toEqual({ sequenceNumber: 7 });
  });

  test("every selector @azure/event-hubs' getEventPositionFilter builds is understood", async () => {
    const entry = Bun.resolveSync('@azure/event-hubs', import.meta.dir);
    const { getEventPositionFilter, earliestEventPosition, latestEventPosition } = await import(join(dirname(entry), 'eventPosition.js'));
    const cases: [unknown, unknown][] = [
      [earliestEventPosition, 'start'],
      [latestEventPosition, 'end'],
      [{ offset: 40 }, { offset: 41 }],
      [{ offset: '40', isInclusive: true }, { offset: 40 }],
      [{ sequenceNumber: 9 }, { sequenceNumber: 10 }],
      [{ sequenceNumber: 9, isInclusive: true }, { sequenceNumber: 9 }],
      [{ enqueuedOn: new Date(1_795_346_439_730) }, { enqueuedTime: 1_795_346_439_731 }],
      [{ enqueuedOn: 1_795_346_439_730 }, { enqueuedTime: 1_795_346_439_731 }],
    ];
    for (const [sdkPosition, expected] of cases) {
      expect(parseSelector(getEventPositionFilter(sdkPosition)).position).toEqual(expected as never);
    }
  });
});

describe('source filters', () => {
  test('no filter starts at the end: the Event Hubs default is latest', () => {
    expect(parseSourceFilter(undefined)).toEqual(LATEST);
    expect(parseSourceFilter(null)).toEqual({ position: 'end', isInclusive: false });
  });

  test('the described selector the SDK attaches is read', () => {
    expect(parseSourceFilter(sdkFilter("amqp.annotation.x-opt-sequence-number > '5'"))).toEqual({
      position: { sequenceNumber: 6 },
      isInclusive: false,
    });
  });

  test('the selector as rhea decodes it from the wire is read', () => {
    expect(parseSourceFilter(decodedFilter("amqp.annotation.x-opt-offset >= '80'")).position).toEqual({ offset: 80 });
  });

  test('a plain string selector is read', () => {
    expect(parseSourceFilter({ [SELECTOR_FILTER_NAME]: "amqp.annotation.x-opt-offset > '-1'" }).position).toBe('start');
  });

  test('a selector under another name is found by its descriptor', () => {
    const filter = { 'my-selector': rhea.types.wrap_described("amqp.annotation.x-opt-sequence-number >= '2'", SELECTOR_FILTER_DESCRIPTOR) };
    expect(parseSourceFilter(filter).position).toEqual({ sequenceNumber: 2 });
  });

  test('a filter map without a selector starts at the end', () => {
    expect(parseSourceFilter({ 'apache.org:legacy-amqp-direct-binding:string': rhea.types.wrap_described('x', 0x468c00000000) })).toEqual(LATEST);
  });

  test('a selector filter that holds no string is ArgumentInvalid', () => {
    expect(thrown(() => parseSourceFilter({ [SELECTOR_FILTER_NAME]: rhea.types.wrap_described(5, SELECTOR_FILTER_DESCRIPTOR) })).code).toBe(
      'ArgumentInvalid',
    );
    expect(thrown(() => parseSourceFilter('x')).code).toBe('ArgumentInvalid');
  });
});

describe('selectors refused with ArgumentInvalid', () => {
  for (const selector of [
    "amqp.annotation.x-opt-offset < '5'",
    "amqp.annotation.x-opt-offset = '5'",
    "amqp.annotation.x-opt-partition-key > '5'",
    "amqp.annotation.x-opt-offset > 'abc'",
    "amqp.annotation.x-opt-offset > '-2'",
    "amqp.annotation.x-opt-sequence-number > '1.5'",
    "amqp.annotation.x-opt-sequence-number > '99999999999999999999'",
    "amqp.annotation.x-opt-enqueued-time > '-1'",
    "amqp.annotation.x-opt-enqueued-time > '2026-01-01T00:00:00Z'",
    "amqp.annotation.x-opt-offset > '5' OR 1=1",
    '',
  ]) {
    test(`"${selector}" is refused`, () => {
      expect(thrown(() => parseSelector(selector)).code).toBe('ArgumentInvalid');
    });
  }
});
