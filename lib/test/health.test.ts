import { runChecks } from '../health';

describe('readiness checks', () => {
  it('counts a check that throws or does not answer within the timeout as down, and the others as ok', async () => {
    const results = await runChecks(
      {
        answers: async () => 'fine',
        throws: async () => {
          throw new Error('connection refused');
        },
        hangs: () => new Promise(() => undefined),
      },
      20,
    );
    expect(results).toEqual({ answers: 'ok', throws: 'down', hangs: 'down' });
  });
});
