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
if [ -z "${DATABASE_URL:-}" ]; then DATABASE_URL="postgres://popug:$(cat "$dir/postgres-password")@postgres:5432"; export DATABASE_URL; fi
# Each service that uses Redis its own user (REDIS_USER, set in docker-compose.yml; docs/security.md "Redis users"): tracker, analytics and migrate none.
if [ -z "${REDIS_URL:-}" ] && [ -n "${REDIS_USER:-}" ]; then REDIS_URL="redis://${QUEUE_PREFIX:-popug}-$REDIS_USER:$(cat "$dir/redis-$REDIS_USER-password")@redis:6379"; export REDIS_URL; fi
exec "$@"
