#!/bin/sh
# Start one of the three Sentinels that watch every replicated Redis set
# (deploy/swarm/stack.yaml). Each set is watched under its service's name (airports,
# trips, messages, gateway: the services' REDIS_SENTINELS), from its current primary as
# another Sentinel names it, else from slot 1 (the first start). Sentinels watch
# addresses: resolved here once. Its id is fixed per slot, so a restarted Sentinel is the
# same one to the others, not one more.
set -eu
conf=/data/sentinel.conf
password=$(cat /run/secrets/redis-sentinel-password)
{
  echo "port 26379"
  echo "sentinel myid $(printf '%040d' "$SENTINEL_SLOT")"
  for set in airports trips messages gateway; do
    primary=""
    for other in redis-sentinel-1 redis-sentinel-2 redis-sentinel-3; do
      [ "$other" = "redis-sentinel-$SENTINEL_SLOT" ] && continue
      primary=$(timeout 3 redis-cli -h "$other" -p 26379 sentinel get-master-addr-by-name "$set" 2>/dev/null | head -n 1) || primary=""
      [ -n "$primary" ] && break
    done
    until [ -n "$primary" ]; do
      primary=$(getent hosts "redis-$set-1" | awk '{print $1; exit}') || true
      [ -n "$primary" ] || sleep 1
    done
    echo "sentinel monitor $set $primary 6379 2"
    echo "sentinel down-after-milliseconds $set 3000"
    echo "sentinel failover-timeout $set 30000"
    echo "sentinel parallel-syncs $set 1"
    echo "sentinel auth-user $set sentinel"
    echo "sentinel auth-pass $set $password"
  done
} > "$conf"
exec redis-server "$conf" --sentinel
