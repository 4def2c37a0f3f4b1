#!/usr/bin/env bash
# Back up the database named by DATABASE_URL (PostgreSQL) to FILE, in pg_dump's custom format.
#   DATABASE_URL=postgres://user@host:5432/backoffice ops/backup.sh /backups/backoffice-$(date +%F).dump
# The dump holds the schema, every row (ledger, history, closes) and the ledger's append-only triggers.
set -euo pipefail
file=${1:?"使い方: ops/backup.sh 出力ファイル"}
url=${DATABASE_URL:?"DATABASE_URL を設定してください（postgres://…）"}
tmp="$file.partial"
pg_dump --format=custom --no-owner --dbname="$url" --file="$tmp"
mv "$tmp" "$file"  # a dump that stopped half-way never takes the name of a good one
echo "バックアップを作成しました: $file（$(stat -c %s "$file") バイト）"
