import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { authorized } from './api/authorized';
import { toApiError, type ApiError } from './api/client';
import { ErrorMessage, Loading } from './components/status';
import { formatDateTime } from './format';
import { BusinessClockDocument } from './generated/graphql';
import { useUser } from './session-context';
import { useStartAnswer } from './access';

/**
 * The business calendar as the server keeps it: days are dates in BUSINESS_TZ, whatever zone
 * or clock this browser has. Read once per signed-in user (the BusinessClock query); "today"
 * then moves on by this browser's clock, corrected by how far it was off the server's, so a
 * page left open past the business midnight turns to the new day.
 */
export interface BusinessClock {
  /** BUSINESS_TZ, e.g. "UTC". */
  zone: string;
  /** The business day it is now, YYYY-MM-DD. */
  today: string;
  /** Whether this browser's zone is another one: shown times then carry the business zone's name. */
  labelled: boolean;
  /** An instant (ISO) as the business zone's wall clock shows it. */
  formatTime(iso: string): string;
}

interface Reading {
  zone: string;
  /** The server's time minus this browser's, when the clock was read. */
  offsetMs: number;
}

type ClockState = { status: 'loading' } | { status: 'failed'; error: ApiError } | { status: 'ready'; clock: BusinessClock };

const ClockContext = createContext<{ state: ClockState; retry(): void }>({ state: { status: 'loading' }, retry: () => undefined });

/** How often "today" is worked out again; the business day turns at most this late on an open page. */
const TICK_MS = 15_000;

const dayFormats = new Map<string, Intl.DateTimeFormat>();

/** The date (YYYY-MM-DD) that `zone`'s calendar shows at `instantMs` (en-CA writes dates that way). */
function dayIn(zone: string, instantMs: number): string {
  let format = dayFormats.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' });
    dayFormats.set(zone, format);
  }
  return format.format(instantMs);
}

const canonicalZone = (zone?: string) => new Intl.DateTimeFormat('en-GB', { timeZone: zone }).resolvedOptions().timeZone;

export function BusinessClockProvider({ children }: { children: ReactNode }) {
  const userId = useUser()?.id ?? null;
  const [reading, setReading] = useState<{ userId: string; reading?: Reading; error?: ApiError }>();
  const [attempt, setAttempt] = useState(0);
  const retry = useCallback(() => {
    setReading(undefined);
    setAttempt((value) => value + 1);
  }, []);

  // The Start document brings the clock (../api/start.ts); asked alone only when it could not (accounting was down) or on a retry.
  const started = useStartAnswer().held;
  const startedClock = started?.answer.me.id === userId ? started?.answer.businessClock : undefined;
  const startedAt = started?.receivedAt ?? 0;
  useEffect(() => {
    if (!userId || started === null) return;
    if (startedClock && attempt === 0) {
      setReading({ userId, reading: { zone: startedClock.zone, offsetMs: Date.parse(startedClock.now) - startedAt } });
      return;
    }
    let current = true;
    authorized(BusinessClockDocument, {}).then(
      ({ businessClock }) => {
        if (current) setReading({ userId, reading: { zone: businessClock.zone, offsetMs: Date.parse(businessClock.now) - Date.now() } });
      },
      (error: unknown) => current && setReading({ userId, error: toApiError(error) }),
    );
    return () => {
      current = false;
    };
  }, [userId, attempt, started, startedClock, startedAt]);

  const mine = reading?.userId === userId ? reading : undefined;
  const today = useToday(mine?.reading);
  const state = useMemo((): ClockState => {
    if (mine?.error) return { status: 'failed', error: mine.error };
    if (!mine?.reading || !today) return { status: 'loading' };
    const { zone } = mine.reading;
    const labelled = canonicalZone(zone) !== canonicalZone();
    return { status: 'ready', clock: { zone, today, labelled, formatTime: (iso) => formatDateTime(iso, zone, labelled) } };
  }, [mine, today]);

  const value = useMemo(() => ({ state, retry }), [state, retry]);
  return <ClockContext.Provider value={value}>{children}</ClockContext.Provider>;
}

/** Today's business day by the corrected clock, worked out again every TICK_MS. */
function useToday(reading: Reading | undefined): string | undefined {
  const [today, setToday] = useState<string>();
  useEffect(() => {
    if (!reading) return;
    const tick = () => setToday(dayIn(reading.zone, Date.now() + reading.offsetMs));
    tick();
    const timer = setInterval(tick, TICK_MS);
    return () => clearInterval(timer);
  }, [reading]);
  return reading ? today : undefined;
}

/** Shows `children` once the business clock is read (they may then call useBusinessClock). */
export function BusinessClockGate({ children }: { children: ReactNode }) {
  const { state, retry } = useContext(ClockContext);
  if (state.status === 'failed') return <ErrorMessage error={state.error} onRetry={retry} />;
  if (state.status === 'loading') return <Loading label="Reading the business day…" />;
  return <>{children}</>;
}

/** The business clock; only inside BusinessClockGate. */
export function useBusinessClock(): BusinessClock {
  const { state } = useContext(ClockContext);
  if (state.status !== 'ready') throw new Error('useBusinessClock outside BusinessClockGate');
  return state.clock;
}
