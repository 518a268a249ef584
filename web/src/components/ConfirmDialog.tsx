import { useRef, type ReactNode } from 'react';
import { useModalDialog } from './use-modal-dialog';

interface ConfirmDialogProps {
  id: string;
  title: string;
  /** What will happen, in plain words: the dialog's description. */
  children: ReactNode;
  confirmLabel: string;
  onConfirm(): void;
  onCancel(): void;
  /** The control that opened the dialog: it gets the focus back however the dialog closes. */
  returnFocusTo: HTMLElement | null;
}

/**
 * A modal question before a consequential change (./use-modal-dialog.ts: the page beneath
 * inert, Tab kept inside, Escape cancels, the focus back on the control that opened it).
 * Cancel has the focus first, so a stray Enter changes nothing.
 */
export function ConfirmDialog({ id, title, children, confirmLabel, onConfirm, onCancel, returnFocusTo }: ConfirmDialogProps) {
  const cancelButton = useRef<HTMLButtonElement>(null);
  const modal = useModalDialog({ initialFocus: () => cancelButton.current, returnFocusTo: () => returnFocusTo, onEscape: onCancel });

  return (
    <dialog
      {...modal}
      className="dialog"
      role="alertdialog"
      aria-labelledby={`${id}-title`}
      aria-describedby={`${id}-description`}
    >
      <h2 id={`${id}-title`}>{title}</h2>
      <div id={`${id}-description`}>{children}</div>
      <div className="actions">
        <button type="button" className="danger" onClick={onConfirm}>
          {confirmLabel}
        </button>
        <button ref={cancelButton} type="button" className="secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </dialog>
  );
}
