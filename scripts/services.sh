#!/usr/bin/env bash
# Make sure the PostgreSQL and Redis the tests talk to are up: start them if they are
# installed and stopped, and say clearly what is missing otherwise.
set -euo pipefail

PG_HOST=${PG_HOST:-127.0.0.1}
PG_PORT=${PG_PORT:-5432}
REDIS_PORT=${REDIS_PORT:-6379}

wait_for() {
  local what=$1; shift
  for _ in $(seq 1 30); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  echo "services: $what did not come up within 30 s" >&2
  return 1
}

if ! pg_isready -q -h "$PG_HOST" -p "$PG_PORT" 2>/dev/null; then
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    echo "services: starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
    wait_for PostgreSQL pg_isready -q -h "$PG_HOST" -p "$PG_PORT"
  else
    echo "services: PostgreSQL is not running on $PG_HOST:$PG_PORT and is not installed here." >&2
    echo "          Install it (apt-get install postgresql) or point TEST_PG_ADMIN_URL at one." >&2
    exit 1
  fi
fi

if ! redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
  if command -v redis-server >/dev/null; then
    echo "services: starting Redis"
    mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" --save "" \
      --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
    wait_for Redis redis-cli -p "$REDIS_PORT" ping
  else
    echo "services: Redis is not running on port $REDIS_PORT and is not installed here." >&2
    echo "          Install it (apt-get install redis-server) or point TEST_REDIS_URL at one." >&2
    exit 1
  fi
fi
echo "services: PostgreSQL and Redis are up"
