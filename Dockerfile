# errdesk: the Slack app as a container. Build: docker build -t errdesk .
# The Python version is a build argument (--build-arg PYTHON_VERSION=3.11 for an older base).
ARG PYTHON_VERSION=3.12

# Builder: the locked dependencies (lock/runtime.txt, every file checked against its hash) go into
# a virtual environment that the runtime stage copies whole; the locked build backend
# (lock/build.txt, in a venv of its own) turns the checkout into one wheel, knowledge included,
# installed into that environment without resolving anything again. Two builds of one commit
# install the same files.
FROM python:${PYTHON_VERSION}-slim AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
COPY lock/runtime.txt lock/build.txt ./lock/
RUN python3 -m venv /opt/errdesk \
 && /opt/errdesk/bin/pip install --require-hashes -r lock/runtime.txt \
 && python3 -m venv /opt/build \
 && /opt/build/bin/pip install --require-hashes -r lock/build.txt
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY knowledge ./knowledge
RUN /opt/build/bin/pip wheel --no-deps --no-build-isolation -w /dist . \
 && /opt/errdesk/bin/pip install --no-deps /dist/*.whl

# Runtime: the slim base, the virtual environment, an unprivileged user. No tokens are baked in:
# SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN) come from the environment.
FROM python:${PYTHON_VERSION}-slim
ENV PATH=/opt/errdesk/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PORT=3000
RUN groupadd --system --gid 10001 errdesk \
 && useradd --system --uid 10001 --gid errdesk --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin errdesk
COPY --from=builder /opt/errdesk /opt/errdesk
USER 10001:10001
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python3", "-c", "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\", \"3000\")}/healthz', timeout=4)"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["errdesk"]
CMD ["serve"]
