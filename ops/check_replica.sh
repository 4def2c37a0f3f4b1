#!/usr/bin/env bash
# CI: a real streaming replica of the 5432 cluster, and the report and export tests against it.
#
# pg_basebackup copies the primary into a second cluster (Debian's `replica` cluster, port 5433) that starts as a
# hot standby streaming from the primary; the tests then run with DATABASE_REPLICA_URL pointing at it
# (core/db_router.py: report and export reads there, everything else on the primary; tests/test_replica.py proves
# the reads reached a server in recovery and the writes the primary). Idempotent: a standby left by an earlier run
# is started and reused if it streams again, rebuilt if it cannot (WAL it needs already recycled). The standby is
# stopped at the end, whatever the outcome. Needs root (it edits the primary's pg_hba.conf and runs the clusters as
# the postgres user).
set -euo pipefail
cd "$(dirname "$0")/.."
primary_port=${PRIMARY_PORT:-5432}
replica_port=${REPLICA_PORT:-5433}
version=$(pg_lsclusters -h | awk -v p="$primary_port" '$3 == p { print $1; exit }')
[ -n "$version" ] || { echo "no PostgreSQL cluster listens on port $primary_port" >&2; exit 1; }
name=replica
primary_conf=$(pg_lsclusters -h | awk -v p="$primary_port" '$3 == p { print "/etc/postgresql/" $1 "/" $2; exit }')
replica_conf=/etc/postgresql/$version/$name
data=/var/lib/postgresql/$version/$name
py=${PYTHON:-.venv/bin/python}

log() { printf '== %s\n' "$*"; }
q() { psql "host=127.0.0.1 port=$1 user=postgres dbname=postgres" -qXAt -c "$2"; }
standby_streams() {  # the standby is up, in recovery, and its WAL receiver streams from the primary
    [ "$(q "$replica_port" "SELECT pg_is_in_recovery() AND EXISTS (SELECT FROM pg_stat_wal_receiver
        WHERE status = 'streaming')" 2>/dev/null)" = t ]
}
wait_for() {  # seconds, command...: true as soon as the command succeeds
    local seconds=$1; shift
    for _ in $(seq 1 $((seconds * 5))); do "$@" && return 0; sleep 0.2; done
    return 1
}
# A physical replication slot keeps the WAL the standby still needs on the primary while the checks run (others may
# write gigabytes of WAL meanwhile); it is dropped with the standby's stop, so that a stopped standby never makes the
# primary keep WAL. A standby restarted later then streams again only if the primary still has its WAL.
slot=ci_replica
drop_slot() {  # once the standby's connection has gone (it is active until then)
    for _ in $(seq 1 50); do
        [ "$(q "$primary_port" "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '$slot'")" = 0 ] && return
        q "$primary_port" "SELECT pg_drop_replication_slot('$slot')" >/dev/null 2>&1 || sleep 0.2
    done
}
stop_standby() {
    pg_ctlcluster --skip-systemctl-redirect "$version" "$name" stop -m fast >/dev/null 2>&1 || true
    drop_slot
}
trap stop_standby EXIT

# The primary: WAL fit for a standby (PostgreSQL's default, wal_level = replica) and replication connections from
# 127.0.0.1 (a pg_hba line of their own, first so no earlier line refuses them; added once).
[ "$(q "$primary_port" 'SHOW wal_level')" != minimal ] || { echo "wal_level = minimal: no standby can follow" >&2; exit 1; }
hba_line="host replication all 127.0.0.1/32 trust"
if ! grep -qxF "$hba_line" "$primary_conf/pg_hba.conf"; then
    log "allowing replication connections from 127.0.0.1 on the primary"
    sed -i "1i $hba_line" "$primary_conf/pg_hba.conf"
    q "$primary_port" "SELECT pg_reload_conf()" >/dev/null
fi

standby_conf() {  # the standby's own settings, written on every run (a reused standby gets today's)
    # hot_standby_feedback: the primary's VACUUM keeps the rows a long export on the standby still reads, instead of
    # the standby cancelling that export after max_standby_streaming_delay.
    cat > "$replica_conf/conf.d/90-replica.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $replica_port
hot_standby = on
hot_standby_feedback = on
primary_slot_name = '$slot'
# A throw-away copy for CI: no fsync, so that starting it does not first sync the whole copied data directory.
fsync = off
EOF
    printf 'local all all trust\nhost all all 127.0.0.1/32 trust\n' > "$replica_conf/pg_hba.conf"
}

reused=""
if [ -d "$replica_conf" ]; then
    log "starting the standby left by an earlier run"
    log_file=/var/log/postgresql/postgresql-$version-$name.log
    seen=$(stat -c %s "$log_file" 2>/dev/null || echo 0)  # only what this start logs counts below
    standby_conf
    q "$primary_port" "SELECT pg_create_physical_replication_slot('$slot', true) WHERE NOT EXISTS
        (SELECT FROM pg_replication_slots WHERE slot_name = '$slot')" >/dev/null
    # Not waiting for pg_ctl: a standby whose WAL is gone never becomes ready; the loop below sees why.
    pg_ctlcluster --skip-systemctl-redirect "$version" "$name" start -- -W >/dev/null 2>&1 \
        || pg_ctlcluster --skip-systemctl-redirect "$version" "$name" reload >/dev/null 2>&1 || true
    for _ in $(seq 1 300); do  # streaming again, or the primary no longer has the WAL it needs (then: rebuild)
        if standby_streams; then reused=1; break; fi
        if tail -c +"$((seen + 1))" "$log_file" 2>/dev/null | grep -q "has already been removed"; then break; fi
        sleep 0.2
    done
fi
if [ -z "$reused" ]; then
    log "building the standby: pg_basebackup of port $primary_port into $data (port $replica_port)"
    stop_standby
    q "$primary_port" "SELECT pg_create_physical_replication_slot('$slot', true)" >/dev/null
    pg_dropcluster "$version" "$name" >/dev/null 2>&1 || true
    pg_createcluster "$version" "$name" -p "$replica_port" >/dev/null
    rm -rf "$data"
    install -d -o postgres -g postgres -m 700 "$data"
    # -R writes standby.signal and primary_conninfo: the copy starts as a standby of the primary.
    runuser -u postgres -- pg_basebackup -h 127.0.0.1 -p "$primary_port" -U postgres -D "$data" -X stream -R -c fast --no-sync
    standby_conf
    pg_ctlcluster --skip-systemctl-redirect "$version" "$name" start -- -W
    wait_for 300 standby_streams || { echo "the standby on port $replica_port does not stream" >&2; exit 1; }
fi
wait_for 30 pg_isready -h 127.0.0.1 -p "$replica_port" -q
caught_up() {  # the primary's WAL sender for the slot has left "catchup"
    [ "$(q "$primary_port" "SELECT r.state FROM pg_stat_replication r JOIN pg_replication_slots s
        ON s.active_pid = r.pid WHERE s.slot_name = '$slot'")" = streaming ]
}
wait_for 300 caught_up || { echo "the standby has not caught up with the primary in 300 s" >&2; exit 1; }
[ "$(q "$replica_port" "SELECT pg_is_in_recovery()")" = t ] || { echo "port $replica_port is not a standby" >&2; exit 1; }
if q "$replica_port" "CREATE TABLE replica_write_probe (id int)" 2>/dev/null; then
    echo "the standby accepted a write" >&2; exit 1
fi
log "standby on port $replica_port streams from port $primary_port: $(q "$primary_port" \
    "SELECT state || ', replayed up to ' || replay_lsn FROM pg_stat_replication LIMIT 1")"

# The report and export tests, reading on the standby. tests/test_replica.py commits on the primary, waits for
# replay and proves each read reached a server in recovery; the others show nothing else changes with a replica.
log "report and export tests with DATABASE_REPLICA_URL"
DATABASE_URL="postgres://postgres@127.0.0.1:$primary_port/backoffice_replica_ci" \
DATABASE_REPLICA_URL="postgres://postgres@127.0.0.1:$replica_port/backoffice_replica_ci" \
REQUIRE_POSTGRES=1 $py -m pytest -q -p no:cacheprovider \
    tests/test_replica.py tests/test_views_reports.py tests/contracts/test_report_exports.py
log "replica check passed; stopping the standby"
