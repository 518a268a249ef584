import { useEffect, useRef, useState } from 'react';
import { useMutation } from '../api/hooks';
import { ErrorMessage } from '../components/status';
import { plural } from '../format';
import { ShuffleTasksDocument } from '../generated/graphql';

/** "Shuffle tasks": asks first (every reassignment debits its fee again), then says how many moved. */
export function ShuffleButton({ onShuffled }: { onShuffled(): void }) {
  const shuffle = useMutation(ShuffleTasksDocument);
  const [confirming, setConfirming] = useState(false);
  const [reassigned, setReassigned] = useState<number>();
  const confirmRef = useRef<HTMLButtonElement>(null);
  const openRef = useRef<HTMLButtonElement>(null);
  const wasConfirming = useRef(false);

  // Into the dialog when it opens; back to "Shuffle tasks" when it closes, however it closes
  // (the button is rendered again only then, so it cannot take the focus any earlier).
  useEffect(() => {
    if (confirming) confirmRef.current?.focus();
    else if (wasConfirming.current) openRef.current?.focus();
    wasConfirming.current = confirming;
  }, [confirming]);

  const cancel = () => setConfirming(false);
  const confirm = async () => {
    const result = await shuffle.run({});
    setConfirming(false);
    if (!result) return;
    setReassigned(result.shuffleTasks.reassigned);
    onShuffled();
  };

  return (
    <div className="shuffle">
      {!confirming && (
        <button
          ref={openRef}
          type="button"
          className="secondary"
          onClick={() => {
            setReassigned(undefined);
            shuffle.reset();
            setConfirming(true);
          }}
        >
          Shuffle tasks
        </button>
      )}
      {confirming && (
        <div
          className="confirm"
          role="alertdialog"
          aria-modal="false"
          aria-labelledby="shuffle-title"
          aria-describedby="shuffle-description"
          onKeyDown={(event) => event.key === 'Escape' && cancel()}
        >
          <p id="shuffle-title" className="confirm-title">
            Shuffle every open task?
          </p>
          <p id="shuffle-description">
            Each open task goes to a random popug who may receive tasks, and each reassignment debits its fee again. This cannot be
            undone.
          </p>
          <div className="actions">
            <button ref={confirmRef} type="button" className="danger" onClick={confirm} disabled={shuffle.running}>
              {shuffle.running ? 'Shuffling…' : 'Yes, shuffle'}
            </button>
            <button type="button" className="secondary" onClick={cancel} disabled={shuffle.running}>
              Cancel
            </button>
          </div>
        </div>
      )}
      {shuffle.error && <ErrorMessage error={shuffle.error} />}
      {reassigned !== undefined && (
        <p className="notice success" role="status">
          Shuffled: {plural(reassigned, 'open task')} reassigned.
        </p>
      )}
    </div>
  );
}
