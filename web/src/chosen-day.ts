import { useCallback, useState } from 'react';
import { useBusinessClock } from './business-clock';

export interface ChosenDay {
  /** The day shown: the one picked, or today's business day. */
  day: string;
  today: string;
  isToday: boolean;
  /** Picks a day; picking today follows today again. */
  setDay(day: string): void;
}

/**
 * A page's day: today's business day until the user picks another. Until then it follows
 * "today", so a page left open past the business midnight shows the new day.
 */
export function useChosenDay(): ChosenDay {
  const { today } = useBusinessClock();
  const [picked, setPicked] = useState<string | null>(null);
  const setDay = useCallback((next: string) => setPicked(next === today ? null : next), [today]);
  const day = picked ?? today;
  return { day, today, isToday: day === today, setDay };
}
