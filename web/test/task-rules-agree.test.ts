import fc from 'fast-check';
import { AppError } from '@popug/lib/errors';
import * as server from '../../subgraphs/tracker/services/task-input';
import * as browser from '../src/tracker/task-validation';

/**
 * The browser keeps its own copy of the tracker's rules for a new task (it cannot import
 * server code into its bundle); this proves the copy agrees with the server on any draft:
 * the form is clean exactly when the server accepts what the form sends, and when the
 * server refuses, the form flags that same field.
 */
const SERVER_ORDER: browser.TaskField[] = ['title', 'description', 'jiraId'];

function serverVerdict(draft: browser.TaskDraft): browser.TaskField | 'accepted' {
  try {
    server.parseNewTask(browser.toNewTask(draft));
    return 'accepted';
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    return (error.extensions as { field?: browser.TaskField }).field ?? 'title';
  }
}

const around = (limit: number) => fc.integer({ min: 0, max: 3 }).map((delta) => limit - 1 + delta);
const text = (length: fc.Arbitrary<number>, chars: string) =>
  fc.tuple(length, fc.constantFrom(...chars.split(''))).map(([count, char]) => char.repeat(count));
const title = fc.oneof(
  fc.string({ maxLength: 20 }),
  text(around(browser.TITLE_MAX), 'xy '),
  fc.tuple(fc.constantFrom('', '  '), text(around(browser.TITLE_MAX), 'x'), fc.constantFrom('', ' ', '[', ']')).map((parts) => parts.join('')),
);
const jiraId = fc.oneof(
  fc.constantFrom('', ' ', 'POPUG-42', ' POPUG-1 ', 'popug-1', 'P-1', 'A1-0', 'POPUG-', '1A-1', `${'A'.repeat(60)}-1234`, `${'A'.repeat(58)}-12345`),
  fc.stringMatching(/^[A-Z][A-Z0-9]{0,70}-[0-9]{1,5}$/),
  fc.string({ maxLength: 12 }),
);
const description = fc.oneof(fc.string({ maxLength: 20 }), text(around(browser.DESCRIPTION_MAX), 'd \n'));

test('the limits are the same numbers and pattern', () => {
  expect([browser.TITLE_MAX, browser.DESCRIPTION_MAX, browser.JIRA_ID_MAX, browser.JIRA_ID_PATTERN.source]).toEqual([
    server.TITLE_MAX,
    server.DESCRIPTION_MAX,
    server.JIRA_ID_MAX,
    server.JIRA_ID_PATTERN.source,
  ]);
});

test('for any draft, the form is clean exactly when the server accepts it, and flags the field the server refuses', () => {
  fc.assert(
    fc.property(fc.record({ title, jiraId, description }), (draft) => {
      const flagged = browser.validateTask(draft);
      const verdict = serverVerdict(draft);
      if (verdict === 'accepted') expect(flagged).toEqual({});
      else expect(SERVER_ORDER.find((field) => flagged[field] !== undefined)).toBe(verdict);
    }),
    { numRuns: 2000 },
  );
});
