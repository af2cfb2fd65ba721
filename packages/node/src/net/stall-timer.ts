/** A per-request watchdog for network reads that must not hang. @internal */

/**
 * Aborts one request when the server stays silent for `ms`: armed while waiting for the answer's
 * headers and for each body chunk, disarmed in between.
 */
export class StallTimer {
  readonly controller = new AbortController();
  fired = false;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(readonly ms: number) {}

  arm(): void {
    this.disarm();
    this.timer = setTimeout(() => {
      this.fired = true;
      this.controller.abort(new Error(`no answer within ${this.ms} ms`));
    }, this.ms);
  }

  disarm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/**
 * `signal` combined with the timer's own: the request aborts when either fires.
 */
export function withStall(stall: StallTimer, signal?: AbortSignal): AbortSignal {
  return signal ? AbortSignal.any([signal, stall.controller.signal]) : stall.controller.signal;
}
