import { hasErrors, toNewTask, validateTask, type TaskDraft } from '../src/tracker/task-validation';

/** The browser's copy of the tracker's rules for a new task (subgraphs/tracker/services/task-input.ts). */

const valid: TaskDraft = { title: 'Feed the parrots', jiraId: 'POPUG-42', description: 'Seeds, then fruit.' };

describe('validateTask', () => {
  it('accepts a task with or without a jira id', () => {
    expect(validateTask(valid)).toEqual({});
    expect(validateTask({ ...valid, jiraId: '' })).toEqual({});
    expect(validateTask({ ...valid, jiraId: '  ' })).toEqual({});
  });

  it.each([
    ['', 'Enter a title.'],
    ['   ', 'Enter a title.'],
    ['x'.repeat(201), 'At most 200 characters (now 201).'],
    ['[POPUG-1] Feed', 'No “[” or “]” in the title: put the jira id in its own field.'],
    ['Feed ]', 'No “[” or “]” in the title: put the jira id in its own field.'],
  ])('refuses the title %j', (title, message) => {
    expect(validateTask({ ...valid, title })).toEqual({ title: message });
  });

  it('counts the title after trimming, as the server does', () => {
    expect(validateTask({ ...valid, title: `  ${'x'.repeat(200)}  ` })).toEqual({});
  });

  it.each(['popug-1', 'POPUG42', 'P-1', '1POPUG-1', 'POPUG-', 'POPUG-1a', `${'A'.repeat(60)}-1234`])('refuses the jira id %j', (jiraId) => {
    expect(validateTask({ ...valid, jiraId }).jiraId).toMatch(/^A project key and a number/);
  });

  it.each(['PO-1', 'POPUG-42', 'A1-0', 'X9Y-123456'])('accepts the jira id %j', (jiraId) => {
    expect(validateTask({ ...valid, jiraId })).toEqual({});
  });

  it('needs a description of at most 10 000 characters', () => {
    expect(validateTask({ ...valid, description: ' \n ' })).toEqual({ description: 'Describe the task.' });
    expect(validateTask({ ...valid, description: 'x'.repeat(10_000) })).toEqual({});
    expect(validateTask({ ...valid, description: 'x'.repeat(10_001) })).toEqual({
      description: 'At most 10,000 characters (now 10,001).',
    });
  });

  it('reports every field at once', () => {
    const errors = validateTask({ title: '', jiraId: 'nope', description: '' });
    expect(Object.keys(errors).sort()).toEqual(['description', 'jiraId', 'title']);
    expect(hasErrors(errors)).toBe(true);
  });
});

describe('toNewTask', () => {
  it('trims the title and jira id and sends no jira id when it is empty', () => {
    expect(toNewTask({ title: '  Feed  ', jiraId: ' POPUG-1 ', description: ' as is ' })).toEqual({
      title: 'Feed',
      jiraId: 'POPUG-1',
      description: ' as is ',
    });
    expect(toNewTask({ ...valid, jiraId: '' }).jiraId).toBeNull();
  });
});
