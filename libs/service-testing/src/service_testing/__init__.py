"""Test support for the services: run them as ``nameko run`` processes, isolated in a
throwaway RabbitMQ vhost and Redis key prefix, and the pytest fixtures for service tests.

Empty on purpose: ``service_testing.services`` must import with the standard library
alone (tools/devstack.py reads it before any venv exists), and the pytest plugin must
not import nameko or redis before a test's conftest applies eventlet's monkey-patch.
"""
