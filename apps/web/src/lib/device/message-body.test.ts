import { describe, expect, test } from 'bun:test';
import { bodyPreview } from './message-body.ts';

describe('bodyPreview', () => {
  test('UTF-8 bodies are shown as text', () => {
    expect(bodyPreview(Buffer.from('{"t":21} – ok').toString('base64'))).toBe('{"t":21} – ok');
  });

  test('binary bodies are shown by size', () => {
    expect(bodyPreview(Buffer.from([0xff, 0xfe, 0x00]).toString('base64'))).toBe('(3 bytes, binary)');
  });

  test('the text the hub already decoded wins', () => {
    expect(bodyPreview('', 'hello')).toBe('hello');
  });
});
