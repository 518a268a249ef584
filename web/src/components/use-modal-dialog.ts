import { useEffect, useRef, type KeyboardEvent, type SyntheticEvent } from 'react';

const FOCUSABLE = 'a[href], button:not(:disabled), input:not(:disabled), select:not(:disabled), textarea:not(:disabled), [tabindex]:not([tabindex="-1"])';

interface ModalDialogOptions {
  /** What takes the focus as it opens; else the first control inside. */
  initialFocus?: () => HTMLElement | null | undefined;
  /** Where the focus goes as it closes; else what had it when it opened. */
  returnFocusTo?: () => HTMLElement | null | undefined;
  /** Escape: the dialog is closed by its owner (unmounted), not behind React's back. */
  onEscape(): void;
}

/**
 * A native <dialog> as a modal, for as long as it is mounted (the ARIA dialog pattern):
 * showModal() makes the page beneath inert; Tab and Shift+Tab go round its own controls (a
 * native modal would let the focus out to the browser's); Escape asks the owner to close it;
 * the focus goes back where it came from. Spread the answer on the <dialog>.
 */
export function useModalDialog({ initialFocus, returnFocusTo, onEscape }: ModalDialogOptions) {
  const ref = useRef<HTMLDialogElement>(null);
  const focusTargets = useRef({ initialFocus, returnFocusTo });
  focusTargets.current = { initialFocus, returnFocusTo };

  useEffect(() => {
    const element = ref.current;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (element && !element.open) element.showModal();
    (focusTargets.current.initialFocus?.() ?? element?.querySelector<HTMLElement>(FOCUSABLE))?.focus();
    return () => {
      element?.close();
      (focusTargets.current.returnFocusTo?.() ?? opener)?.focus();
    };
  }, []);

  const onKeyDown = (event: KeyboardEvent<HTMLDialogElement>) => {
    if (event.key !== 'Tab' || !ref.current) return;
    const focusable = [...ref.current.querySelectorAll<HTMLElement>(FOCUSABLE)];
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

  const onCancel = (event: SyntheticEvent<HTMLDialogElement>) => {
    event.preventDefault();
    onEscape();
  };

  return { ref, onKeyDown, onCancel };
}
