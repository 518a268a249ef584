import { useState } from 'react';
import { ModalDialog } from '../components/ModalDialog';
import { NewTaskForm } from './NewTaskForm';

/**
 * "Create task", opening the new-task form in a dialog. The form lives only while the dialog
 * is open, so its "Created …, assigned to …" notice goes when the dialog closes: it never
 * outlives a shuffle that gave the task to someone else.
 */
export function CreateTaskButton({ onCreated }: { onCreated(): void }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <button type="button" className="primary" aria-haspopup="dialog" onClick={() => setOpen(true)}>
        Create task
      </button>
      {open && (
        <ModalDialog label="Create task" wide onClose={() => setOpen(false)}>
          <NewTaskForm onCreated={onCreated} />
        </ModalDialog>
      )}
    </>
  );
}
