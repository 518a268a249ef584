import { figuresSuite } from './figures';

/** Asia/Tokyo (UTC+9, ahead of UTC): the turn of the year there is 15:00 UTC on 31 December. */
figuresSuite({
  seed: 20270101,
  timeZone: 'Asia/Tokyo',
  firstDay: '2026-11-20',
  days: 80,
  users: 7,
  tasksPerDay: 10,
  lateShare: 0.08,
});
