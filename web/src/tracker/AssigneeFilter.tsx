import { useEffect, useId, useState } from 'react';
import { useQuery } from '../api/hooks';
import { TaskAssigneesDocument } from '../generated/graphql';

/** Popugs offered at once; a search narrows the directory. */
const OFFERED = 50;
const SEARCH_SETTLE_MS = 300;

interface AssigneeFilterProps {
  assigneeId: string | null;
  /** The chosen popug's name when the list on screen knows it (after a reload the directory page may not hold them). */
  knownName: string | undefined;
  /** Whether the tasks are on screen: the directory is read after them, not in the first paint's round. */
  listShown: boolean;
  onChange(assigneeId: string | null): void;
}

/** Filters All tasks by assignee, offering every popug of the directory (TaskAssignees), searched by name or email. */
export function AssigneeFilter({ assigneeId, knownName, listShown, onChange }: AssigneeFilterProps) {
  const findId = useId();
  const selectId = useId();
  const [draft, setDraft] = useState('');
  const [search, setSearch] = useState('');
  useEffect(() => {
    const timer = setTimeout(() => setSearch(draft.trim()), SEARCH_SETTLE_MS);
    return () => clearTimeout(timer);
  }, [draft]);
  // Read once the list is on screen, or at once when the user reaches for the filter first.
  const [reached, setReached] = useState(false);
  const offered = useQuery(TaskAssigneesDocument, { search: search || null, first: OFFERED }, { skip: !(listShown || reached) });
  const reach = () => setReached(true);
  const popugs = offered.data?.taskAssignees ?? [];
  const chosenMissing = assigneeId !== null && !popugs.some((popug) => popug.id === assigneeId);

  return (
    <>
      <div className="field">
        <label htmlFor={findId}>Find a popug</label>
        <input id={findId} type="search" onFocus={reach} value={draft} maxLength={200} placeholder="Name or email" onChange={(event) => setDraft(event.target.value)} />
      </div>
      <div className="field">
        <label htmlFor={selectId}>Assignee</label>
        <select id={selectId} onFocus={reach} value={assigneeId ?? ''} onChange={(event) => onChange(event.target.value || null)}>
          <option value="">Anyone</option>
          {chosenMissing && <option value={assigneeId}>{knownName ?? 'The chosen popug'}</option>}
          {popugs.map((popug) => (
            <option key={popug.id} value={popug.id} title={popug.email}>
              {popug.name}
            </option>
          ))}
        </select>
        {popugs.length === OFFERED && <p className="muted small">The first {OFFERED} shown: type a name to find others.</p>}
        {search && !offered.loading && popugs.length === 0 && <p className="muted small">No popug matches “{search}”.</p>}
      </div>
    </>
  );
}
