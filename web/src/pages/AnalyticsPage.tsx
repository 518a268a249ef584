import { useState } from 'react';
import { useCapabilities } from '../access';
import { TasksByCreator } from '../analytics/TasksByCreator';
import { useLive, useQuery, useRefreshSoon, useReloadOn } from '../api/hooks';
import { DayPicker } from '../components/DayPicker';
import { Money } from '../components/Money';
import { Empty, QueryView } from '../components/status';
import { formatDateTime, formatDay, localToday } from '../format';
import { AnalyticsSummaryDocument, AnalyticsUpdatesDocument, MostExpensiveTaskDocument, type Period } from '../generated/graphql';

const PERIODS: readonly { period: Period; title: string }[] = [
  { period: 'DAY', title: 'Day' },
  { period: 'WEEK', title: 'Week' },
  { period: 'MONTH', title: 'Month' },
];

/** The rest of the page reads again this long after the summary moved, once for a burst. */
const AFTER_SUMMARY_MS = 1_000;

/**
 * Admins' dashboard (analytics:view): a day's earnings, popugs in the red, the priciest
 * tasks, who profits from their own tasks. The summary follows AnalyticsUpdates live; the
 * other tables read again when it moves.
 */
export function AnalyticsPage() {
  const today = localToday();
  const [day, setDay] = useState(today);
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
        <DayPicker label="Day" value={day} fallback={today} onChange={setDay} />
      </div>
      <section className="panel" aria-labelledby="summary-title">
        <h2 id="summary-title">{day === today ? 'Today' : formatDay(day)}</h2>
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
          {PERIODS.map(({ period, title }) => (
            <MostExpensive key={period} period={period} title={title} day={day} version={version} />
          ))}
        </div>
      </section>
      <TasksByCreator today={today} version={version} />
    </>
  );
}

function MostExpensive({ period, title, day, version }: { period: Period; title: string; day: string; version: number }) {
  const task = useQuery(MostExpensiveTaskDocument, { period, day });
  useReloadOn(version, task);
  const headingId = `expensive-${period.toLowerCase()}`;
  return (
    <article className="card" aria-labelledby={headingId}>
      <h3 id={headingId}>{title}</h3>
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
              <p className="muted small">Completed {formatDateTime(mostExpensiveTask.completedAt)}</p>
            </>
          ) : (
            <Empty>No task completed in this {title.toLowerCase()}.</Empty>
          )
        }
      </QueryView>
    </article>
  );
}
