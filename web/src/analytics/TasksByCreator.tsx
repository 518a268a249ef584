import { useState } from 'react';
import { useQuery, useReloadOn } from '../api/hooks';
import { DayPicker } from '../components/DayPicker';
import { Money } from '../components/Money';
import { Empty, QueryView } from '../components/status';
import { useBusinessClock } from '../business-clock';
import { addDays } from '../format';
import { TasksByCreatorDocument } from '../generated/graphql';

/**
 * Per popug, what became of the tasks they created in a stretch of days: assignment is
 * random, so a creator whose own tasks keep landing on them and being completed by them
 * tops the table (analytics:view; the answer comes sorted that way). Reads again when
 * `version` goes up (the day's summary moved).
 */
export function TasksByCreator({ version }: { version: number }) {
  const { today } = useBusinessClock();
  const monthAgo = addDays(today, -29);
  const [from, setFrom] = useState(monthAgo);
  const [to, setTo] = useState(today);
  const creators = useQuery(TasksByCreatorDocument, { from, to });
  useReloadOn(version, creators);
  return (
    <section className="panel" aria-labelledby="creators-title">
      <div className="section-head">
        <h2 id="creators-title">Tasks by creator</h2>
        <div className="filters">
          <DayPicker label="From" value={from} fallback={monthAgo} onChange={setFrom} />
          <DayPicker label="To" value={to} fallback={today} onChange={setTo} />
        </div>
      </div>
      <QueryView query={creators} loadingLabel="Loading tasks by creator…">
        {({ tasksByCreator }) =>
          tasksByCreator.length === 0 ? (
            <Empty>No task created in these days.</Empty>
          ) : (
            <div className="table-scroll" role="region" aria-label="Tasks by creator" tabIndex={0}>
              <table className="stack">
                <thead>
                  <tr>
                    <th scope="col">Creator</th>
                    <th scope="col" className="num">Created</th>
                    <th scope="col" className="num">Landed on them</th>
                    <th scope="col" className="num">Completed by them</th>
                    <th scope="col" className="num">Their rewards</th>
                  </tr>
                </thead>
                <tbody>
                  {tasksByCreator.map((row) => (
                    <tr key={row.creator.id}>
                      <td>
                        {row.creator.name} <span className="muted small">{row.creator.email}</span>
                      </td>
                      <td className="num" data-label="Created">
                        {row.tasksCreated}
                      </td>
                      <td className="num" data-label="Landed on them">
                        {row.landedOnCreator}
                      </td>
                      <td className="num" data-label="Completed by them">
                        {row.completedByCreator}
                      </td>
                      <td className="num" data-label="Their rewards">
                        <Money cents={row.rewardsToCreator} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </QueryView>
    </section>
  );
}
