import { useEffect, useRef, useState } from 'react';
import { Money } from '../components/Money';
import { formatDay, formatMoney, formatShortDay } from '../format';
import type { EarningsByDayQuery } from '../generated/graphql';

type EarningsDay = EarningsByDayQuery['earningsByDay'][number];

const DEFAULT_WIDTH = 640;
const HEIGHT = 220;
const PAD = { top: 16, right: 8, bottom: 28, left: 64 };
/** A 12 px axis label's width per character, and the gap between label and axis: wide amounts widen the left margin instead of being cut off. */
const TICK_CHAR_WIDTH = 7;
const TICK_GAP = 6;

/** The columns of the figures under the chart, each labelled in the row when rows stack on a phone. */
const FIGURE_COLUMNS: readonly { title: string; cents(day: EarningsDay): number }[] = [
  { title: 'Fees', cents: (day) => day.fees },
  { title: 'Rewards', cents: (day) => day.rewards },
  { title: 'Payouts', cents: (day) => day.payouts },
  { title: 'Earnings', cents: (day) => day.managementEarnings },
];

/** The element's width in CSS pixels, so the chart draws at 1:1 and its labels stay legible on a phone. */
function useWidth<T extends Element>(fallback: number) {
  const ref = useRef<T>(null);
  const [width, setWidth] = useState(fallback);
  useEffect(() => {
    const element = ref.current;
    if (!element) return;
    const observer = new ResizeObserver(([entry]) => {
      const measured = Math.round(entry?.contentRect.width ?? 0);
      if (measured > 0) setWidth(measured);
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  return { ref, width };
}

/**
 * Management earnings per day as an inline SVG bar chart (bars below the axis are days
 * that paid out more in rewards than they took in fees). The same figures follow as a
 * table for screen readers and for anyone who wants the numbers.
 */
export function EarningsChart({ days }: { days: EarningsDay[] }) {
  const { ref, width } = useWidth<HTMLElement>(DEFAULT_WIDTH);
  const values = days.map((day) => day.managementEarnings);
  const max = Math.max(0, ...values);
  const min = Math.min(0, ...values);
  const span = max - min || 1;
  const axisValues = [max, 0, min].filter((value, index, all) => all.indexOf(value) === index);
  const left = Math.max(PAD.left, TICK_GAP + 2 + TICK_CHAR_WIDTH * Math.max(...axisValues.map((value) => formatMoney(value).length)));
  const plotWidth = width - left - PAD.right;
  const plotHeight = HEIGHT - PAD.top - PAD.bottom;
  const y = (value: number) => PAD.top + ((max - value) / span) * plotHeight;
  const slot = plotWidth / Math.max(days.length, 1);
  const barWidth = Math.max(1, slot * 0.7);
  // A label every week, counted back from today; fewer when the chart is narrow.
  const labelEvery = width < 480 ? 14 : 7;
  const total = values.reduce((sum, value) => sum + value, 0);
  const best = days.reduce<EarningsDay | undefined>((top, day) => (!top || day.managementEarnings > top.managementEarnings ? day : top), undefined);
  const first = days[0];
  const last = days[days.length - 1];
  const summary =
    first && last
      ? `Management earnings by day from ${formatDay(first.day)} to ${formatDay(last.day)}: ${formatMoney(total)} in total` +
        (best ? `, best day ${formatDay(best.day)} with ${formatMoney(best.managementEarnings)}.` : '.')
      : 'No days to show.';

  return (
    <figure className="chart" ref={ref}>
      <svg viewBox={`0 0 ${width} ${HEIGHT}`} role="img" aria-label={summary} preserveAspectRatio="xMidYMid meet">
        {axisValues.map((value) => (
          <g key={value}>
            <line x1={left} x2={width - PAD.right} y1={y(value)} y2={y(value)} className={value === 0 ? 'axis' : 'gridline'} />
            <text x={left - TICK_GAP} y={y(value)} dy="0.32em" textAnchor="end" className="tick" data-money="">
              {formatMoney(value)}
            </text>
          </g>
        ))}
        {days.map((day, index) => {
          const top = y(Math.max(day.managementEarnings, 0));
          const height = Math.abs(y(day.managementEarnings) - y(0));
          const x = left + index * slot + (slot - barWidth) / 2;
          return (
            <rect
              key={day.day}
              x={x}
              y={top}
              width={barWidth}
              height={Math.max(height, day.managementEarnings === 0 ? 0 : 1)}
              className={day.managementEarnings < 0 ? 'bar negative' : 'bar'}
            >
              <title>{`${formatDay(day.day)}: ${formatMoney(day.managementEarnings)} (fees ${formatMoney(day.fees)}, rewards ${formatMoney(day.rewards)})`}</title>
            </rect>
          );
        })}
        {days.map((day, index) =>
          (days.length - 1 - index) % labelEvery === 0 ? (
            // The last day's label ends at the chart's edge rather than being cut off by it.
            <text
              key={day.day}
              x={index === days.length - 1 ? width - PAD.right : left + index * slot + slot / 2}
              y={HEIGHT - 8}
              textAnchor={index === days.length - 1 ? 'end' : 'middle'}
              className="tick"
            >
              {formatShortDay(day.day)}
            </text>
          ) : null,
        )}
      </svg>
      <figcaption className="muted small">{summary}</figcaption>
      <details>
        <summary>Show the figures</summary>
        <div className="table-scroll" role="region" aria-label="Earnings by day" tabIndex={0}>
          <table className="stack-inline">
            <thead>
              <tr>
                <th scope="col">Day</th>
                {FIGURE_COLUMNS.map(({ title }) => (
                  <th key={title} scope="col" className="num">
                    {title}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {[...days].reverse().map((day) => (
                <tr key={day.day}>
                  <th scope="row" className="nowrap">
                    {formatDay(day.day)}
                  </th>
                  {FIGURE_COLUMNS.map(({ title, cents }) => (
                    <td key={title} className="num" data-label={title}>
                      <Money cents={cents(day)} />
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}
