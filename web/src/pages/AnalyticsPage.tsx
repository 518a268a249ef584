import { useCapabilities } from '../access';
import { TasksByCreator } from '../analytics/TasksByCreator';
import { useLive, useQuery, useRefreshSoon, useReloadOn } from '../api/hooks';
import { DayPicker } from '../components/DayPicker';
import { Money } from '../components/Money';
import { Empty, QueryView } from '../components/status';
import { useBusinessClock } from '../business-clock';
import { useChosenDay } from '../chosen-day';
import { addDays, formatDay, formatMonth, formatShortDay, mondayOf } from '../format';
import { AnalyticsSummaryDocument, AnalyticsUpdatesDocument, MostExpensiveTaskDocument, type Period } from '../generated/graphql';

interface PeriodCard {
  period: Period;
  title: string;
  /** Which days the card covers, e.g. "30 Nov – 6 Dec 2026". */
  span(day: string): string;
  /** The empty card's words: "on this day", "in this week". */
  within: string;
}

const PERIODS: readonly PeriodCard[] = [
  { period: 'DAY', title: 'Day', span: formatDay, within: 'on this day' },
  { period: 'WEEK', title: 'Week', span: weekSpan, within: 'in this week' },
  { period: 'MONTH', title: 'Month', span: formatMonth, within: 'in this month' },
];

/** The ISO week around `day`, Monday to Sunday, as analytics counts it. */
function weekSpan(day: string): string {
  const monday = mondayOf(day);
  return `${formatShortDay(monday)} – ${formatDay(addDays(monday, 6))}`;
}

/** The rest of the page reads again this long after the summary moved, once for a burst. */
const AFTER_SUMMARY_MS = 1_000;

/**
 * Admins' dashboard (analytics:view): a day's earnings, popugs in the red, the priciest
 * tasks, who profits from their own tasks. The summary follows AnalyticsUpdates live; the
 * other tables read again when it moves.
 */
export function AnalyticsPage() {
  const { day, today, isToday, setDay } = useChosenDay();
  const summary = useQuery(AnalyticsSummaryDocument, { day });
  const can = useCapabilities();
  const { version, refreshSoon } = useRefreshSoon();
  useLive(
    AnalyticsUpdatesDocument,
    { day },
    ({ analyticsUpdated }) => {
      summary.update(() => ({ analyticsSummary: analyticsUpdated }));
      refreshSoon(AFTER_SUMMARY_MS);
    },
    can.analytics,
  );
  return (
    <>
      <div className="section-head">
        <h1>Analytics</h1>
        <DayPicker label="Day" value={day} fallback={today} onChange={setDay} offerToday />
      </div>
      <section className="panel" aria-labelledby="summary-title">
        <h2 id="summary-title">{isToday ? 'Today' : formatDay(day)}</h2>
        <QueryView query={summary} loadingLabel="Loading the summary…" forbidden={<Empty>Your role may not see analytics.</Empty>}>
          {({ analyticsSummary }) => (
            <div className="figures">
              <p className="figure">
                <span className="figure-label">Management earnings</span>
                <Money cents={analyticsSummary.managementEarnings} />
              </p>
              <p className="figure">
                <span className="figure-label">Popugs with a negative balance</span>
                <span className={analyticsSummary.negativeBalanceCount > 0 ? 'negative' : undefined}>{analyticsSummary.negativeBalanceCount}</span>
              </p>
            </div>
          )}
        </QueryView>
      </section>
      <section className="panel" aria-labelledby="expensive-title">
        <h2 id="expensive-title">Most expensive task</h2>
        <div className="cards">
          {PERIODS.map((card) => (
            <MostExpensive key={card.period} card={card} day={day} version={version} />
          ))}
        </div>
      </section>
      <TasksByCreator version={version} />
    </>
  );
}

function MostExpensive({ card: { period, title, span, within }, day, version }: { card: PeriodCard; day: string; version: number }) {
  const { formatTime } = useBusinessClock();
  const task = useQuery(MostExpensiveTaskDocument, { period, day });
  useReloadOn(version, task);
  const headingId = `expensive-${period.toLowerCase()}`;
  return (
    <article className="card" aria-labelledby={headingId}>
      <h3 id={headingId}>
        {title} <span className="card-span">{span(day)}</span>
      </h3>
      <QueryView query={task} loadingLabel={`Loading the ${title.toLowerCase()}…`}>
        {({ mostExpensiveTask }) =>
          mostExpensiveTask ? (
            <>
              <p className="figure">
                <Money cents={mostExpensiveTask.reward} />
              </p>
              <p className="task-title">
                {mostExpensiveTask.task.jiraId && <span className="jira">{mostExpensiveTask.task.jiraId}</span>} {mostExpensiveTask.task.title}
              </p>
              <p className="muted small">Completed {formatTime(mostExpensiveTask.completedAt)}</p>
            </>
          ) : (
            <Empty>No task completed {within}.</Empty>
          )
        }
      </QueryView>
    </article>
  );
}
