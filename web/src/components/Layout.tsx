import { useState, type ReactNode } from 'react';
import { DASHBOARDS, useAccess } from '../access';
import { signOut } from '../api/sign-out';
import { Link, useLocation } from '../router';
import { useUser } from '../session-context';
import { LiveIndicator } from './LiveIndicator';

function Brand() {
  return (
    <a className="brand" href="/">
      <svg width="28" height="28" viewBox="0 0 32 32" aria-hidden="true" focusable="false">
        <rect width="32" height="32" rx="8" fill="#157347" />
        <path d="M9 23V9h8a5 5 0 0 1 0 10h-4v4z" fill="#fff" />
      </svg>
      <span>Popug Jira</span>
    </a>
  );
}

/** Header with the dashboards this user may open (as probed), who is signed in, their password page, and sign-out. */
export function Layout({ children }: { children: ReactNode }) {
  const user = useUser();
  const [signingOut, setSigningOut] = useState(false);
  const access = useAccess();
  const { path } = useLocation();
  const open = DASHBOARDS.filter(({ id }) => access?.[id]);

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <div className="topbar-inner">
          <Brand />
          <nav aria-label="Dashboards">
            {access === null ? (
              <span className="muted small">Checking access…</span>
            ) : (
              <ul className="nav-links">
                {open.map(({ id, path: to, title }) => (
                  <li key={id}>
                    <Link to={to} aria-current={path === to ? 'page' : undefined}>
                      {title}
                    </Link>
                  </li>
                ))}
              </ul>
            )}
          </nav>
          <LiveIndicator />
          {user && (
            <div className="whoami">
              <span>
                <span className="whoami-name">{user.name}</span> <span className="badge">{user.role}</span>
              </span>
              <Link to="/password" aria-current={path === '/password' ? 'page' : undefined}>
                Password
              </Link>
              <button
                type="button"
                className="link-button"
                disabled={signingOut}
                onClick={() => {
                  setSigningOut(true);
                  // Signed out, the page's gate sends the user to the sign-in page (app.tsx).
                  void signOut();
                }}
              >
                {signingOut ? 'Signing out…' : 'Sign out'}
              </button>
            </div>
          )}
        </div>
      </header>
      <main id="main" className="page">
        {children}
      </main>
    </>
  );
}

/** The frame of the login and registration pages. */
export function PublicLayout({ children }: { children: ReactNode }) {
  return (
    <>
      <header className="topbar">
        <div className="topbar-inner">
          <Brand />
        </div>
      </header>
      <main id="main" className="page narrow">
        {children}
      </main>
    </>
  );
}
