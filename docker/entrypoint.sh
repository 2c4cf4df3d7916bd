#!/bin/sh
# Entrypoint of the Shopfloor image (docker/Dockerfile).
#
#   migrate     alembic upgrade head + sync roles and permissions (one-shot)
#   web         Reflex frontend + FastAPI backend on one port (default command)
#   worker      RQ worker with the scheduler on; extra arguments name queues
#   scheduler   rq cron (enqueues the periodic jobs of jobs/cron.py)
#   anything else is executed as given, e.g. `bash` or `python -m app.cli demo`
set -e

cd /app

case "${1:-web}" in
  migrate)
    exec python -m app.cli migrate
    ;;
  web)
    if [ $# -gt 0 ]; then shift; fi
    # Production mode: the frontend is compiled and built here (API_URL is baked
    # into the bundle), then served by the backend on the same port. Reflex
    # refuses different frontend and backend ports in prod, so pass one port
    # for both. 0.0.0.0 so the port is reachable from outside the container.
    port="${BACKEND_PORT:-8000}"
    exec reflex run --env prod --single-port \
      --frontend-port "$port" --backend-port "$port" --backend-host 0.0.0.0 \
      --loglevel "${REFLEX_LOGLEVEL:-info}" "$@"
    ;;
  worker)
    shift
    exec python -m jobs.worker "$@"
    ;;
  scheduler)
    shift
    exec rq cron jobs/cron.py --url "${REDIS_URL:?REDIS_URL is not set}" "$@"
    ;;
  *)
    exec "$@"
    ;;
esac
