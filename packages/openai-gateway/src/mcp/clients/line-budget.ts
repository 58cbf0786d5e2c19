/**
 * A per-second budget for log lines a server makes the gateway write (its stderr, its protocol
 * errors): a server that writes 100k lines a second must not flood the gateway's log or its CPU.
 * Past the budget, lines are counted and the count is reported once, when the second is over.
 */
export interface LineBudget {
  /** Whether one more line may be logged now. */
  take(): boolean;
  /** Reports what was suppressed so far (when the stream ends). */
  flush(): void;
}

export function createLineBudget(perSecond: number, onSuppressed: (count: number) => void): LineBudget {
  let windowStart = -Infinity;
  let used = 0;
  let suppressed = 0;
  let timer: NodeJS.Timeout | undefined;

  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    if (suppressed > 0) onSuppressed(suppressed);
    suppressed = 0;
  };
  return {
    take() {
      const now = performance.now();
      if (now - windowStart >= 1000) {
        flush();
        windowStart = now;
        used = 0;
      }
      if (used < perSecond) {
        used++;
        return true;
      }
      suppressed++;
      // The count goes out at the end of this second even when no further line comes.
      timer ??= setTimeout(flush, Math.max(0, windowStart + 1000 - now)).unref();
      return false;
    },
    flush,
  };
}
