import { tabStorage } from './tab-memory';

/**
 * Drafts of forms, per user, in this tab's sessionStorage: what a user typed survives a
 * session that ended, a reload and the sign-in after it. Kept until the form is sent, the
 * user signs out, or someone else signs in in this tab (their drafts are not the next
 * user's to read). Never a password: forms with one do not keep drafts.
 */

const PREFIX = 'popug-jira.draft.';

const keyOf = (userId: string, form: string) => `${PREFIX}${userId}.${form}`;

export function readDraft<TDraft extends object>(userId: string, form: string): Partial<TDraft> | undefined {
  const text = tabStorage()?.getItem(keyOf(userId, form));
  if (!text) return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null ? (parsed as Partial<TDraft>) : undefined;
  } catch {
    return undefined;
  }
}

export function writeDraft(userId: string, form: string, draft: object): void {
  try {
    tabStorage()?.setItem(keyOf(userId, form), JSON.stringify(draft));
  } catch {
    // Storage full or refused: the form still works, the draft is only not kept.
  }
}

export function clearDraft(userId: string, form: string): void {
  tabStorage()?.removeItem(keyOf(userId, form));
}

/** Every draft in this tab, whoever's: at sign-out and when another user signs in. */
export function forgetDrafts(): void {
  const storage = tabStorage();
  if (!storage) return;
  const keys = Array.from({ length: storage.length }, (_, index) => storage.key(index)).filter((key): key is string => key?.startsWith(PREFIX) ?? false);
  for (const key of keys) storage.removeItem(key);
}
