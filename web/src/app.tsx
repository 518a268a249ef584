import { useEffect, type ReactNode } from 'react';
import { AccessProvider, DASHBOARDS, useAccess, useStartAnswer, type Dashboard } from './access';
import { SessionNotice } from './account/SessionNotice';
import { SignInDialog } from './account/SignInDialog';
import { BusinessClockGate, BusinessClockProvider } from './business-clock';
import { Layout, PublicLayout } from './components/Layout';
import { ErrorMessage, Loading } from './components/status';
import { AccountingPage } from './pages/AccountingPage';
import { AdminPage } from './pages/AdminPage';
import { AnalyticsPage } from './pages/AnalyticsPage';
import { ForgotPasswordPage } from './pages/ForgotPasswordPage';
import { LoginPage } from './pages/LoginPage';
import { PasswordPage } from './pages/PasswordPage';
import { RegisterPage } from './pages/RegisterPage';
import { ResetPasswordPage } from './pages/ResetPasswordPage';
import { TaskPage } from './pages/TaskPage';
import { TrackerPage } from './pages/TrackerPage';
import { taskIdOfPath } from './tracker/task-path';
import { Link, navigate, useLocation } from './router';
import { loginPath, useSession, useStartSession, useUser } from './session-context';

const PAGES: Record<Dashboard, () => ReactNode> = {
  tracker: () => <TrackerPage />,
  accounting: () => <AccountingPage />,
  analytics: () => <AnalyticsPage />,
  admin: () => <AdminPage />,
};

/** Pages anyone may open, signed in or not (gateway/web-app.ts serves each path). */
const PUBLIC_PAGES: Record<string, () => ReactNode> = {
  '/login': () => <LoginPage />,
  '/register': () => <RegisterPage />,
  '/forgot-password': () => <ForgotPasswordPage />,
  '/reset-password': () => <ResetPasswordPage />,
};

export function App() {
  useStartSession();
  return (
    <AccessProvider>
      <BusinessClockProvider>
        <Routes />
      </BusinessClockProvider>
    </AccessProvider>
  );
}

function Routes() {
  const { path } = useLocation();
  const publicPage = PUBLIC_PAGES[path];
  if (publicPage) return <PublicLayout>{publicPage()}</PublicLayout>;
  const dashboard = DASHBOARDS.find((candidate) => candidate.path === path);
  const taskId = taskIdOfPath(path);
  const page =
    path === '/password' ? (
      <PasswordPage />
    ) : dashboard ? (
      <DashboardGate id={dashboard.id} />
    ) : taskId ? (
      // A task's page opens with the tracker's access, keyed so another task starts afresh.
      <DashboardGate id="tracker" key={taskId} page={<TaskPage id={taskId} />} />
    ) : null;
  // No such page (the gateway answers it with status 404): said to anyone, signed in or not.
  if (!page) return <UnknownPage />;
  return (
    <SignedIn>
      <Layout>{page}</Layout>
    </SignedIn>
  );
}

/**
 * Sends a visitor without a session to the login page, which brings them back here. A
 * session that ends while the page is open, or before a reload of it, asks for the sign-in
 * over the page instead; one that cannot be renewed says so before it runs out.
 */
function SignedIn({ children }: { children: ReactNode }) {
  const session = useSession();
  const { path, query } = useLocation();
  const here = `${path}${query.size ? `?${query.toString()}` : ''}`;

  useEffect(() => {
    if (session.status === 'signed-out') navigate(loginPath(here), { replace: true });
  }, [session.status, here]);

  if (session.status === 'starting') return <Loading label="Opening your session…" />;
  if (session.status === 'signed-out') return null;
  return (
    <>
      {session.status === 'signed-in' && session.unrenewedUntil !== undefined && <SessionNotice until={session.unrenewedUntil} />}
      {children}
      {session.status === 'ended' && <SignInDialog user={session.user} reason={session.reason} />}
    </>
  );
}

/** A dashboard (or, with `page`, one of its pages) when the caller may open it, else "No access". */
function DashboardGate({ id, page }: { id: Dashboard; page?: ReactNode }) {
  const access = useAccess();
  const start = useStartAnswer();
  const user = useUser();
  const title = DASHBOARDS.find((dashboard) => dashboard.id === id)?.title ?? id;
  if (access === null) return start.error ? <ErrorMessage error={start.error} onRetry={start.retry} /> : <Loading label="Checking what you may open…" />;
  if (access[id]) return <BusinessClockGate>{page ?? PAGES[id]()}</BusinessClockGate>;
  const open = DASHBOARDS.filter((dashboard) => access[dashboard.id]);
  return (
    <section className="panel" aria-labelledby="no-access">
      <h1 id="no-access">No access to {title}</h1>
      <p>
        Your role <span className="badge">{user?.role}</span> holds no permission here. An admin can grant it one on the
        Admin page.
      </p>
      {open.length > 0 ? (
        <p>
          You can open:{' '}
          {open.map((dashboard, index) => (
            <span key={dashboard.id}>
              {index > 0 && ', '}
              <Link to={dashboard.path}>{dashboard.title}</Link>
            </span>
          ))}
          .
        </p>
      ) : (
        <p>Your role may not open any dashboard yet.</p>
      )}
    </section>
  );
}

/** "Page not found" in the frame of whoever is looking: the dashboards' with a session, the public one without. */
function UnknownPage() {
  const user = useUser();
  return user ? (
    <Layout>
      <NotFound />
    </Layout>
  ) : (
    <PublicLayout>
      <NotFound />
    </PublicLayout>
  );
}

function NotFound() {
  return (
    <section className="panel" aria-labelledby="not-found">
      <h1 id="not-found">Page not found</h1>
      <p>
        There is no page here. Go to the <a href="/">start page</a>.
      </p>
    </section>
  );
}
