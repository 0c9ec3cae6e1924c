// Where the console may send an operator after logging in. Pure, so it is unit-tested.

/**
 * The `next` query value when it is a path on this origin, else `fallback`. Refuses absolute and
 * protocol-relative URLs (`//evil.example`) so a crafted login link cannot lead off the hub.
 */
export function safeNextPath(next: string | null, fallback: string): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return fallback;
  return next;
}

/** The console page of a device; ids may hold `/`, `#`, `?` and `%`, so they are encoded. */
export function deviceHref(deviceId: string): string {
  return `/devices/${encodeURIComponent(deviceId)}`;
}
