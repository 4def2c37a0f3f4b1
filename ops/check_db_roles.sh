#!/usr/bin/env bash
# CI: the app runs as a role that owns nothing and may only append to the ledger, the month close, the history
# tables and the auth log. Fresh owner and app roles and a fresh database: migrate as the owner, grant, run the
# back office's real work as the app role (the regulation, the demo's approvals, a login, a month close, its
# report, a reversal), then check as the app role that every way of rewriting the append-only tables fails.
set -euo pipefail
cd "$(dirname "$0")/.."
server=${PG_SERVER_URL:-postgres://postgres@127.0.0.1:5432}
hostport=${server##*@}
owner=dbroles_owner
app=dbroles_app
db=dbroles_check
py=${PYTHON:-.venv/bin/python}
export DJANGO_SETTINGS_MODULE=config.settings.local
work=$(mktemp -d)

admin_sql() { PGOPTIONS="-c client_min_messages=warning" psql "$server/postgres" -qX -v ON_ERROR_STOP=1 "$@"; }
drop_all() { admin_sql -c "DROP DATABASE IF EXISTS $db" -c "DROP ROLE IF EXISTS $app" -c "DROP ROLE IF EXISTS $owner"; }
trap 'rm -rf "$work"; drop_all >/dev/null 2>&1 || true' EXIT
drop_all
admin_sql -c "CREATE ROLE $owner LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS" \
    -c "CREATE ROLE $app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS" \
    -c "CREATE DATABASE $db OWNER $owner"
owner_url="postgres://$owner@$hostport/$db"
app_url="postgres://$app@$hostport/$db"

echo "== as $owner: migrate, grant"
DATABASE_URL=$owner_url $py manage.py migrate -v0 --noinput
grants() {
    psql "$owner_url" -qXAt -c "SELECT table_name, privilege_type FROM information_schema.role_table_grants
        WHERE grantee = '$app' ORDER BY 1, 2"
}
DATABASE_URL=$owner_url $py manage.py db_grant_app_role --role $app
grants > "$work/grants-1.txt"
DATABASE_URL=$owner_url $py manage.py db_grant_app_role --role $app >/dev/null
grants > "$work/grants-2.txt"
diff "$work/grants-1.txt" "$work/grants-2.txt" || { echo "granting again changed the grants" >&2; exit 1; }
if DATABASE_URL=$owner_url $py manage.py db_grant_app_role --role dbroles_missing 2>"$work/err"; then
    echo "granting to a missing role must fail" >&2; exit 1
fi
grep -q "ロール「dbroles_missing」がデータベースサーバーにありません" "$work/err"

echo "== as $app: the back office's real work"
export DATABASE_URL=$app_url
$py manage.py load_regulation >/dev/null
$py manage.py load_demo >/dev/null
last=$(date -d "$(date +%Y-%m-01) -1 day" +%Y-%m)
$py manage.py close_month "$last" | tee "$work/close.txt"
grep -Eq "月額料金 [1-9][0-9]* 行" "$work/close.txt" || { echo "the close wrote no ledger rows" >&2; exit 1; }
# A second close of the month is refused (exit 1), saying it is closed, and writes nothing.
if $py manage.py close_month "$last" >"$work/close2.txt" 2>&1; then
    echo "closing a closed month again was not refused" >&2; exit 1
fi
grep -q "締め済み" "$work/close2.txt"
$py manage.py monthly_report "$last" --format xlsx --output "$work/report.xlsx"
$py manage.py monthly_report "$last" --format csv --output "$work/report.csv"
$py manage.py shell -v0 <<'PY'
from django.contrib.auth import get_user_model
from django.test import Client

from contracts.choices import LedgerKind
from contracts.models import LedgerEntry
from contracts.services import ledger_entry_reverse
from security.models import AuthEvent

# A failed login and a real one through the login page (axes, sessions, the auth log), a page, a logout.
before = AuthEvent.objects.count()
client = Client(HTTP_HOST="localhost")
client.post("/accounts/login/", {"username": "keiri", "password": "wrong"})
assert client.post("/accounts/login/", {"username": "keiri", "password": "demo-pass-2026"}).status_code == 302
assert client.get("/").status_code == 200
client.post("/accounts/logout/")
assert AuthEvent.objects.count() >= before + 3, "the auth log did not grow"

# A manual reversal of a month-close row (a ledger read, an INSERT into the ledger and its history).
entry = LedgerEntry.objects.filter(kind=LedgerKind.MONTHLY_CHARGE, reverses__isnull=True).order_by("pk").first()
reversal = ledger_entry_reverse(
    entry=entry, reason="ロール確認のための取消", actor=get_user_model().objects.get(username="admin")
)
print(f"logins and logouts logged; ledger #{entry.pk} reversed by #{reversal.pk}")
PY
$py manage.py clearsessions

q() { psql "$app_url" -qXAt -v ON_ERROR_STOP=1 -c "$1"; }
echo "== as $app: the append-only tables were written"
counts=$(q "SELECT (SELECT count(*) FROM contracts_ledgerentry) || ' ledger, '
    || (SELECT count(*) FROM contracts_historicalledgerentry) || ' ledger history, '
    || (SELECT count(*) FROM contracts_monthclose) || ' month close, '
    || (SELECT count(*) FROM contracts_historicalapplication WHERE status = 'approved') || ' approvals in history, '
    || (SELECT count(*) FROM security_authevent) || ' auth events'")
echo "$counts"
q "SELECT 1 FROM contracts_monthclose HAVING count(*) = 1" | grep -q 1
q "SELECT 1 FROM contracts_historicalapplication WHERE status = 'approved' HAVING count(*) > 0" | grep -q 1
q "SELECT 1 FROM security_authevent HAVING count(*) > 0" | grep -q 1
q "SELECT 1 FROM contracts_ledgerentry WHERE reverses_id IS NOT NULL HAVING count(*) > 0" | grep -q 1

echo "== as $app: every way of rewriting them must fail"
mapfile -t tables < <(DATABASE_URL=$owner_url $py manage.py shell -v0 -c \
    "from security.dbroles import append_only_tables; print(*append_only_tables(), sep='\n')")
[ "${#tables[@]}" -gt 20 ] || { echo "too few append-only tables declared: ${#tables[@]}" >&2; exit 1; }
refused=0
unexpected=()
must_fail() {  # description, SQL: refused for want of a privilege (SQLSTATE 42501), not for any other reason
    if psql "$app_url" -qX -v ON_ERROR_STOP=1 -v VERBOSITY=sqlstate -c "$2" >/dev/null 2>"$work/err"; then
        unexpected+=("$1")
        echo "UNEXPECTED SUCCESS: $1" >&2
    elif ! grep -q "42501" "$work/err"; then
        unexpected+=("$1 (failed, but not for want of a privilege: $(tr '\n' ' ' < "$work/err"))")
        echo "FAILED FOR ANOTHER REASON: $1: $(cat "$work/err")" >&2
    else
        refused=$((refused + 1))
    fi
}
for t in "${tables[@]}"; do
    column=$(q "SELECT attname FROM pg_attribute WHERE attrelid = '$t'::regclass AND attnum = 1")
    must_fail "UPDATE $t" "UPDATE $t SET $column = $column"
    must_fail "DELETE $t" "DELETE FROM $t"
    must_fail "TRUNCATE $t" "TRUNCATE $t"
    must_fail "SELECT ... FOR UPDATE $t" "SELECT 1 FROM $t FOR UPDATE"
    must_fail "ALTER TABLE $t DISABLE TRIGGER" "ALTER TABLE $t DISABLE TRIGGER ALL"
done
ledger=contracts_ledgerentry
must_fail "DROP TRIGGER on the ledger" "DROP TRIGGER contracts_ledgerentry_no_update_delete ON $ledger"
must_fail "DROP TRIGGER on the auth log" "DROP TRIGGER security_authevent_no_update_delete ON security_authevent"
must_fail "ALTER TABLE ledger OWNER TO app" "ALTER TABLE $ledger OWNER TO $app"
must_fail "DROP TABLE ledger" "DROP TABLE $ledger"
must_fail "SET session_replication_role = replica" "SET session_replication_role = replica"
must_fail "maintenance flag + DELETE ledger" \
    "BEGIN; SET LOCAL backoffice.ledger_maintenance = 'on'; DELETE FROM $ledger; COMMIT;"
must_fail "maintenance flag + UPDATE ledger" \
    "BEGIN; SET LOCAL backoffice.ledger_maintenance = 'on'; UPDATE $ledger SET amount_yen = 0; COMMIT;"
must_fail "maintenance flag + DELETE auth log" \
    "BEGIN; SET LOCAL backoffice.auth_log_maintenance = 'on'; DELETE FROM security_authevent; COMMIT;"
must_fail "CREATE TABLE in public" "CREATE TABLE public.dbroles_probe (id int)"
must_fail "CREATE FUNCTION in public" "CREATE FUNCTION public.dbroles_probe() RETURNS int LANGUAGE sql AS 'SELECT 1'"
must_fail "GRANT UPDATE on the ledger to itself" "SET client_min_messages = error; GRANT UPDATE ON $ledger TO $app;
    DO \$\$ BEGIN IF NOT has_table_privilege('$ledger', 'UPDATE') THEN
    RAISE EXCEPTION 'not granted' USING ERRCODE = 'insufficient_privilege'; END IF; END \$\$"
must_fail "LOCK TABLE ledger IN SHARE ROW EXCLUSIVE MODE (directly)" \
    "BEGIN; LOCK TABLE $ledger IN SHARE ROW EXCLUSIVE MODE; ROLLBACK;"
must_fail "lock a table outside public" "SELECT contracts_lock_share_row_exclusive(ARRAY['pg_class'::regclass])"
# The month-close lock function is the one door, and it only locks (it ran in close_month above).
psql "$app_url" -qX -v ON_ERROR_STOP=1 \
    -c "BEGIN; SELECT contracts_lock_share_row_exclusive(ARRAY['$ledger'::regclass]); ROLLBACK;" >/dev/null

if [ "${#unexpected[@]}" -gt 0 ]; then
    echo "db roles: ${#unexpected[@]} statement(s) the app role must not be able to run succeeded:" >&2
    printf '  %s\n' "${unexpected[@]}" >&2
    exit 1
fi
echo "db roles: as the app role: regulation, demo approvals, login, month close $last, reports, a reversal"
echo "db roles: $refused forbidden statements refused on ${#tables[@]} append-only tables (UPDATE, DELETE, TRUNCATE,"
echo "  FOR UPDATE, DISABLE/DROP TRIGGER, session_replication_role, the maintenance flags, CREATE in public)"
