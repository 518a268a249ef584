import { useId, type MouseEvent } from 'react';
import { useBusinessClock } from '../business-clock';
import { formatDay } from '../format';

interface DayPickerProps {
  label: string;
  value: string;
  /** The day clearing the input goes back to. */
  fallback: string;
  onChange(day: string): void;
  /** Offers "Back to today" while another day is shown. */
  offerToday?: boolean;
}

/**
 * A labelled business day: shown as the app writes days ("6 Dec 2026", with the business
 * zone's name when the browser's zone is another), picked with the browser's own date input
 * laid invisibly over it, so the calendar, the keyboard and the label still work; the
 * browser would write the date in its own locale's form (12/06/2026).
 */
export function DayPicker({ label, value, fallback, onChange, offerToday = false }: DayPickerProps) {
  const id = useId();
  const { today, zone, labelled } = useBusinessClock();
  return (
    <div className="field day-picker">
      <label htmlFor={id}>{label}</label>
      <span className="day-box">
        <span className="day-text" aria-hidden="true">
          {formatDay(value)}
          {labelled && <span className="muted small"> {zone}</span>}
        </span>
        <input
          id={id}
          type="date"
          value={value}
          max="9999-12-31"
          onClick={openCalendar}
          onChange={(event) => onChange(event.target.value || fallback)}
        />
      </span>
      {offerToday && value !== today && (
        <button type="button" className="link-button" onClick={() => onChange(today)}>
          Back to today
        </button>
      )}
    </div>
  );
}

/** Chromium opens the calendar only from its icon, which the day's text covers: open it from anywhere on the box. */
function openCalendar(event: MouseEvent<HTMLInputElement>): void {
  try {
    event.currentTarget.showPicker();
  } catch {
    // Not allowed here (e.g. in a cross-origin frame): the input still takes the keyboard.
  }
}
