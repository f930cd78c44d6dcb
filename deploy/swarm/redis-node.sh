#!/bin/sh
# Start one Redis of a replicated set (deploy/swarm/stack.yaml: redis-<set>-<slot>): as
# the replica of the primary the Sentinels name, or, when none answers, slot 1 as the
# primary and the others as its replicas (the set's first start). Asking first keeps a
# returning old primary from starting as a second primary. Replicas log in to their
# primary as `replica` (tools/credentials.py).
set -eu

ask_sentinels() {
  for sentinel in redis-sentinel-1 redis-sentinel-2 redis-sentinel-3; do
    primary=$(timeout 3 redis-cli -h "$sentinel" -p 26379 sentinel get-master-addr-by-name "$REDIS_SET" 2>/dev/null | head -n 1) || primary=""
    [ -n "$primary" ] && return 0
  done
  return 1
}

primary=""
if [ -d /data/appendonlydir ]; then
  # A restart, with data: the Sentinels know who the primary is now, and on a machine
  # that has just returned their names may take a few seconds to resolve. Only a whole
  # set starting again at once (its Sentinels too) finds none within the minute.
  give_up=$(($(date +%s) + 60))
  until ask_sentinels || [ "$(date +%s)" -ge "$give_up" ]; do sleep 2; done
else
  ask_sentinels || true
fi
if [ -z "$primary" ] && [ "$REDIS_SLOT" != 1 ]; then
  primary="redis-$REDIS_SET-1"
fi
set -- redis-server /usr/local/etc/redis/redis.conf --bind 0.0.0.0 --protected-mode no \
  --masteruser replica --masterauth "$(cat /run/secrets/redis-replica-password)"
if [ -n "$primary" ] && ! hostname -i | tr ' ' '\n' | grep -qx "$primary"; then
  set -- "$@" --replicaof "$primary" 6379
fi
exec "$@"
