#!/usr/bin/env bash
# Restore FILE (made by ops/backup.sh) into a NEW database named by TARGET_DATABASE_URL; never over a live one.
#   TARGET_DATABASE_URL=postgres://user@host:5432/backoffice_restored ops/restore.sh backoffice.dump
# The target database must not exist: it is created here, empty, and the dump restored in one transaction.
set -euo pipefail
file=${1:?"使い方: ops/restore.sh バックアップファイル"}
url=${TARGET_DATABASE_URL:?"TARGET_DATABASE_URL を設定してください（新しいデータベースの postgres://…）"}
[ -f "$file" ] || { echo "バックアップファイルがありません: $file" >&2; exit 1; }
name=${url##*/}; name=${name%%\?*}
server=${url%/*}/postgres
if [ "$(psql "$server" -Atc "SELECT 1 FROM pg_database WHERE datname = '$name'")" = "1" ]; then
    echo "データベース「$name」は既にあります。復元は新しいデータベースにだけ行います。" >&2
    exit 1
fi
psql "$server" -qc "CREATE DATABASE \"$name\""
pg_restore --no-owner --exit-on-error --single-transaction --dbname="$url" "$file"
echo "復元しました: $file → $name"
