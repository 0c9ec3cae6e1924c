import { describe, expect, test } from 'bun:test';
import { HubError } from '@tributary/core';
import { formatPropertyBag, parsePropertyBag } from './property-bag.ts';

function parseError(bag: string): unknown {
  try {
    parsePropertyBag(bag);
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('parsePropertyBag', () => {
  test('the bag the Node SDK sends becomes IoT Hub system properties and decoded application properties', () => {
    const bag =
      '%24.mid=m-1&%24.cid=c-1&%24.uid=u&%24.ct=application%2Fjson&%24.ce=utf-8&%24.exp=2030-01-01T00%3A00%3A00.000Z&temp%20alert=a%26b%3Dc%2Fd&%24.sub=thermostat1';
    expect(parsePropertyBag(bag)).toEqual({
      systemProperties: {
        'message-id': 'm-1',
        'correlation-id': 'c-1',
        'user-id': 'u',
        'content-type': 'application/json',
        'content-encoding': 'utf-8',
        'absolute-expiry-time': '2030-01-01T00:00:00.000Z',
        'dt-subject': 'thermostat1',
      },
      applicationProperties: { 'temp alert': 'a&b=c/d' },
    });
  });

  test('a raw `$` and an encoded `%24` name the same system property', () => {
    expect(parsePropertyBag('$.mid=raw&$.cid=c1').systemProperties).toEqual({ 'message-id': 'raw', 'correlation-id': 'c1' });
    expect(parsePropertyBag('%24.mid=enc').systemProperties).toEqual({ 'message-id': 'enc' });
  });

  test('`$.to`, `$.ifid` and `$.on` map to to, iothub-interface-id and iothub-outputname', () => {
    expect(parsePropertyBag('%24.to=%2Fdevices%2Fd1&%24.ifid=urn%3Aazureiot%3AModelDiscovery%3A1&%24.on=out1').systemProperties).toEqual({
      to: '/devices/d1',
      'iothub-interface-id': 'urn:azureiot:ModelDiscovery:1',
      'iothub-outputname': 'out1',
    });
  });

  test("a module output bag with the SDK's trailing `/` names the output and keeps the other properties", () => {
    expect(parsePropertyBag('%24.on=alerts&level=high/')).toEqual({
      systemProperties: { 'iothub-outputname': 'alerts' },
      applicationProperties: { level: 'high' },
    });
  });

  test('a trailing `/` is ignored, and a lone `/` or an empty bag has no properties', () => {
    expect(parsePropertyBag('a=1/')).toEqual({ systemProperties: {}, applicationProperties: { a: '1' } });
    expect(parsePropertyBag('/')).toEqual({ systemProperties: {}, applicationProperties: {} });
    expect(parsePropertyBag('')).toEqual({ systemProperties: {}, applicationProperties: {} });
  });

  test('a key without `=` and a key with `k=` both get an empty value', () => {
    expect(parsePropertyBag('flag&empty=&x=1').applicationProperties).toEqual({ flag: '', empty: '', x: '1' });
  });

  test('a value is split from its key at the first `=` only', () => {
    expect(parsePropertyBag('expr=a=b=c').applicationProperties).toEqual({ expr: 'a=b=c' });
  });

  test('empty pairs between `&`s are skipped', () => {
    expect(parsePropertyBag('a=1&&b=2&').applicationProperties).toEqual({ a: '1', b: '2' });
  });

  test('a `+` decodes to a space, as querystring does', () => {
    expect(parsePropertyBag('greeting=hello+world').applicationProperties).toEqual({ greeting: 'hello world' });
  });

  test('an unknown `$.` key is neither a system nor an application property', () => {
    expect(parsePropertyBag('%24.zz=1&$.yy=2&app=3')).toEqual({ systemProperties: {}, applicationProperties: { app: '3' } });
  });

  test('a malformed percent-encoding in a value or a key fails with ArgumentInvalid', () => {
    for (const bag of ['a=%zz', '%zz=1', 'a=%E0%A4%A']) {
      const error = parseError(bag);
      expect(error).toBeInstanceOf(HubError);
      expect((error as HubError).code).toBe('ArgumentInvalid');
    }
  });
});

describe('formatPropertyBag', () => {
  test("system properties come first in IoT Hub's order with `$` sent as `%24`, then application properties", () => {
    const bag = formatPropertyBag(
      {
        'content-encoding': 'utf-8',
        'content-type': 'application/json',
        'user-id': 'u1',
        'correlation-id': 'c1',
        'absolute-expiry-time': '2030-01-01T00:00:00.000Z',
        to: '/devices/d1/messages/devicebound',
        'message-id': 'm1',
      },
      { color: 'red' },
    );
    expect(bag).toBe(
      '%24.mid=m1&%24.to=%2Fdevices%2Fd1%2Fmessages%2Fdevicebound&%24.exp=2030-01-01T00%3A00%3A00.000Z&%24.cid=c1&%24.uid=u1&%24.ct=application%2Fjson&%24.ce=utf-8&color=red',
    );
  });

  test('a `/` inside a key or value is sent as `%2F` so the bag stays one topic level', () => {
    const bag = formatPropertyBag({ 'message-id': 'a/b' }, { 'path/key': 'x/y z&w=v' });
    expect(bag).toBe('%24.mid=a%2Fb&path%2Fkey=x%2Fy%20z%26w%3Dv');
    expect(bag.includes('/')).toBe(false);
  });

  test('hub-set system properties stay out of the bag', () => {
    const bag = formatPropertyBag(
      { 'message-id': 'm1', 'iothub-enqueuedtime': '2026-01-01T00:00:00.000Z', 'iothub-connection-device-id': 'd1' },
      {},
    );
    expect(bag).toBe('%24.mid=m1');
  });

  test('no properties format as an empty bag', () => {
    expect(formatPropertyBag({}, {})).toBe('');
  });

  test('a formatted bag parses back to the same properties', () => {
    const systemProperties = {
      'message-id': 'm/1',
      to: '/devices/d1/messages/devicebound',
      'absolute-expiry-time': '2030-01-01T00:00:00.000Z',
      'correlation-id': 'c 1',
      'user-id': 'u&1',
      'content-type': 'application/json; charset=utf-8',
      'content-encoding': 'utf-8',
    };
    const applicationProperties = { 'temp alert': 'a&b=c/d', plus: '1+1', percent: '100%', empty: '', unicode: 'ünï €' };
    expect(parsePropertyBag(formatPropertyBag(systemProperties, applicationProperties))).toEqual({ systemProperties, applicationProperties });
  });
});
