import { useState, type FormEvent } from 'react';
import { useMutation } from '../api/hooks';
import { TextField } from '../components/Field';
import { ErrorMessage } from '../components/status';
import { useDraft } from '../components/use-draft';
import { CreateRoleDocument } from '../generated/graphql';
import { roleNameError } from './role-name';

const EMPTY = { name: '' };

/** A new role starts with no permission anywhere; grant some in the matrices below. The name typed is kept as a draft until created. */
export function CreateRoleForm({ roles, onCreated }: { roles: string[]; onCreated(role: string): void }) {
  const createRole = useMutation(CreateRoleDocument);
  const draft = useDraft('create-role', EMPTY);
  const { name } = draft.value;
  const [submitted, setSubmitted] = useState(false);
  const [created, setCreated] = useState<string>();

  const trimmed = name.trim();
  const localError = roleNameError(trimmed) ?? (roles.includes(trimmed) ? `The role “${trimmed}” already exists.` : undefined);
  const serverError = createRole.error?.code === 'BAD_USER_INPUT' ? createRole.error.message : undefined;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setSubmitted(true);
    setCreated(undefined);
    if (localError) return;
    const result = await createRole.run({ name: trimmed });
    if (!result) return;
    setCreated(result.createRole);
    draft.clear();
    setSubmitted(false);
    onCreated(result.createRole);
  };

  return (
    <form className="inline-form" onSubmit={submit} noValidate aria-labelledby="create-role-title">
      <h3 id="create-role-title">Create a role</h3>
      <TextField
        label="Role name"
        name="role"
        value={name}
        placeholder="e.g. auditor"
        autoCapitalize="none"
        spellCheck={false}
        onChange={(event) => {
          draft.set({ name: event.target.value });
          createRole.reset();
        }}
        error={(submitted || trimmed ? localError : undefined) ?? serverError}
      />
      {createRole.error && !serverError && <ErrorMessage error={createRole.error} />}
      <button type="submit" className="primary" disabled={createRole.running}>
        {createRole.running ? 'Creating…' : 'Create role'}
      </button>
      {created && (
        <p className="notice success" role="status">
          Created the role “{created}”. It has no permissions yet: grant them below.
        </p>
      )}
    </form>
  );
}
