# What every service image shares: each services/<name>/Dockerfile builds FROM this.
# Build it first, from the repo root (compose.yaml does, as the never-run service
# `service-base` that every service depends on):
#   docker build -f services/base.Dockerfile -t travel/service-base:local .
# It holds Python, the non-root user `app` (uid 10001), a venv with the shared
# packages (contracts, service-runtime) and their pinned dependencies, the health
# probe, the entrypoint and the command, and (ONBUILD, at the end) how a service
# image adds its own package and config. The build context is cut down by
# .dockerignore to the packages and constraints.txt.
# No "# syntax=" line on purpose: it would pull a frontend image (a registry may not be reachable).

ARG PYTHON_IMAGE=python:3.11-slim

# The venv is built in a stage of its own: the final image gets the installed packages,
# never the wheels they came from.
FROM ${PYTHON_IMAGE} AS venv
WORKDIR /src
COPY constraints.txt ./
COPY contracts contracts
COPY libs/service-runtime libs/service-runtime
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir -c constraints.txt ./contracts ./libs/service-runtime \
 && cp constraints.txt /opt/venv/constraints.txt

FROM ${PYTHON_IMAGE}
# No setuid/setgid file is left (su, mount, passwd, ...): a process that gets code
# execution here cannot become root through one, even where no-new-privileges is unset.
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin app \
 && find / -xdev -type f -perm /6000 -exec chmod ug-s {} +
ENV PATH=/opt/venv/bin:$PATH
# The pins stay (/opt/venv/constraints.txt): a service image installs its own package
# against them; the shared packages are already installed, so pip needs no wheels.
COPY --from=venv /opt/venv /opt/venv
COPY services/healthcheck.py services/container_env.py /app/
# Every setting comes from the environment through config.yaml's ${VAR:default};
# in a container the web server (gateway) must listen beyond loopback.
# EVENTLET_NO_GREENDNS: eventlet's green resolver (dnspython) costs ~14 MB per process;
# the runner resolves names with the system resolver off the eventlet hub instead
# (service_runtime.name_lookup), so a vanished name never freezes a process.
# RUNNER starts the service: service_runtime.serve is `nameko run` with the project's
# logging and without nameko's pkg_resources import (about 12 MB less per process); a
# release older than it is built with --build-arg RUNNER=nameko.
ARG RUNNER=service_runtime.serve
ENV RUNNER=${RUNNER} \
    GATEWAY_HOST=0.0.0.0 \
    EVENTLET_NO_GREENDNS=yes
WORKDIR /app
# RPC services must answer their `ping` RPC, the gateway GET /health (healthcheck.py);
# SERVICE and SERVICE_CLASS are each service's own (its Dockerfile).
HEALTHCHECK --interval=5s --timeout=8s --start-period=30s --retries=3 \
    CMD python /app/healthcheck.py /app/config.yaml "$SERVICE"
# Broker credentials from secret files when AMQP_USER_FILE/AMQP_PASSWORD_FILE name them
# (deploy/swarm, deploy/kubernetes); otherwise the environment passes through. It execs
# the command, and the shell execs the service: it ends up as PID 1, so `docker stop`'s
# SIGTERM reaches it and it stops gracefully (running workers finish; unacked messages
# go back).
ENTRYPOINT ["python", "/app/container_env.py"]
CMD ["/bin/sh", "-c", "exec python -m \"$RUNNER\" run --config /app/config.yaml \"$SERVICE_CLASS\""]
# What each service image does first when it builds FROM this base, with its own
# directory (services/<name>) as the context: its package installed from its source
# (the dependencies the base lacks come pinned from PyPI; tests are never copied),
# its config.yaml, and the non-root user it runs as. A top-level `test` or `tests`
# package a dependency puts into site-packages (swagger-ui-py ships one) is removed:
# nothing imports it, and it would shadow the standard library's `test`.
ONBUILD COPY pyproject.toml /src/pyproject.toml
ONBUILD COPY src /src/src
ONBUILD RUN pip install --no-cache-dir -c /opt/venv/constraints.txt /src \
 && site="$(python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')" \
 && rm -rf /src "$site/test" "$site/tests"
ONBUILD COPY config.yaml /app/config.yaml
ONBUILD USER app
