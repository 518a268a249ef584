#!/bin/sh
# Entry point of every docker-compose.yml service: fills in the secrets the `keys` step
# wrote (scripts/compose-secrets.ts) for whatever secrets.env leaves unset, then runs the
# service. The values stay out of docker-compose.yml and out of `docker inspect`.
# A service gets a signing key, the gateway's public key or the admin's password only when
# its own volume of that secret is mounted under SECRETS_DIR (docker-compose.yml says which
# service mounts which); anything else of those, even from secrets.env, is taken away.
set -eu
dir="${KEYS_DIR:-/keys}"
secrets="${SECRETS_DIR:-/secrets}"

# own_secret NAME VOLUME FILE: this service's secret when <secrets>/VOLUME is mounted (secrets.env's value first); unset otherwise.
own_secret() {
  if [ -d "$secrets/$2" ]; then
    eval "given=\${$1:-}"
    # A plain assignment (not `export X="$(…)"`) so that a missing file stops the service here under `set -e`.
    if [ -z "$given" ]; then value="$(cat "$secrets/$2/$3")"; export "$1=$value"; fi
  else
    unset "$1"
  fi
}
# The gateway's own key from secrets.env without its public half would leave every subgraph checking against the generated one.
if [ -n "${GATEWAY_PRIVATE_KEY:-}" ] && [ -z "${GATEWAY_PUBLIC_KEY:-}" ]; then
  echo "secrets.env gives GATEWAY_PRIVATE_KEY without GATEWAY_PUBLIC_KEY: give its public half (SPKI PEM) too" >&2
  exit 78
fi
own_secret AUTH_PRIVATE_KEY auth-key auth.key.pem
own_secret GATEWAY_PRIVATE_KEY gateway-key gateway.key.pem
own_secret GATEWAY_PUBLIC_KEY gateway-public-key gateway.pub.pem
own_secret ADMIN_PASSWORD admin admin-password
unset AUTH_PUBLIC_KEY

# PostgreSQL (docs/operations.md "Database roles"): each service logs in as its own role; only the
# migrate step gets the superuser, and creates those roles. A DATABASE_URL from secrets.env is used as given.
database_url() {
  password="$(cat "$dir/postgres-password-$1")" || exit 1
  printf 'postgres://popug_%s:%s@postgres:5432' "$1" "$password"
}
if [ -z "${DATABASE_URL:-}" ]; then
  case "${POPUG_SERVICE:-}" in
    migrate)
      DATABASE_ADMIN_URL="postgres://popug:$(cat "$dir/postgres-password")@postgres:5432"
      AUTH_DATABASE_URL="$(database_url auth)"
      TRACKER_DATABASE_URL="$(database_url tracker)"
      ACCOUNTING_DATABASE_URL="$(database_url accounting)"
      ANALYTICS_DATABASE_URL="$(database_url analytics)"
      JOBS_DATABASE_URL="$(database_url replicator)"
      export DATABASE_ADMIN_URL AUTH_DATABASE_URL TRACKER_DATABASE_URL ACCOUNTING_DATABASE_URL ANALYTICS_DATABASE_URL JOBS_DATABASE_URL ;;
    auth | tracker | accounting | analytics) DATABASE_URL="$(database_url "$POPUG_SERVICE")"; export DATABASE_URL ;;
    # The first admin is a row of auth's database: the bootstrap step writes it as auth does.
    bootstrap-admin) DATABASE_URL="$(database_url auth)"; export DATABASE_URL ;;
    jobs) DATABASE_URL="$(database_url replicator)"; export DATABASE_URL ;;
  esac
fi
# Each service that uses Redis its own user (REDIS_USER, set in docker-compose.yml; docs/security.md "Redis users"): tracker, analytics and migrate none.
if [ -z "${REDIS_URL:-}" ] && [ -n "${REDIS_USER:-}" ]; then REDIS_URL="redis://${QUEUE_PREFIX:-popug}-$REDIS_USER:$(cat "$dir/redis-$REDIS_USER-password")@redis:6379"; export REDIS_URL; fi
exec "$@"
