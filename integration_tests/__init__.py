"""Integration tests: every service as its own process or container, real brokers.

Docker mode (a Docker engine answers): RabbitMQ and Redis run in containers this run
starts, and the compose test brings up the whole stack. Local mode (no engine, never
in CI): the local RabbitMQ and Redis named by TEST_AMQP_URI / TEST_RABBIT_API_URI /
TEST_REDIS_URL, isolated in a vhost of this run and a key prefix per test.
"""
