// How the console writes hub values for people: IoT Hub times (where `0001-01-01T00:00:00Z`
// means "never"), relative ages, counts and paging ranges. Pure functions, no Svelte, no I/O.

/** The time IoT Hub sends for an event that never happened (DateTime.MinValue). */
export const NEVER_TIME = '0001-01-01T00:00:00Z';

/** True when `time` is missing, unparsable or IoT Hub's "never" (any time in year 1). */
export function isNever(time: string | null | undefined): boolean {
  if (!time) return true;
  const ms = Date.parse(time);
  return Number.isNaN(ms) || new Date(ms).getUTCFullYear() <= 1;
}

const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

/**
 * An IoT Hub time as local date and time, or `Never`.
 * @example formatHubTime('0001-01-01T00:00:00Z') // 'Never'
 */
export function formatHubTime(time: string | null | undefined, format: Intl.DateTimeFormat = dateTimeFormat): string {
  if (isNever(time)) return 'Never';
  return format.format(new Date(time as string));
}

/**
 * How long ago `time` was, in the largest fitting unit: `just now`, `42 s ago`, `5 min ago`,
 * `3 h ago`, `2 d ago`; `Never` for IoT Hub's never. Future times (clock skew) read `just now`.
 */
export function formatAge(time: string | null | undefined, nowMs: number = Date.now()): string {
  if (isNever(time)) return 'Never';
  const seconds = Math.floor((nowMs - Date.parse(time as string)) / 1000);
  if (seconds < 5) return 'just now';
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86_400)} d ago`;
}

const countFormat = new Intl.NumberFormat('en-US');

/** A count with thousands separators: `12,345`. */
export function formatCount(count: number): string {
  return countFormat.format(count);
}

/**
 * The paging caption "x–y of N" for a page starting at `offset` holding `pageLength` rows.
 * @example formatRange(50, 50, 1234) // '51–100 of 1,234'
 */
export function formatRange(offset: number, pageLength: number, total: number): string {
  if (total === 0 || pageLength === 0) return `0 of ${formatCount(total)}`;
  return `${formatCount(offset + 1)}–${formatCount(offset + pageLength)} of ${formatCount(total)}`;
}

/** A device connection string as the Azure IoT device SDKs accept it. */
export function deviceConnectionString(hostName: string, deviceId: string, sharedAccessKey: string): string {
  return `HostName=${hostName};DeviceId=${deviceId};SharedAccessKey=${sharedAccessKey}`;
}

/** What to show for a failure: an Error's message as is (the hub's own text for API errors), anything else as text. */
export function errorText(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}
