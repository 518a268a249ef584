import { figuresSuite } from './figures';

/**
 * America/New_York, late October to late March: the fall-back and spring-forward days
 * (25 and 23 hours), month ends and the turn of the year, many events within a second of
 * a local midnight.
 */
figuresSuite({
  seed: 20261101,
  timeZone: 'America/New_York',
  firstDay: '2026-10-26',
  days: 145,
  users: 9,
  tasksPerDay: 9,
  lateShare: 0.05,
});
