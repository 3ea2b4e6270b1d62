/** Server-generated ids: ULIDs, sortable by time, monotonic within one millisecond. */
import { monotonicFactory } from 'ulid';

const ulid = monotonicFactory();

export function newId(time: number = Date.now()): string {
  return ulid(time);
}
