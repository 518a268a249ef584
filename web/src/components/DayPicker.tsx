import { useId } from 'react';

/** A labelled date input that always holds a day (clearing it goes back to `fallback`). */
export function DayPicker({ label, value, fallback, onChange }: { label: string; value: string; fallback: string; onChange(day: string): void }) {
  const id = useId();
  return (
    <div className="field inline">
      <label htmlFor={id}>{label}</label>
      <input id={id} type="date" value={value} max="9999-12-31" onChange={(event) => onChange(event.target.value || fallback)} />
    </div>
  );
}
