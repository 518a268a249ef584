import { useEffect, useRef, type KeyboardEvent, type ReactNode } from 'react';

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

const FOCUSABLE = 'button:not(:disabled), [href], input:not(:disabled), select:not(:disabled), [tabindex]:not([tabindex="-1"])';

/**
 * A modal question before a consequential change. The native <dialog> opened with
 * showModal() makes the page underneath inert; Tab and Shift+Tab also cycle inside it
 * (a native modal would let focus leave to the browser's own controls); Escape cancels.
 * Cancel has the focus first, so a stray Enter changes nothing.
 */
export function ConfirmDialog({ id, title, children, confirmLabel, onConfirm, onCancel, returnFocusTo }: ConfirmDialogProps) {
  const dialog = useRef<HTMLDialogElement>(null);
  const cancelButton = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    const element = dialog.current;
    if (element && !element.open) element.showModal();
    cancelButton.current?.focus();
    return () => {
      element?.close();
      returnFocusTo?.focus();
    };
  }, [returnFocusTo]);

  const keepFocusInside = (event: KeyboardEvent<HTMLDialogElement>) => {
    if (event.key !== 'Tab' || !dialog.current) return;
    const focusable = [...dialog.current.querySelectorAll<HTMLElement>(FOCUSABLE)];
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    if (!first || !last) return;
    if (event.shiftKey && document.activeElement === first) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  };

  return (
    <dialog
      ref={dialog}
      className="dialog"
      role="alertdialog"
      aria-labelledby={`${id}-title`}
      aria-describedby={`${id}-description`}
      onKeyDown={keepFocusInside}
      onCancel={(event) => {
        // Escape: closed by us, so the focus goes back where it came from.
        event.preventDefault();
        onCancel();
      }}
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
