#!/bin/bash
# Start one node of the swarm's RabbitMQ cluster (deploy/swarm/stack.yaml); the image's own
# command does the rest. The cluster forms at first start by classic peer discovery
# (rabbitmq-cluster.conf): a node joins the first listed node it reaches, and a node that
# reaches none starts a cluster of its own. So on a first start (no data yet) every node
# but the seed waits until the seed accepts connections; a node with data rejoins its
# cluster from what it remembers, seed or not.
set -euo pipefail
SEED=rabbitmq1
# The cookie the nodes (and the CLI tools) authenticate each other with, from the secret;
# Erlang refuses a cookie file others may read.
rm -f /var/lib/rabbitmq/.erlang.cookie
install -m 0400 /run/secrets/rabbitmq-erlang-cookie /var/lib/rabbitmq/.erlang.cookie
if [ "$(hostname)" != "$SEED" ] && [ ! -d /var/lib/rabbitmq/mnesia ]; then
  # The health probe passes meanwhile, so the node's name resolves for the seed to reach.
  touch /tmp/waiting-for-seed
  echo "waiting for $SEED to accept connections before joining its cluster"
  until (exec 3<>"/dev/tcp/$SEED/5672") 2>/dev/null; do sleep 2; done
  rm -f /tmp/waiting-for-seed
fi
# RabbitMQ 3.10 fixes a quorum queue's members when the queue is declared: one declared
# while this node was not running (before it joined, while it was lost) would lack it
# for good, and the loss of one more node would take the queue's majority. So every
# minute this node adds itself to each quorum queue it is not a member of (the command
# fails, harmlessly, while the node is not running yet).
(
  while sleep 60; do
    /usr/lib/rabbitmq/bin/rabbitmq-queues --quiet grow "rabbit@$(hostname)" all >/dev/null 2>&1 || true
  done
) &
# The image's own command, whose environment file (rabbitmq-env.conf) it reads.
exec /usr/lib/rabbitmq/bin/rabbitmq-server
