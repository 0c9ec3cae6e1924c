// State of the devices list page: the query (search, filters, sort, page), the page the hub
// answered, and loading/error. Search input is debounced; a new query aborts the one in flight.
import { listDevices, type DeviceQuery } from '#lib/api/devices.ts';
import type { ConnectionState, Device, DevicePage, DeviceSortField, DeviceStatus } from '#lib/api/types.ts';

export const PAGE_SIZE = 50;
/** Long enough to skip the keystrokes of one word, short enough to feel immediate. */
const SEARCH_DEBOUNCE_MS = 300;

export class DeviceListState {
  /** What is typed in the search box; `query.search` follows it after the debounce. */
  searchText = $state('');
  search = $state('');
  status = $state<DeviceStatus | ''>('');
  connectionState = $state<ConnectionState | ''>('');
  sort = $state<DeviceSortField>('deviceId');
  order = $state<'asc' | 'desc'>('asc');
  offset = $state(0);

  page = $state.raw<DevicePage>();
  isLoading = $state(false);
  error = $state('');

  #debounce: ReturnType<typeof setTimeout> | undefined;

  readonly query: DeviceQuery = $derived({
    search: this.search,
    status: this.status,
    connectionState: this.connectionState,
    sort: this.sort,
    order: this.order,
    offset: this.offset,
    limit: PAGE_SIZE,
  });

  setSearchText(text: string) {
    this.searchText = text;
    clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => {
      this.search = text;
      this.offset = 0;
    }, SEARCH_DEBOUNCE_MS);
  }

  setStatus(status: DeviceStatus | '') {
    this.status = status;
    this.offset = 0;
  }

  setConnectionState(connectionState: ConnectionState | '') {
    this.connectionState = connectionState;
    this.offset = 0;
  }

  /** Sorts by `field`; choosing the current field again flips the order. */
  sortBy(field: DeviceSortField) {
    if (this.sort === field) this.order = this.order === 'asc' ? 'desc' : 'asc';
    else {
      this.sort = field;
      this.order = field === 'lastActivityTime' ? 'desc' : 'asc';
    }
    this.offset = 0;
  }

  get hasPrevious() {
    return this.offset > 0;
  }

  get hasNext() {
    return this.page !== undefined && this.offset + PAGE_SIZE < this.page.total;
  }

  previous() {
    this.offset = Math.max(0, this.offset - PAGE_SIZE);
  }

  next() {
    if (this.hasNext) this.offset += PAGE_SIZE;
  }

  /** Loads the page for `query`; returns an abort for `$effect` cleanup. */
  fetch(query: DeviceQuery): () => void {
    const controller = new AbortController();
    this.isLoading = true;
    listDevices(query, controller.signal).then(
      (page) => {
        this.page = page;
        this.error = '';
        this.isLoading = false;
        // A delete can leave the last page empty: step back to the page that still has rows.
        if (page.value.length === 0 && query.offset > 0 && page.total > 0) {
          this.offset = Math.floor((page.total - 1) / PAGE_SIZE) * PAGE_SIZE;
        }
      },
      (error: unknown) => {
        if (controller.signal.aborted) return;
        this.error = error instanceof Error ? error.message : String(error);
        this.isLoading = false;
      },
    );
    return () => controller.abort();
  }

  /** Bumped to load the current page again; the page's effect reads it next to `query`. */
  revision = $state(0);

  /** Reloads the current page (after a change made on this page). */
  reload() {
    this.revision++;
  }

  /** Puts an updated device in place without reloading. */
  replace(device: Device) {
    if (!this.page) return;
    this.page = { ...this.page, value: this.page.value.map((row) => (row.deviceId === device.deviceId ? device : row)) };
  }

  dispose() {
    clearTimeout(this.#debounce);
  }
}
