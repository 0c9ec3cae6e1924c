import { describe, expect, test } from 'bun:test';
import {
  chunk,
  chunkOutcomes,
  failedChunkOutcomes,
  parseImportCsv,
  parseImportFile,
  parseImportJson,
  splitCsvLine,
  toImportRequest,
} from './bulk-import.ts';

describe('parseImportCsv', () => {
  test('a deviceId-only file yields one device per line, blank lines skipped', () => {
    expect(parseImportCsv('deviceId\nd1\n\nd2\r\n')).toEqual({ devices: [{ deviceId: 'd1' }, { deviceId: 'd2' }], problems: [] });
  });

  test('keys and status are read by header name, in any order and case', () => {
    const csv = 'Status,deviceId,secondaryKey,primaryKey\ndisabled,d1,s1,p1\n,d2,,';
    expect(parseImportCsv(csv).devices).toEqual([
      { deviceId: 'd1', status: 'disabled', primaryKey: 'p1', secondaryKey: 's1' },
      { deviceId: 'd2' },
    ]);
  });

  test('a file without a deviceId header is refused as a whole', () => {
    const parsed = parseImportCsv('id,key\nd1,k');
    expect(parsed.devices).toEqual([]);
    expect(parsed.problems).toEqual(['The first line must be a header naming a deviceId column.']);
  });

  test('bad lines are reported with their line number and the rest is kept', () => {
    const parsed = parseImportCsv('deviceId,status\nd1,enabled\n,enabled\nd1,enabled\nd2,paused\nd3,ENABLED');
    expect(parsed.devices).toEqual([{ deviceId: 'd1', status: 'enabled' }, { deviceId: 'd3', status: 'enabled' }]);
    expect(parsed.problems).toEqual(['Line 3: no deviceId.', 'Line 4: d1 appears more than once.', 'Line 5: status must be enabled or disabled.']);
  });

  test('a byte order mark before the header is ignored', () => {
    expect(parseImportCsv('\uFEFFdeviceId\nd1').devices).toEqual([{ deviceId: 'd1' }]);
  });
});

describe('splitCsvLine', () => {
  test.each([
    ['a,b,c', ['a', 'b', 'c']],
    ['"a,b",c', ['a,b', 'c']],
    ['"say ""hi""",x', ['say "hi"', 'x']],
    ['a,,', ['a', '', '']],
  ])('%p splits into %p', (line, fields) => {
    expect(splitCsvLine(line)).toEqual(fields);
  });
});

describe('parseImportJson', () => {
  test('an array of devices keeps keys, status and a whole authentication object', () => {
    const json = JSON.stringify([
      { deviceId: 'd1', primaryKey: 'p', status: 'disabled' },
      { deviceId: 'd2', authentication: { type: 'selfSigned', x509Thumbprint: { primaryThumbprint: 'AB', secondaryThumbprint: null } } },
    ]);
    expect(parseImportJson(json)).toEqual({
      devices: [
        { deviceId: 'd1', primaryKey: 'p', status: 'disabled' },
        { deviceId: 'd2', authentication: { type: 'selfSigned', x509Thumbprint: { primaryThumbprint: 'AB', secondaryThumbprint: null } } },
      ],
      problems: [],
    });
  });

  test('elements without a deviceId are reported by position', () => {
    expect(parseImportJson('[{"deviceId":"a"}, 7, {"deviceId":""}]').problems).toEqual(['Item 2: no deviceId.', 'Item 3: no deviceId.']);
  });

  test('an object instead of an array is refused', () => {
    expect(parseImportJson('{"deviceId":"a"}').problems).toEqual(['The JSON file must hold an array of devices.']);
  });

  test('invalid JSON is reported, not thrown', () => {
    expect(parseImportJson('[{').problems[0]).toStartWith('The file is not valid JSON');
  });
});

test('parseImportFile picks the parser by extension', () => {
  expect(parseImportFile('devices.JSON', '[{"deviceId":"j"}]').devices).toEqual([{ deviceId: 'j' }]);
  expect(parseImportFile('devices.csv', 'deviceId\nc').devices).toEqual([{ deviceId: 'c' }]);
});

describe('toImportRequest', () => {
  test('a device without keys asks the hub to generate them', () => {
    expect(toImportRequest({ deviceId: 'd1' })).toEqual({ id: 'd1', importMode: 'create' });
  });

  test('given keys become SAS authentication, a missing one left for the hub', () => {
    expect(toImportRequest({ deviceId: 'd1', primaryKey: 'p', status: 'disabled' })).toEqual({
      id: 'd1',
      importMode: 'create',
      status: 'disabled',
      authentication: { type: 'sas', symmetricKey: { primaryKey: 'p', secondaryKey: '' } },
    });
  });
});

test('chunk splits into pieces of at most the given size', () => {
  expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
  expect(chunk([], 100)).toEqual([]);
});

describe('outcomes', () => {
  const requests = [toImportRequest({ deviceId: 'a' }), toImportRequest({ deviceId: 'b' })];

  test('devices the hub lists as errors failed with its code, the others were created', () => {
    const result = { isSuccessful: false, errors: [{ deviceId: 'b', errorCode: 'DeviceAlreadyExists', errorStatus: 'exists' }], warnings: [] };
    expect(chunkOutcomes(requests, result)).toEqual([
      { deviceId: 'a', isCreated: true },
      { deviceId: 'b', isCreated: false, reason: 'DeviceAlreadyExists: exists' },
    ]);
  });

  test('a failed request fails every device of its chunk with the message', () => {
    expect(failedChunkOutcomes(requests, 'Could not reach the hub.').map((o) => o.reason)).toEqual(['Could not reach the hub.', 'Could not reach the hub.']);
  });
});
