# minecs in a container: the controller, the agent or both (`up`), chosen by the command.
#
# Built offline, as an air-gapped user builds it: the wheels are made on the host first
# (scripts/build-image runs `pip wheel`), so nothing is downloaded inside the build. BASE is a
# Python 3.11 image; scripts/build-image makes one with debootstrap when no registry can give it.
#
#   controller (non-root, state in the /var/lib/minecs volume):
#     docker run -d -p 7450:7450 -v minecs:/var/lib/minecs minecs:dev
#   agent (like the ECS agent container: root, the Docker socket, the host's PID namespace so
#   cgroup and process views match the tasks it runs, host networking for published ports):
#     docker run -d --user root --pid host --network host -v /var/run/docker.sock:/var/run/docker.sock \
#       -v /var/lib/minecs/agent:/var/lib/minecs/agent minecs:dev agent --endpoint http://controller:7450 \
#       --token mcr-... --data-dir /var/lib/minecs/agent
ARG BASE=python:3.11-slim

FROM ${BASE} AS builder
COPY build/wheels/ /wheels/
RUN python3 -m venv /opt/minecs/venv \
    && /opt/minecs/venv/bin/pip install --no-cache-dir --no-index --find-links /wheels minecs \
    && find /opt/minecs/venv -name '__pycache__' -prune -exec rm -rf {} +

FROM ${BASE}
ARG VERSION=dev
LABEL org.opencontainers.image.title="minecs" \
      org.opencontainers.image.description="Amazon ECS semantics for your own boxes: controller and agent" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/minecs/minecs"
COPY --from=builder /opt/minecs/venv /opt/minecs/venv
RUN useradd --system --uid 7450 --user-group --home-dir /var/lib/minecs --no-create-home minecs \
    && mkdir -p /var/lib/minecs && chown minecs:minecs /var/lib/minecs
ENV PATH=/opt/minecs/venv/bin:$PATH \
    MINECS_DATA_DIR=/var/lib/minecs \
    MINECS_LOG_FORMAT=json \
    PYTHONDONTWRITEBYTECODE=1
USER minecs
VOLUME ["/var/lib/minecs"]
EXPOSE 7450
# /healthz answers once the controller serves; for the agent command, override or disable it.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python3", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:7450/healthz', timeout=3)"]
ENTRYPOINT ["minecs"]
CMD ["controller", "--listen", "0.0.0.0", "--port", "7450"]
