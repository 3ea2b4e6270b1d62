/**
 * Coalescing helpers: events can arrive a thousand times a second; the screen needs a few
 * updates a second at most.
 */

/**
 * Runs `fn` at most once per `minIntervalMs`, on an animation frame, after the last `schedule()`
 * of a burst. Frames do not run in background tabs, so hidden pages do no work.
 */
export function frameThrottle(fn: () => void, minIntervalMs = 0): { schedule(): void; cancel(): void } {
  let frame = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let last = 0;
  const run = (): void => {
    frame = 0;
    last = performance.now();
    fn();
  };
  return {
    schedule() {
      if (frame || timer !== undefined) return;
      const wait = last + minIntervalMs - performance.now();
      if (wait <= 0) frame = requestAnimationFrame(run);
      else
        timer = setTimeout(() => {
          timer = undefined;
          frame = requestAnimationFrame(run);
        }, wait);
    },
    cancel() {
      if (frame) cancelAnimationFrame(frame);
      if (timer !== undefined) clearTimeout(timer);
      frame = 0;
      timer = undefined;
    },
  };
}

/**
 * Trailing throttle for network refreshes: the first call runs at once, later calls within
 * `intervalMs` collapse into one run at the end of the interval. A run never overlaps another.
 */
export function throttle(fn: () => Promise<unknown> | void, intervalMs: number): { schedule(): void; cancel(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let last = -Infinity;
  let pending = false;
  let running = false;
  const fire = async (): Promise<void> => {
    timer = undefined;
    pending = false;
    running = true;
    last = Date.now();
    try {
      await fn();
    } finally {
      running = false;
      if (pending) arm();
    }
  };
  const arm = (): void => {
    if (timer !== undefined || running) return;
    timer = setTimeout(() => void fire(), Math.max(0, last + intervalMs - Date.now()));
  };
  return {
    schedule() {
      pending = true;
      arm();
    },
    cancel() {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      pending = false;
    },
  };
}
