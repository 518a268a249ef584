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

if [ -z "${DATABASE_URL:-}" ]; then DATABASE_URL="postgres://popug:$(cat "$dir/postgres-password")@postgres:5432"; export DATABASE_URL; fi
if [ -z "${REDIS_URL:-}" ]; then REDIS_URL="redis://:$(cat "$dir/redis-password")@redis:6379"; export REDIS_URL; fi
exec "$@"
