#!/bin/sh
# Entry point of every docker-compose.yml service: fills in the secrets the `keys` step
# wrote (scripts/compose-secrets.ts) for whatever secrets.env leaves unset, then runs the
# service. The values stay out of docker-compose.yml and out of `docker inspect`.
# A service gets a signing key, the gateway's public key, the admin's password or a data
# store's password only from its own volume of that secret, mounted under SECRETS_DIR
# (docker-compose.yml says which service mounts which); any signing key or admin password
# it has no volume for, even from secrets.env, is taken away, and so is a URL of a data store
# it does not use. Only the migrate step mounts the keys volume (KEYS_DIR): the superuser's.
set -eu
keys="${KEYS_DIR:-/keys}"
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

# PostgreSQL (docs/operations.md "Database roles"): each service logs in as its own role, whose
# password is in its store volume (<service>-store; the replicator's in the jobs worker's); only
# the migrate step gets the superuser, and creates those roles. A DATABASE_URL from secrets.env is used as given.
# database_url ROLE SERVICE: popug_ROLE's URL; a missing file stops the service (`|| exit`, as the caller's `$(…)` is a subshell).
database_url() {
  password="$(cat "$secrets/$2-store/postgres-password-$1")" || exit 1
  printf 'postgres://popug_%s:%s@postgres:5432' "$1" "$password"
}
# The gateway uses no database, tracker, analytics and the one-shot steps no Redis: no URL of it, even from secrets.env.
if [ -z "${POPUG_SERVICE:-}" ]; then unset DATABASE_URL; fi
if [ -z "${REDIS_USER:-}" ]; then unset REDIS_URL; fi
if [ -z "${DATABASE_URL:-}" ]; then
  case "${POPUG_SERVICE:-}" in
    migrate)
      DATABASE_ADMIN_URL="postgres://popug:$(cat "$keys/postgres-password")@postgres:5432"
      AUTH_DATABASE_URL="$(database_url auth auth)"
      TRACKER_DATABASE_URL="$(database_url tracker tracker)"
      ACCOUNTING_DATABASE_URL="$(database_url accounting accounting)"
      ANALYTICS_DATABASE_URL="$(database_url analytics analytics)"
      JOBS_DATABASE_URL="$(database_url replicator jobs)"
      export DATABASE_ADMIN_URL AUTH_DATABASE_URL TRACKER_DATABASE_URL ACCOUNTING_DATABASE_URL ANALYTICS_DATABASE_URL JOBS_DATABASE_URL ;;
    auth | tracker | accounting | analytics) DATABASE_URL="$(database_url "$POPUG_SERVICE" "$POPUG_SERVICE")"; export DATABASE_URL ;;
    # The first admin is a row of auth's database: the bootstrap step writes it as auth does, from auth's store volume.
    bootstrap-admin) DATABASE_URL="$(database_url auth auth)"; export DATABASE_URL ;;
    jobs) DATABASE_URL="$(database_url replicator jobs)"; export DATABASE_URL ;;
  esac
fi
# Each service that uses Redis its own user (REDIS_USER, set in docker-compose.yml; docs/security.md "Redis users"), its password in its store volume.
if [ -z "${REDIS_URL:-}" ] && [ -n "${REDIS_USER:-}" ]; then
  password="$(cat "$secrets/$REDIS_USER-store/redis-$REDIS_USER-password")"
  REDIS_URL="redis://${QUEUE_PREFIX:-popug}-$REDIS_USER:$password@redis:6379"; export REDIS_URL
fi
exec "$@"
