import { useEffect, type ReactNode } from 'react';
import { AccessProvider, DASHBOARDS, useAccess, type Dashboard } from './access';
import { execute } from './api/client';
import { Layout, PublicLayout } from './components/Layout';
import { Loading } from './components/status';
import { MeDocument } from './generated/graphql';
import { AccountingPage } from './pages/AccountingPage';
import { AdminPage } from './pages/AdminPage';
import { AnalyticsPage } from './pages/AnalyticsPage';
import { LoginPage } from './pages/LoginPage';
import { RegisterPage } from './pages/RegisterPage';
import { TrackerPage } from './pages/TrackerPage';
import { Link, navigate, useLocation } from './router';
import { loginPath, SessionProvider, useSession } from './session-context';

const PAGES: Record<Dashboard, () => ReactNode> = {
  tracker: () => <TrackerPage />,
  accounting: () => <AccountingPage />,
  analytics: () => <AnalyticsPage />,
  admin: () => <AdminPage />,
};

export function App() {
  return (
    <SessionProvider>
      <AccessProvider>
        <Routes />
      </AccessProvider>
    </SessionProvider>
  );
}

function Routes() {
  const { path } = useLocation();
  if (path === '/login') {
    return (
      <PublicLayout>
        <LoginPage />
      </PublicLayout>
    );
  }
  if (path === '/register') {
    return (
      <PublicLayout>
        <RegisterPage />
      </PublicLayout>
    );
  }
  const dashboard = DASHBOARDS.find((candidate) => candidate.path === path);
  return (
    <SignedIn>
      <Layout>{dashboard ? <DashboardGate id={dashboard.id} /> : <NotFound />}</Layout>
    </SignedIn>
  );
}

/** Sends a visitor without a session to the login page, which brings them back here. */
function SignedIn({ children }: { children: ReactNode }) {
  const { session, expired, updateUser } = useSession();
  const { path, query } = useLocation();
  const token = session?.token;
  const here = `${path}${query.size ? `?${query.toString()}` : ''}`;

  useEffect(() => {
    if (!token) navigate(loginPath(here, expired ? 'expired' : undefined), { replace: true });
  }, [token, here, expired]);

  // The role may have changed since the login: `me` refreshes it (and catches a deactivation).
  useEffect(() => {
    if (!token) return;
    execute(MeDocument, {}, { token }).then(
      ({ me }) => updateUser(me),
      () => undefined, // UNAUTHENTICATED already signed out; anything else shows on the page itself.
    );
  }, [token, updateUser]);

  return token ? <>{children}</> : null;
}

function DashboardGate({ id }: { id: Dashboard }) {
  const access = useAccess();
  const { session } = useSession();
  const title = DASHBOARDS.find((dashboard) => dashboard.id === id)?.title ?? id;
  if (access === null) return <Loading label="Checking what you may open…" />;
  if (access[id]) return <>{PAGES[id]()}</>;
  const open = DASHBOARDS.filter((dashboard) => access[dashboard.id]);
  return (
    <section className="panel" aria-labelledby="no-access">
      <h1 id="no-access">No access to {title}</h1>
      <p>
        Your role <span className="badge">{session?.user.role}</span> holds no permission here. An admin can grant it one on the
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
