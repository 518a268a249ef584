import { useRef, useState } from 'react';
import { readDraft } from '../api/drafts';
import { ModalDialog } from '../components/ModalDialog';
import { useUser } from '../session-context';
import { NEW_TASK_DRAFT, NewTaskForm } from './NewTaskForm';

/**
 * "Create task", opening the new-task form in a dialog. The form lives only while the dialog
 * is open, so its "Created …, assigned to …" notice goes when the dialog closes: it never
 * outlives a shuffle that gave the task to someone else. What was typed stays a draft (a
 * closed dialog, an ended session, a reload): the page opens with the dialog when one is kept.
 */
export function CreateTaskButton({ onCreated }: { onCreated(): void }) {
  const userId = useUser()?.id;
  const [open, setOpen] = useState(() => userId !== undefined && readDraft(userId, NEW_TASK_DRAFT) !== undefined);
  const button = useRef<HTMLButtonElement>(null);
  return (
    <>
      <button ref={button} type="button" className="primary" aria-haspopup="dialog" onClick={() => setOpen(true)}>
        Create task
      </button>
      {open && (
        <ModalDialog label="Create task" wide returnFocusTo={button} onClose={() => setOpen(false)}>
          <NewTaskForm onCreated={onCreated} />
        </ModalDialog>
      )}
    </>
  );
}
