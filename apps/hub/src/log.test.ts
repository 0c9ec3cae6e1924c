import { expect, test } from 'bun:test';
import { createJsonLogger, redact } from './log.ts';

test('secret fields and secret fragments in text are redacted, booleans and plain fields are kept', () => {
  const lines: string[] = [];
  const logger = createJsonLogger('debug', (line) => lines.push(line)).child({ connId: 7 });
  logger.info('device_connected', {
    deviceId: 'd1',
    primaryKey: 'c2VjcmV0',
    isPasswordGenerated: true,
    detail: 'token SharedAccessSignature sr=h&sig=abc%2Bdef&se=1 and HostName=h;SharedAccessKey=xyz=;',
    url: 'postgres://user:hunter2@db:5432/x',
  });
  const record = JSON.parse(lines[0]!);
  expect(record).toMatchObject({ level: 'info', event: 'device_connected', connId: 7, deviceId: 'd1', isPasswordGenerated: true });
  expect(record.primaryKey).toBe('<redacted>');
  expect(lines[0]).not.toContain('abc%2Bdef');
  expect(lines[0]).not.toContain('xyz=');
  expect(lines[0]).not.toContain('hunter2');
  expect(record.detail).toContain('sig=<redacted>');
});

test('lines below the configured level are dropped', () => {
  const lines: string[] = [];
  const logger = createJsonLogger('warn', (line) => lines.push(line));
  logger.info('ignored');
  logger.warn('kept');
  expect(lines.map((line) => JSON.parse(line).event)).toEqual(['kept']);
});

test('errors keep their message and stack, redacted', () => {
  const redacted = redact(new Error('bad sig=secretsig&se=1')) as { message: string; stack: string };
  expect(redacted.message).toBe('bad sig=<redacted>&se=1');
  expect(redacted.stack).not.toContain('secretsig');
});
