import { useCallback, useEffect, useState, type Dispatch, type SetStateAction } from 'react';
import { clearDraft, readDraft, writeDraft } from '../api/drafts';
import { useUser } from '../session-context';

/** A form's fields, all text (an interface qualifies, unlike for `Record<string, string>`). */
type StringFields<TDraft> = { [K in keyof TDraft]: string };

export interface Draft<TDraft> {
  value: TDraft;
  set: Dispatch<SetStateAction<TDraft>>;
  /** After the form was sent: back to empty, and the stored draft gone. */
  clear(): void;
}

/**
 * A form's state that outlives the page (api/drafts.ts): restored for the signed-in user on
 * mount, stored on every change, so a session ending, a reload and the sign-in after it lose
 * nothing. `form` names the form, unique in the app; `empty` is its blank state, whose keys
 * and types are the only ones restored. Never for passwords.
 */
export function useDraft<TDraft extends StringFields<TDraft>>(form: string, empty: TDraft): Draft<TDraft> {
  const userId = useUser()?.id;
  const [value, set] = useState<TDraft>(() => restored(userId, form, empty));

  useEffect(() => {
    if (!userId) return;
    if (isEmpty(value, empty)) clearDraft(userId, form);
    else writeDraft(userId, form, value);
  }, [userId, form, value, empty]);

  const clear = useCallback(() => {
    set(empty);
    if (userId) clearDraft(userId, form);
  }, [userId, form, empty]);

  return { value, set, clear };
}

function restored<TDraft extends StringFields<TDraft>>(userId: string | undefined, form: string, empty: TDraft): TDraft {
  const stored = userId ? readDraft<TDraft>(userId, form) : undefined;
  if (!stored) return empty;
  const draft = { ...empty };
  for (const key of fieldsOf(empty)) {
    const value: unknown = stored[key];
    if (typeof value === 'string') draft[key] = value as TDraft[typeof key];
  }
  return draft;
}

const fieldsOf = <TDraft extends object>(empty: TDraft) => Object.keys(empty) as (keyof TDraft)[];

const isEmpty = <TDraft extends StringFields<TDraft>>(value: TDraft, empty: TDraft) => fieldsOf(empty).every((key) => value[key] === empty[key]);
