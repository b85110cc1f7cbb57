# Build stage: turn the source into a wheel, with the build tools kept out of the final image.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md constraints.txt ./
COPY worker ./worker
# Every dependency at the version in constraints.txt, the one CI tests with.
RUN pip wheel --no-cache-dir -c constraints.txt --wheel-dir /wheels .

# Runtime stage: the wheel and its dependencies, a non-root user, no secrets.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    RECOVERY_WORKER_STORE__URL=sqlite:////data/recovery-worker.db \
    RECOVERY_WORKER_HEALTH__HOST=0.0.0.0 \
    RECOVERY_WORKER_HEALTH__PORT=8089 \
    RECOVERY_WORKER_LOG__FORMAT=json
RUN groupadd --system --gid 10001 worker \
    && useradd --system --uid 10001 --gid worker --home-dir /data --shell /usr/sbin/nologin worker \
    && mkdir -p /data /etc/recovery-worker \
    && chown worker:worker /data
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index /wheels/*.whl && rm -rf /wheels
USER worker
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8089
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os,sys,urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('RECOVERY_WORKER_HEALTH__PORT', '8089'), timeout=4).status == 200 else 1)"]
ENTRYPOINT ["recovery-worker", "run"]
