#!/bin/sh
# Entry point of every docker-compose.yml service: fills in the secrets the `keys` step
# wrote to KEYS_DIR (scripts/compose-secrets.ts) for whatever secrets.env leaves unset, then
# runs the service. The values stay out of docker-compose.yml and out of `docker inspect`.
set -eu
dir="${KEYS_DIR:-/keys}"
# A plain assignment (not `export X="$(…)"`) so that a missing file stops the service here under `set -e`.
if [ -z "${ADMIN_PASSWORD:-}" ]; then ADMIN_PASSWORD="$(cat "$dir/admin-password")"; export ADMIN_PASSWORD; fi
if [ -z "${AUTH_PRIVATE_KEY:-}${AUTH_PUBLIC_KEY:-}" ]; then AUTH_PRIVATE_KEY="$(cat "$dir/auth.key.pem")"; export AUTH_PRIVATE_KEY; fi
if [ -z "${GATEWAY_PRIVATE_KEY:-}${GATEWAY_PUBLIC_KEY:-}" ]; then GATEWAY_PRIVATE_KEY="$(cat "$dir/gateway.key.pem")"; export GATEWAY_PRIVATE_KEY; fi
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
    jobs) DATABASE_URL="$(database_url replicator)"; export DATABASE_URL ;;
  esac
fi
if [ -z "${REDIS_URL:-}" ]; then REDIS_URL="redis://:$(cat "$dir/redis-password")@redis:6379"; export REDIS_URL; fi
exec "$@"
