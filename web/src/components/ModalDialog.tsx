import { useEffect, useRef, type KeyboardEvent, type ReactNode, type RefObject } from 'react';

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

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
 * A modal dialog, mounted while open: the page beneath is inert (`showModal`), Tab and
 * Shift+Tab go round the dialog's own controls, Escape and the Close button close it, and
 * focus goes back to what had it before (the button that opened it), as the ARIA dialog
 * pattern asks. The first field takes the focus when it opens.
 */
export function ModalDialog({ label, wide = false, returnFocusTo, onClose, children }: ModalDialogProps) {
  const dialog = useRef<HTMLDialogElement>(null);

  useEffect(() => {
    const element = dialog.current;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (element && !element.open) element.showModal();
    (element?.querySelector<HTMLElement>('input, textarea, select') ?? element?.querySelector<HTMLElement>(FOCUSABLE))?.focus();
    return () => {
      element?.close();
      (returnFocusTo?.current ?? opener)?.focus();
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
      className={wide ? 'dialog wide' : 'dialog'}
      aria-label={label}
      onKeyDown={keepFocusInside}
      // Escape: the browser would close the element behind React's back; close it as the button does.
      onCancel={(event) => {
        event.preventDefault();
        onClose();
      }}
    >
      {children}
      <div className="dialog-actions">
        <button type="button" className="secondary" onClick={onClose}>
          Close
        </button>
      </div>
    </dialog>
  );
}
