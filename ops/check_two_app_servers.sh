#!/usr/bin/env bash
# CI: two app servers behind one address, on one PostgreSQL database, share sessions, lockouts and the task queue.
#
# A fresh database (migrated, the regulation, the demo back office), two gunicorn instances of the production
# settings on two ports with the same secret key, and one `db_worker`. ops/two_app_servers.py then logs in on A
# through the real login page and uses that cookie on B (a page needing a permission, a registration, a refusal),
# locks a username by failures on A and is refused on B, and queues a month close on A that the worker runs and B
# reports done. Fails with the step that failed; stops every process it started and drops the database.
set -euo pipefail
cd "$(dirname "$0")/.."
server=${PG_SERVER_URL:-postgres://postgres@127.0.0.1:5432}
db=backoffice_two_servers
port_a=${PORT_A:-18101}
port_b=${PORT_B:-18102}
py=${PYTHON:-.venv/bin/python}
work=$(mktemp -d)
pids=()

cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    psql "$server/postgres" -qXc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
PGOPTIONS="-c client_min_messages=warning" psql "$server/postgres" -qX -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"

# What every app server and worker of one installation shares: the database and the secret key; behind the load
# balancer (one proxy: X-Forwarded-For, X-Forwarded-Proto), the HTTPS redirect is the proxy's.
export DJANGO_SETTINGS_MODULE=config.settings.production
export DATABASE_URL="$server/$db"
DJANGO_SECRET_KEY=$($py -c "import secrets; print(secrets.token_urlsafe(50))")
export DJANGO_SECRET_KEY
export DJANGO_ALLOWED_HOSTS=backoffice.test DJANGO_TRUSTED_PROXY_COUNT=1 DJANGO_SECURE_SSL_REDIRECT=0 LOG_LEVEL=WARNING

echo "== database $db: migrate, regulation, demo"
# The demo (its staff share a published password) is refused by the production settings: it is loaded as `make run`
# does; the servers and the worker then run as production.
DJANGO_SETTINGS_MODULE=config.settings.local $py manage.py migrate -v0 --noinput
DJANGO_SETTINGS_MODULE=config.settings.local $py manage.py load_regulation >/dev/null
DJANGO_SETTINGS_MODULE=config.settings.local $py manage.py load_demo >/dev/null
$py manage.py collectstatic -v0 --noinput

for port in "$port_a" "$port_b"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "port $port is already in use" >&2; exit 1; fi
    .venv/bin/gunicorn config.wsgi --workers 2 --bind "127.0.0.1:$port" --access-logfile - \
        >"$work/gunicorn-$port.log" 2>&1 &
    pids+=($!)
done
$py manage.py db_worker --no-reload --no-startup-delay --interval 0.5 >"$work/worker.log" 2>&1 &
pids+=($!)

ready() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for port in "$port_a" "$port_b"; do
    for _ in $(seq 1 150); do ready "$port" && break; sleep 0.2; done
    ready "$port" || { echo "gunicorn on port $port did not start:" >&2; cat "$work/gunicorn-$port.log" >&2; exit 1; }
done
echo "== app servers A (port $port_a) and B (port $port_b), one worker"

month=$(date -d "$(date +%Y-%m-01) -1 day" +%Y-%m)
if ! $py ops/two_app_servers.py "http://127.0.0.1:$port_a" "http://127.0.0.1:$port_b" "$month"; then
    for log in "$work"/*.log; do echo "--- $log" >&2; tail -n 20 "$log" >&2; done
    exit 1
fi
echo "two app servers: sessions, lockouts and the task queue are shared"
