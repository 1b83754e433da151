// Reads can answer out of order (a filter changed, or a live update arrived, while one was under
// way): each read asks `begin()` for a check, and shows its answer only if it is still the latest.
import { useCallback, useRef } from 'react';

export function useLatest(): () => () => boolean {
  const counter = useRef(0);
  return useCallback(() => {
    const mine = ++counter.current;
    return () => mine === counter.current;
  }, []);
}
