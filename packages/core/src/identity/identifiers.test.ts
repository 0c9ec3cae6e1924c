import { describe, expect, test } from 'bun:test';
import { MAX_IDENTIFIER_LENGTH, validateDeviceId, validateModuleId } from './identifiers.ts';
import { thrownBy } from '../testing/hub-error-assertions.ts';

const validators = [
  { kind: 'deviceId', validate: validateDeviceId },
  { kind: 'moduleId', validate: validateModuleId },
] as const;

for (const { kind, validate } of validators) {
  describe(`${kind} validation`, () => {
    test('the limit is 128 characters, as in IoT Hub', () => {
      expect(MAX_IDENTIFIER_LENGTH).toBe(128);
    });

    test('an id of exactly 128 characters is accepted and returned unchanged', () => {
      const id = 'a'.repeat(128);
      expect(validate(id)).toBe(id);
    });

    test('an id of 129 characters is refused with ArgumentInvalid', () => {
      expect(thrownBy(() => validate('a'.repeat(129)))).toMatchObject({ code: 'ArgumentInvalid' });
    });

    test('ASCII letters and digits are accepted', () => {
      expect(validate('AZaz09')).toBe('AZaz09');
    });

    for (const special of ['-', '.', '%', '_', '*', '?', '!', '(', ')', ',', ':', '=', '@', '$', "'"]) {
      test(`the special character ${special} is accepted`, () => {
        const id = `dev${special}1`;
        expect(validate(id)).toBe(id);
      });
    }

    test('an id made only of special characters is accepted', () => {
      const id = "-.%_*?!(),:=@$'";
      expect(validate(id)).toBe(id);
    });

    const refused: Array<[string, unknown]> = [
      ['a slash', 'dev/1'],
      ['a space', 'dev 1'],
      ['a hash', 'dev#1'],
      ['a non-ASCII letter', 'devé'],
      ['an emoji', 'dev😀'],
      ['a backslash', 'dev\\1'],
      ['a plus sign', 'dev+1'],
      ['a trailing newline', 'dev1\n'],
      ['the empty string', ''],
      ['undefined', undefined],
      ['null', null],
      ['a number', 42],
      ['an object', { deviceId: 'dev1' }],
    ];
    for (const [what, value] of refused) {
      test(`an id with ${what} is refused with ArgumentInvalid`, () => {
        expect(thrownBy(() => validate(value))).toMatchObject({ code: 'ArgumentInvalid' });
      });
    }

    test('the refusal message names the kind of id', () => {
      expect(thrownBy(() => validate('a/b'))).toMatchObject({ message: expect.stringContaining(kind) });
    });
  });
}
