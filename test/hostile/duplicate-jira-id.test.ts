import { contractOperation } from '@popug/testing/contract';
import { dataOf } from '@popug/testing/stack';
import { codesOf, useHostileBed } from './hostile-bed';

/**
 * A jira id already on an open task (issue 29, point 5): every create that repeats it is
 * refused as BAD_USER_INPUT naming jiraId — one at a time or many at once — and no row of
 * any database changes. (Two creates racing for a free id: subgraphs/tracker/test/task-page.test.ts.)
 */

const bed = useHostileBed();
const CREATE_TASK = contractOperation('CreateTask');

const create = (jiraId: string, title: string) =>
  bed.system.request(CREATE_TASK, { title, description: 'Twice?', jiraId }, bed.adminToken);

const refusalOf = (result: Awaited<ReturnType<typeof create>>) => ({
  codes: codesOf(result),
  field: result.errors?.[0]?.extensions?.field,
  data: result.data ?? null,
});

describe('a jira id already on an open task', () => {
  it('refuses the same id again, one create or ten at once, and nothing changes', async () => {
    dataOf(await create('HOSTILE-1', 'The one that holds it'));
    await bed.expectNothingChanged(async () => {
      expect(refusalOf(await create('HOSTILE-1', 'Again'))).toEqual({ codes: ['BAD_USER_INPUT'], field: 'jiraId', data: null });
      const burst = await Promise.all(Array.from({ length: 10 }, (_unused, index) => create('HOSTILE-1', `Again ${index}`)));
      expect(burst.map(refusalOf)).toEqual(Array.from({ length: 10 }, () => ({ codes: ['BAD_USER_INPUT'], field: 'jiraId', data: null })));
    });
  });
});
