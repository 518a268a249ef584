import { useState, type FormEvent } from 'react';
import { useMutation } from '../api/hooks';
import { TextArea, TextField } from '../components/Field';
import { Money } from '../components/Money';
import { ErrorMessage } from '../components/status';
import { useDraft } from '../components/use-draft';
import { CreateTaskDocument, type CreateTaskMutation } from '../generated/graphql';
import { DESCRIPTION_MAX, hasErrors, taskFieldOf, toNewTask, validateTask, type TaskDraft, type TaskErrors } from './task-validation';

const EMPTY: TaskDraft = { title: '', jiraId: '', description: '' };

/** The name its draft is kept under (api/drafts.ts). */
export const NEW_TASK_DRAFT = 'new-task';

/**
 * Create a task: inline errors as the user types (after the first blur or submit), server
 * errors beside them. What is typed is kept as a draft until the task is created, through a
 * session that ends, a reload and the sign-in after it.
 */
export function NewTaskForm({ onCreated }: { onCreated(): void }) {
  const createTask = useMutation(CreateTaskDocument);
  const { value: draft, set: setDraft, clear: clearDraft } = useDraft(NEW_TASK_DRAFT, EMPTY);
  const [touched, setTouched] = useState<Partial<Record<keyof TaskDraft, boolean>>>({});
  const [submitted, setSubmitted] = useState(false);
  const [created, setCreated] = useState<CreateTaskMutation['createTask']>();

  const errors: TaskErrors = validateTask(draft);
  const shown = (field: keyof TaskDraft) => {
    if (submitted || touched[field]) return errors[field];
    return undefined;
  };
  const serverField = createTask.error?.code === 'BAD_USER_INPUT' ? taskFieldOf(createTask.error.field) : undefined;
  const fieldError = (field: keyof TaskDraft) => shown(field) ?? (serverField === field ? createTask.error?.message : undefined);

  const update = (field: keyof TaskDraft, value: string) => {
    setDraft((current) => ({ ...current, [field]: value }));
    setCreated(undefined);
    if (serverField === field) createTask.reset();
  };
  const touch = (field: keyof TaskDraft) => setTouched((current) => ({ ...current, [field]: true }));

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setSubmitted(true);
    if (hasErrors(errors)) return;
    const result = await createTask.run(toNewTask(draft));
    if (!result) return;
    setCreated(result.createTask);
    clearDraft();
    setTouched({});
    setSubmitted(false);
    onCreated();
  };

  return (
    <form className="task-form" onSubmit={submit} noValidate aria-labelledby="new-task-title">
      <h2 id="new-task-title">New task</h2>
      <div className="form-row">
        <TextField
          label="Title"
          name="title"
          value={draft.title}
          onChange={(event) => update('title', event.target.value)}
          onBlur={() => touch('title')}
          error={fieldError('title')}
          required
        />
        <TextField
          label="Jira id (optional)"
          name="jiraId"
          placeholder="POPUG-42"
          value={draft.jiraId}
          onChange={(event) => update('jiraId', event.target.value)}
          onBlur={() => touch('jiraId')}
          error={fieldError('jiraId')}
          autoCapitalize="characters"
          spellCheck={false}
        />
      </div>
      <TextArea
        label="Description"
        name="description"
        rows={3}
        value={draft.description}
        onChange={(event) => update('description', event.target.value)}
        onBlur={() => touch('description')}
        error={fieldError('description')}
        hint={`${draft.description.length.toLocaleString('en-US')} / ${DESCRIPTION_MAX.toLocaleString('en-US')} characters`}
        required
      />
      {createTask.error && !serverField && <ErrorMessage error={createTask.error} />}
      {created && (
        <p className="notice success" role="status">
          Created “{created.title}”, assigned to {created.assignee.name} (fee <Money cents={created.assignFee} />, reward{' '}
          <Money cents={created.completionReward} />).
        </p>
      )}
      <button type="submit" className="primary" disabled={createTask.running}>
        {createTask.running ? 'Creating…' : 'Create task'}
      </button>
    </form>
  );
}
