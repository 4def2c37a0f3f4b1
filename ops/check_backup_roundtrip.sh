#!/usr/bin/env bash
# CI: a book with a closed month, backed up and restored into a new database, must come back identical:
# the same row counts, the same ledger sums and the same checksum of every table's rows.
set -euo pipefail
cd "$(dirname "$0")/.."
server=${PG_SERVER_URL:-postgres://postgres@127.0.0.1:5432}
source_db=backoffice_backup_src
target_db=backoffice_backup_dst
work=$(mktemp -d)
trap 'rm -rf "$work"; psql "$server/postgres" -qc "DROP DATABASE IF EXISTS $source_db" -qc "DROP DATABASE IF EXISTS $target_db" >/dev/null 2>&1 || true' EXIT
psql "$server/postgres" -qc "DROP DATABASE IF EXISTS $source_db" -qc "DROP DATABASE IF EXISTS $target_db" -qc "CREATE DATABASE $source_db"
export DATABASE_URL="$server/$source_db"
py=.venv/bin/python
$py manage.py migrate -v0 --noinput
$py manage.py load_regulation >/dev/null
$py manage.py load_demo >/dev/null
last=$(date -d "$(date +%Y-%m-01) -1 day" +%Y-%m)
$py manage.py close_month "$last"

ops/backup.sh "$work/book.dump"
TARGET_DATABASE_URL="$server/$target_db" ops/restore.sh "$work/book.dump"
if TARGET_DATABASE_URL="$server/$target_db" ops/restore.sh "$work/book.dump" 2>/dev/null; then
    echo "restore over an existing database must be refused" >&2; exit 1
fi

fingerprint() {  # one line per table: name, row count, md5 of its rows in primary-key order; then ledger sums
    psql "$1" -At <<'SQL'
SELECT string_agg(format('SELECT %L || '' '' || count(*) || '' '' || coalesce(md5(string_agg(t::text, ''|'' ORDER BY t::text)), '''') FROM %I t', tablename, tablename), ' UNION ALL ')
FROM pg_tables WHERE schemaname = 'public' \gset
:string_agg
SQL
    psql "$1" -At -c "SELECT kind, count(*), sum(amount_yen) FROM contracts_ledgerentry GROUP BY kind ORDER BY kind"
}
fingerprint "$server/$source_db" | sort > "$work/source.txt"
fingerprint "$server/$target_db" | sort > "$work/target.txt"
[ "$(wc -l < "$work/source.txt")" -gt 20 ] || { echo "too few tables fingerprinted" >&2; exit 1; }
grep -q "^contracts_ledgerentry [1-9]" "$work/source.txt" || { echo "the book has no ledger rows" >&2; exit 1; }
diff "$work/source.txt" "$work/target.txt"
# The append-only guard came back with the data.
if psql "$server/$target_db" -qc "UPDATE contracts_ledgerentry SET amount_yen = 0" 2>/dev/null; then
    echo "the restored ledger accepted an UPDATE" >&2; exit 1
fi
echo "backup round trip: $(wc -l < "$work/source.txt") tables and ledger sums identical"
