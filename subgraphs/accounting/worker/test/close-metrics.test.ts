import { Registry } from 'prom-client';
import { createLogger } from '@popug/lib/logger';
import { sampleValue } from '@popug/testing/metrics';
import { registerCloseMetrics } from '../close-metrics';
import type { CloseStatus } from '../closer';

const due = (daysDue: string[]): CloseStatus => ({
  lastClosedDay: daysDue.length ? null : '2025-08-20',
  daysDue,
  dueSince: daysDue.length ? new Date('2025-08-20T15:00:00Z') : null,
  stuck: daysDue.length > 0,
  waitingForCompleteness: null,
});

/**
 * One scrape reads the close status once for its three gauges, and a scrape right after a
 * close shows the close: no answer is kept past the scrape that asked for it.
 */
test('each scrape reads the close status once, and never an earlier scrape’s', async () => {
  const registry = new Registry();
  let status = due(['2025-08-20']);
  let reads = 0;
  registerCloseMetrics(registry, async () => {
    reads += 1;
    return status;
  }, createLogger('test'));

  const stuck = await registry.metrics();
  expect(sampleValue(stuck, 'popug_business_days_due')).toBe(1);
  expect(sampleValue(stuck, 'popug_business_day_close_stuck')).toBe(1);
  expect(reads).toBe(1);

  status = due([]);
  const closed = await registry.metrics();
  expect(sampleValue(closed, 'popug_business_days_due')).toBe(0);
  expect(sampleValue(closed, 'popug_business_day_close_stuck')).toBe(0);
  expect(reads).toBe(2);
});
