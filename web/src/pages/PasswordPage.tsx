import { ChangePasswordForm } from '../account/ChangePasswordForm';
import { SignOutEverywhere } from '../account/SignOutEverywhere';

/** The signed-in user's password and sessions. */
export function PasswordPage() {
  return (
    <>
      <h1>Password and sessions</h1>
      <section className="panel narrow-panel">
        <ChangePasswordForm />
      </section>
      <SignOutEverywhere />
    </>
  );
}
