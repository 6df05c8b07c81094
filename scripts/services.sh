#!/usr/bin/env bash
# Make sure PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379) answer before the tests:
# start one that is installed here but down, then wait until it answers. Under CI=true a
# server that still does not answer fails the run here, in one line, instead of turning
# its tests into failures one by one (or, on a laptop, into skips).
set -uo pipefail

postgres_answers() {
  if command -v pg_isready >/dev/null; then pg_isready -q -h 127.0.0.1 -p 5432
  else (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; fi
}
redis_answers() {
  if command -v redis-cli >/dev/null; then [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = PONG ]
  else (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; fi
}
start_postgres() {
  command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ] || return 0
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
}
start_redis() {
  command -v redis-server >/dev/null || return 0
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" \
    --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
}

failed=0
for service in postgres redis; do
  if ! "${service}_answers"; then
    echo "starting $service"
    "start_$service" || echo "could not start $service"
    for _ in $(seq 1 30); do "${service}_answers" && break; sleep 1; done
  fi
  if ! "${service}_answers"; then
    echo "services: $service on 127.0.0.1 does not answer" >&2
    failed=1
  fi
done
[ "${CI:-}" = "true" ] && exit "$failed"
exit 0
