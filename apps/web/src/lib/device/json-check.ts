// Live validation for the console's JSON editors: says where text stops being JSON by line and
// column. Browsers word (and place) JSON.parse errors differently, so the position comes from a
// small scanner of our own (RFC 8259 grammar); JSON.parse still produces the value.

export type JsonCheck = { ok: true; value: unknown } | { ok: false; error: string };

class JsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

function scan(text: string): void {
  let at = 0;
  const fail = (message: string): never => {
    throw new JsonSyntaxError(message, at);
  };
  const describe = () => (at >= text.length ? 'unexpected end of text' : `unexpected ${JSON.stringify(text[at])}`);
  const skipSpace = () => {
    while (at < text.length && ' \t\n\r'.includes(text[at] ?? '')) at++;
  };
  const expectChar = (char: string) => {
    if (text[at] !== char) fail(`expected ${JSON.stringify(char)}, ${describe()}`);
    at++;
  };
  const string = () => {
    expectChar('"');
    while (at < text.length && text[at] !== '"') {
      const char = text[at] ?? '';
      if (char < ' ') fail('control character in string (escape it)');
      if (char === '\\') {
        at++;
        if (text[at] === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(at + 1, at + 5))) fail('bad \\u escape');
          at += 4;
        } else if (!'"\\/bfnrt'.includes(text[at] ?? 'x')) fail('bad escape in string');
      }
      at++;
    }
    if (at >= text.length) fail('unterminated string');
    at++;
  };
  const number = () => {
    const match = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(at));
    if (!match) fail(describe());
    at += match?.[0].length ?? 0;
  };
  const value = (): void => {
    skipSpace();
    const char = text[at];
    if (char === '{') return container('}', () => {
      skipSpace();
      string();
      skipSpace();
      expectChar(':');
      value();
    });
    if (char === '[') return container(']', value);
    if (char === '"') return string();
    for (const word of ['true', 'false', 'null']) {
      if (text.startsWith(word, at)) {
        at += word.length;
        return;
      }
    }
    if (char === '-' || (char !== undefined && char >= '0' && char <= '9')) return number();
    fail(describe());
  };
  const container = (close: string, item: () => void) => {
    at++;
    skipSpace();
    if (text[at] === close) {
      at++;
      return;
    }
    for (;;) {
      item();
      skipSpace();
      if (text[at] === ',') {
        at++;
        continue;
      }
      expectChar(close);
      return;
    }
  };
  value();
  skipSpace();
  if (at < text.length) fail(`${describe()} after the value`);
}

function position(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n');
  return `line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}`;
}

/** Parses `text`, or says where (line, column) and why it is not JSON. */
export function checkJson(text: string): JsonCheck {
  try {
    scan(text);
  } catch (error) {
    if (error instanceof JsonSyntaxError) return { ok: false, error: `Invalid JSON at ${position(text, error.offset)}: ${error.message}` };
    throw error;
  }
  return { ok: true, value: JSON.parse(text) };
}

/** `checkJson` that also requires a JSON object (twin tags and properties are objects). */
export function checkJsonObject(text: string): JsonCheck {
  const checked = checkJson(text);
  if (checked.ok && (typeof checked.value !== 'object' || checked.value === null || Array.isArray(checked.value))) {
    return { ok: false, error: 'Must be a JSON object, e.g. {}' };
  }
  return checked;
}

/** How the console's JSON editors and views show a value. */
export const formatJson = (value: unknown) => JSON.stringify(value, null, 2) ?? 'undefined';
