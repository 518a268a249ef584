import { useEffect, useId, useState } from 'react';
import { isSort, SORT_LABELS, type ListParams } from './list-params';

/** Typing settles this long before the list is asked again. */
const SEARCH_SETTLE_MS = 300;

interface ListControlsProps {
  params: ListParams;
  onChange(change: Partial<ListParams>, options?: { replace?: boolean }): void;
  /** Names the controls for screen readers: "Search my tasks". */
  listName: string;
}

/** A task list's search (title or jira id) and order. */
export function ListControls({ params, onChange, listName }: ListControlsProps) {
  const searchId = useId();
  const sortId = useId();
  const [draft, setDraft] = useState(params.search);

  // Back and Forward bring another search: the box shows it.
  useEffect(() => setDraft(params.search), [params.search]);

  useEffect(() => {
    if (draft.trim() === params.search.trim()) return;
    // One history entry per search, not per keystroke.
    const timer = setTimeout(() => onChange({ search: draft.trim() }, { replace: true }), SEARCH_SETTLE_MS);
    return () => clearTimeout(timer);
  }, [draft, params.search, onChange]);

  return (
    <>
      <div className="field">
        <label htmlFor={searchId}>Search {listName}</label>
        <input
          id={searchId}
          type="search"
          value={draft}
          maxLength={200}
          placeholder="Title or jira id"
          onChange={(event) => setDraft(event.target.value)}
        />
      </div>
      <div className="field">
        <label htmlFor={sortId}>Sort</label>
        <select id={sortId} value={params.sort} onChange={(event) => isSort(event.target.value) && onChange({ sort: event.target.value })}>
          {Object.entries(SORT_LABELS).map(([sort, label]) => (
            <option key={sort} value={sort}>
              {label}
            </option>
          ))}
        </select>
      </div>
    </>
  );
}
