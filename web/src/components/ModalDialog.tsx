import type { ReactNode, RefObject } from 'react';
import { useModalDialog } from './use-modal-dialog';

interface ModalDialogProps {
  /** The dialog's accessible name. */
  label: string;
  /** Room for a form (the default suits a few lines). */
  wide?: boolean;
  /** Where the focus goes on close, when not what had it at the opening (a dialog the page opened by itself). */
  returnFocusTo?: RefObject<HTMLElement | null>;
  onClose(): void;
  children: ReactNode;
}

/**
 * A modal dialog holding a form, mounted while open (./use-modal-dialog.ts: the page beneath
 * inert, Tab kept inside, Escape and the Close button close it, the focus back on the
 * button that opened it). Its first field takes the focus.
 */
export function ModalDialog({ label, wide = false, returnFocusTo, onClose, children }: ModalDialogProps) {
  const modal = useModalDialog({
    initialFocus: () => modal.ref.current?.querySelector<HTMLElement>('input, textarea, select'),
    returnFocusTo: () => returnFocusTo?.current,
    onEscape: onClose,
  });
  return (
    <dialog {...modal} className={wide ? 'dialog wide' : 'dialog'} aria-label={label}>
      {children}
      <div className="dialog-actions">
        <button type="button" className="secondary" onClick={onClose}>
          Close
        </button>
      </div>
    </dialog>
  );
}
