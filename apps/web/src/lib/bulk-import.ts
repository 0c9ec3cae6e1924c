// Reading a bulk-import file (CSV or JSON) into IoT Hub import requests, and tallying the hub's
// per-device answers. Pure functions: the dialog owns files, requests and progress.
import type { Authentication, BulkRegistryOperationResult, DeviceStatus, ExportImportDevice } from './api/types.ts';

/** IoT Hub's limit on devices per bulk registry call. */
export const IMPORT_CHUNK_SIZE = 100;

/** A device to create, as read from the file. */
export interface ImportDevice {
  deviceId: string;
  status?: DeviceStatus;
  primaryKey?: string;
  secondaryKey?: string;
  /** Taken verbatim from JSON files that carry a whole `authentication` object. */
  authentication?: Authentication;
}

/** What a file held: the devices, and why lines were skipped (1-based line or element numbers). */
export interface ParsedImport {
  devices: ImportDevice[];
  problems: string[];
}

/** Parses by file name: `.json` as JSON, anything else as CSV. */
export function parseImportFile(fileName: string, text: string): ParsedImport {
  return /\.json$/i.test(fileName) ? parseImportJson(text) : parseImportCsv(text);
}

const CSV_COLUMNS = ['deviceId', 'primaryKey', 'secondaryKey', 'status'] as const;
type CsvColumn = (typeof CSV_COLUMNS)[number];

/**
 * CSV with a header row naming its columns: `deviceId` is required; `primaryKey`,
 * `secondaryKey` and `status` are optional, in any order. Fields may be double-quoted.
 */
export function parseImportCsv(text: string): ParsedImport {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const header = splitCsvLine(lines[0] ?? '').map((name) => name.trim());
  const columns = new Map<CsvColumn, number>();
  for (const [index, name] of header.entries()) {
    const column = CSV_COLUMNS.find((known) => known.toLowerCase() === name.toLowerCase());
    if (column) columns.set(column, index);
  }
  if (!columns.has('deviceId')) {
    return { devices: [], problems: ['The first line must be a header naming a deviceId column.'] };
  }
  const rows: { source: string; fields: Partial<Record<CsvColumn, string>> }[] = [];
  for (const [index, line] of lines.entries()) {
    if (index === 0 || line.trim() === '') continue;
    const values = splitCsvLine(line);
    const fields: Partial<Record<CsvColumn, string>> = {};
    for (const [column, position] of columns) fields[column] = values[position]?.trim() ?? '';
    rows.push({ source: `Line ${index + 1}`, fields });
  }
  return collect(rows);
}

/** A JSON array of objects with `deviceId` and optionally `status`, `primaryKey`, `secondaryKey` or `authentication`. */
export function parseImportJson(text: string): ParsedImport {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    return { devices: [], problems: [`The file is not valid JSON: ${(error as Error).message}`] };
  }
  if (!Array.isArray(body)) return { devices: [], problems: ['The JSON file must hold an array of devices.'] };
  const rows = body.map((element: unknown, index) => {
    const record = typeof element === 'object' && element !== null ? (element as Record<string, unknown>) : {};
    const text = (key: string) => (typeof record[key] === 'string' ? (record[key] as string).trim() : undefined);
    const auth = record.authentication;
    return {
      source: `Item ${index + 1}`,
      fields: { deviceId: text('deviceId') ?? text('id'), primaryKey: text('primaryKey'), secondaryKey: text('secondaryKey'), status: text('status') },
      authentication: typeof auth === 'object' && auth !== null ? (auth as Authentication) : undefined,
    };
  });
  return collect(rows);
}

function collect(rows: { source: string; fields: Partial<Record<CsvColumn, string>>; authentication?: Authentication }[]): ParsedImport {
  const devices: ImportDevice[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const { source, fields, authentication } of rows) {
    const deviceId = fields.deviceId ?? '';
    const status = fields.status?.toLowerCase();
    if (!deviceId) problems.push(`${source}: no deviceId.`);
    else if (seen.has(deviceId)) problems.push(`${source}: ${deviceId} appears more than once.`);
    else if (status && status !== 'enabled' && status !== 'disabled') problems.push(`${source}: status must be enabled or disabled.`);
    else {
      seen.add(deviceId);
      const device: ImportDevice = { deviceId };
      if (status) device.status = status as DeviceStatus;
      if (fields.primaryKey) device.primaryKey = fields.primaryKey;
      if (fields.secondaryKey) device.secondaryKey = fields.secondaryKey;
      if (authentication) device.authentication = authentication;
      devices.push(device);
    }
  }
  return { devices, problems };
}

/** Splits one CSV line, honouring double quotes and `""` escapes inside them. */
export function splitCsvLine(line: string): string[] {
  const fields: string[] = [];
  let field = '';
  let isQuoted = false;
  for (let i = 0; i < line.length; i++) {
    const char = line[i];
    if (isQuoted) {
      if (char === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (char === '"') isQuoted = false;
      else field += char;
    } else if (char === '"') isQuoted = true;
    else if (char === ',') {
      fields.push(field);
      field = '';
    } else field += char;
  }
  fields.push(field);
  return fields;
}

/** The import request for one device: given keys become SAS authentication; none lets the hub generate keys. */
export function toImportRequest(device: ImportDevice): ExportImportDevice {
  const request: ExportImportDevice = { id: device.deviceId, importMode: 'create' };
  if (device.status) request.status = device.status;
  if (device.authentication) request.authentication = device.authentication;
  else if (device.primaryKey || device.secondaryKey) {
    request.authentication = {
      type: 'sas',
      symmetricKey: { primaryKey: device.primaryKey ?? '', secondaryKey: device.secondaryKey ?? '' },
    };
  }
  return request;
}

/** Splits `items` into consecutive chunks of at most `size`. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

/** The outcome for one device of an import. */
export interface ImportOutcome {
  deviceId: string;
  isCreated: boolean;
  /** The hub's error code and status text when it failed. */
  reason?: string;
}

/** Per-device outcomes of one chunk: a device the hub lists in `errors` failed, every other one was created. */
export function chunkOutcomes(requests: ExportImportDevice[], result: BulkRegistryOperationResult): ImportOutcome[] {
  const failures = new Map(result.errors.map((error) => [error.deviceId, `${error.errorCode}: ${error.errorStatus}`]));
  return requests.map(({ id }) =>
    failures.has(id) ? { deviceId: id, isCreated: false, reason: failures.get(id) } : { deviceId: id, isCreated: true },
  );
}

/** Outcomes for a chunk whose whole request failed (hub unreachable, viewer, bad body). */
export function failedChunkOutcomes(requests: ExportImportDevice[], message: string): ImportOutcome[] {
  return requests.map(({ id }) => ({ deviceId: id, isCreated: false, reason: message }));
}
