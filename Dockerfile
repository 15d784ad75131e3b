# windvane over Streamable HTTP: MCP at /mcp, health at /healthz.
#   docker build -t windvane .
#   docker run -p 8000:8000 -e WINDVANE_HTTP_TOKEN=$(openssl rand -hex 32) -v windvane-data:/data windvane
# Bound to 0.0.0.0, windvane refuses to start without WINDVANE_HTTP_TOKEN (exit 2): pass one.

FROM python:3.12-slim AS builder
WORKDIR /src
COPY . .
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.12-slim
RUN useradd --uid 10001 --no-create-home --shell /usr/sbin/nologin windvane \
    && mkdir /data && chown 10001:10001 /data
COPY --from=builder /wheels /wheels
RUN pip install --no-cache-dir --no-index /wheels/*.whl && rm -rf /wheels
# The windvane user has no home: matplotlib (chart=true) keeps its font cache in /tmp instead of warning about it.
ENV WINDVANE_DB_PATH=/data/windvane.sqlite3 \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    MPLCONFIGDIR=/tmp/matplotlib
VOLUME /data
USER 10001
EXPOSE 8000
# The slim image has no curl: the standard library asks /healthz (200 once serving, also while an upstream is down).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"]
ENTRYPOINT ["windvane"]
CMD ["serve", "--transport", "http", "--host", "0.0.0.0", "--port", "8000"]
