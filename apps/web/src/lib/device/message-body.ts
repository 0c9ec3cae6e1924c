// How the console shows a message body it received as base64 (C2D queue, live events): the
// UTF-8 text when it is text, else its size.

/** The body as text when it decodes as UTF-8, else `(N bytes, binary)`. */
export function bodyPreview(base64: string, text?: string): string {
  if (text !== undefined) return text;
  const binary = atob(base64);
  const bytes = Uint8Array.from(binary, (char) => char.charCodeAt(0));
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return `(${bytes.length} bytes, binary)`;
  }
}
