import { Gauge, type Registry } from 'prom-client';
import { METRIC_PREFIX } from '@popug/lib/metrics';
import type { Logger } from '@popug/lib/logger';
import type { CloseStatus } from './closer';

/** The day close on accounting's /metrics: what is due, whether it is stuck, the last closed day. */
export function registerCloseMetrics(registry: Registry, closeStatus: () => Promise<CloseStatus>, logger: Logger): void {
  // A scrape collects the three gauges at once: they share the read in flight, and the next
  // scrape reads again (a status kept for a while would show a close that already went through).
  let reading: Promise<CloseStatus | undefined> | undefined;
  const closing = () => {
    reading ??= closeStatus()
      .catch((error: unknown) => {
        logger.warn({ err: error }, 'close status unavailable for /metrics');
        return undefined;
      })
      .finally(() => {
        reading = undefined;
      });
    return reading;
  };
  const closeGauge = (name: string, help: string, value: (status: CloseStatus) => number) =>
    new Gauge({
      name: `${METRIC_PREFIX}${name}`,
      help,
      registers: [registry],
      async collect() {
        this.reset();
        const status = await closing();
        if (status) this.set(value(status));
      },
    });
  closeGauge('business_days_due', 'Ended business days not closed yet (their payouts wait)', (status) => status.daysDue.length);
  closeGauge('business_day_close_stuck', '1 when the oldest due day ended longer ago than a close may take', (status) => (status.stuck ? 1 : 0));
  closeGauge(
    'business_day_last_closed_seconds',
    'The last closed business day, as the Unix time of its date at 00:00 UTC; 0 before the first close',
    (status) => (status.lastClosedDay === null ? 0 : Date.parse(`${status.lastClosedDay}T00:00:00Z`) / 1000),
  );
}
