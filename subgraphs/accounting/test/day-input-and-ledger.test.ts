import { parseDayRange } from '@popug/lib/day-input';
import { formatCents } from '../services/money';
import { ledgerRowOf, taskLabel } from '../services/task-ledger';

describe('day ranges asked of accounting', () => {
  it('takes at most 366 days, in order', () => {
    expect(parseDayRange('2024-01-01', '2024-12-31')).toEqual({ from: '2024-01-01', to: '2024-12-31' });
    expect(parseDayRange('2023-01-01', '2024-01-01')).toEqual({ from: '2023-01-01', to: '2024-01-01' }); // 366 days too
    expect(() => parseDayRange('2023-01-01', '2024-01-02')).toThrow(/At most 366 days/);
    expect(() => parseDayRange('2024-01-02', '2024-01-01')).toThrow(/must not be after/);
    expect(() => parseDayRange(20240101, '2024-01-01')).toThrow(/YYYY-MM-DD/);
  });
});

describe('money and the audit log', () => {
  it('formats cents without floating point', () => {
    expect(formatCents(0)).toBe('$0.00');
    expect(formatCents(5)).toBe('$0.05');
    expect(formatCents(2234)).toBe('$22.34');
    expect(formatCents(-150)).toBe('-$1.50');
    expect(formatCents(123456789)).toBe('$1234567.89');
  });

  it('names the task in every row, and signs amounts by kind', () => {
    const task = { taskId: '6d080a3c-5ee8-4cd5-8625-6c2f4c230427', title: 'Fix the coffee machine', jiraId: 'POPUG-42', description: 'x' };
    expect(taskLabel('Fix the coffee machine', null)).toBe('Fix the coffee machine');
    const fee = ledgerRowOf(
      {
        type: 'task.assigned',
        version: '7',
        occurredAt: new Date(),
        payload: { ...task, assigneeId: task.taskId, fee: 1500, reason: 'shuffle', assignedAt: '2024-03-10T04:30:00.000Z' },
      },
      'America/New_York',
    );
    expect(fee).toMatchObject({
      kind: 'ASSIGN_FEE',
      amount: -1500,
      description: 'Assign fee for [POPUG-42] Fix the coffee machine (reassigned by a shuffle)',
      business_day: '2024-03-09',
      source_version: '7',
    });
    const reward = ledgerRowOf(
      { type: 'task.completed', version: '8', occurredAt: new Date(), payload: { ...task, assigneeId: task.taskId, reward: 3000, completedAt: '2024-03-10T12:00:00+01:00' } },
      'UTC',
    );
    expect(reward).toMatchObject({ kind: 'COMPLETION_REWARD', amount: 3000, description: 'Completion reward for [POPUG-42] Fix the coffee machine', business_day: '2024-03-10', created_at: '2024-03-10T11:00:00.000Z' });
  });
});
