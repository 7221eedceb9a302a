import type { Observable } from 'rxjs';
import type { RedisStreamsStatus } from '../interfaces/status.enum.js';

/** The last status of a server or client, and since when it holds: for the health grace period. */
export class StatusClock {
  private current: RedisStreamsStatus | undefined;
  private changedAt = Date.now();

  /** Follows `status$` for as long as it emits. */
  constructor(status$: Observable<RedisStreamsStatus | string>) {
    status$.subscribe((value) => {
      // The client's status is typed string (for ClientsModule); its values are RedisStreamsStatus.
      const status = value as RedisStreamsStatus;
      if (status === this.current) return;
      this.current = status;
      this.changedAt = Date.now();
    });
  }

  get status(): RedisStreamsStatus | undefined {
    return this.current;
  }

  /** Epoch ms of the last change (of construction before any). */
  get since(): number {
    return this.changedAt;
  }
}
