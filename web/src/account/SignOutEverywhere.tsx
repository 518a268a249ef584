import { useState } from 'react';
import { toApiError, type ApiError } from '../api/client';
import { signOutEverywhere } from '../api/sign-out';
import { ErrorMessage } from '../components/status';

/** Ends every session of the user, this one included: for a lost phone or a shared computer left signed in. */
export function SignOutEverywhere() {
  const [running, setRunning] = useState(false);
  const [error, setError] = useState<ApiError>();

  const run = async () => {
    setRunning(true);
    setError(undefined);
    try {
      await signOutEverywhere();
    } catch (caught) {
      setError(toApiError(caught));
      setRunning(false);
    }
  };

  return (
    <section className="panel narrow-panel" aria-labelledby="sessions-title">
      <h2 id="sessions-title">Sessions</h2>
      <p>Signed in on a computer you no longer use, or lost a phone? This signs you out on every device, here too.</p>
      {error && <ErrorMessage error={error} />}
      <button type="button" className="secondary" onClick={run} disabled={running}>
        {running ? 'Signing out everywhere…' : 'Sign out everywhere'}
      </button>
    </section>
  );
}
