// Data that refreshes itself: `usePoll` loads now and every `ms` while the page is shown.
import { useEffect, useState } from "preact/hooks";

export function usePoll<T>(load: () => Promise<T>, ms: number, deps: unknown[] = []): { data?: T; error?: string; reload: () => void } {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let alive = true;
    const run = () =>
      load().then(
        (value) => alive && (setData(value), setError(undefined)),
        (err: Error) => alive && setError(err.message),
      );
    void run();
    const timer = ms > 0 ? setInterval(run, ms) : undefined;
    return () => {
      alive = false;
      if (timer) clearInterval(timer);
    };
  }, [...deps, tick]);
  return { data, error, reload: () => setTick((t) => t + 1) };
}
