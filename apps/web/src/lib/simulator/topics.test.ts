import { describe, expect, test } from 'bun:test';
import { formatPropertyBag, methodResponseTopic, parseIncomingTopic, reportedPatchTopic, telemetryTopic } from './topics.ts';

describe('parseIncomingTopic', () => {
  test('a C2D topic yields its url-decoded properties, system and application alike', () => {
    expect(parseIncomingTopic('devices/d1/messages/devicebound/%24.mid=m%201&%24.to=%2Fdevices%2Fd1%2Fmessages%2FdeviceBound&color=red%26blue')).toEqual({
      kind: 'c2d',
      properties: { '$.mid': 'm 1', '$.to': '/devices/d1/messages/deviceBound', color: 'red&blue' },
    });
  });

  test('a C2D topic without properties yields none', () => {
    expect(parseIncomingTopic('devices/d1/messages/devicebound/')).toEqual({ kind: 'c2d', properties: {} });
  });

  test('a method request yields the method name and request id', () => {
    expect(parseIncomingTopic('$iothub/methods/POST/reboot/?$rid=7')).toEqual({ kind: 'methodRequest', methodName: 'reboot', rid: '7' });
  });

  test('a twin response yields status, request id and the new version', () => {
    expect(parseIncomingTopic('$iothub/twin/res/204/?$rid=3&$version=12')).toEqual({ kind: 'twinResponse', status: 204, rid: '3', version: 12 });
    expect(parseIncomingTopic('$iothub/twin/res/200/?$rid=4')).toEqual({ kind: 'twinResponse', status: 200, rid: '4', version: undefined });
  });

  test('a desired-properties patch yields its $version', () => {
    expect(parseIncomingTopic('$iothub/twin/PATCH/properties/desired/?$version=5')).toEqual({ kind: 'desiredPatch', version: 5 });
  });

  test('anything else is unknown', () => {
    expect(parseIncomingTopic('devices/d1/messages/events/')).toEqual({ kind: 'unknown' });
  });
});

describe('topic builders', () => {
  test('telemetry properties are url-encoded after the slash', () => {
    expect(telemetryTopic('d1', { '$.ct': 'application/json', '$.ce': 'utf-8' })).toBe('devices/d1/messages/events/%24.ct=application%2Fjson&%24.ce=utf-8');
    expect(telemetryTopic('d1', {})).toBe('devices/d1/messages/events/');
  });

  test('method responses and reported patches carry the request id', () => {
    expect(methodResponseTopic(200, '9')).toBe('$iothub/methods/res/200/?$rid=9');
    expect(reportedPatchTopic('2')).toBe('$iothub/twin/PATCH/properties/reported/?$rid=2');
  });

  test('a property bag round-trips reserved characters', () => {
    expect(formatPropertyBag({ 'a b': 'c=d&e' })).toBe('a%20b=c%3Dd%26e');
  });
});
