#!/usr/bin/env bash
# Restore drill: back up the database (pg_dump, custom format), restore the dump into a
# scratch database, and check that every table holds as many rows there as in the backup.
#
#   scripts/restore_drill.sh DATABASE_URL [DUMP_FILE]
#
# The row counts of the source are read in the very snapshot pg_dump copies (an exported
# snapshot), so the drill is exact on a live database too. The dump is kept (it is a real
# backup: DUMP_FILE, or restore-drill-<db>-<UTC time>.dump here); the scratch database
# (SCRATCH_DATABASE, default <db>_restore_drill) is dropped at the end unless KEEP_SCRATCH=1.
# Needs pg_dump, pg_restore and psql of the server's major version or newer, and a role
# that may CREATE DATABASE. Prints no row of data, only table names and counts.
set -euo pipefail

if [[ $# -lt 1 ]]; then
  echo "usage: $0 DATABASE_URL [DUMP_FILE]" >&2
  exit 2
fi
# psql and pg_dump take postgresql:// URLs; the app also accepts these spellings.
source_url=$1
for prefix in "postgresql+psycopg://" "postgres://"; do
  if [[ $source_url == "$prefix"* ]]; then
    source_url="postgresql://${source_url#"$prefix"}"
  fi
done
url_without_query=${source_url%%\?*}
query=""
if [[ $source_url == *\?* ]]; then query="?${source_url#*\?}"; fi
database=${url_without_query##*/}
scratch=${SCRATCH_DATABASE:-${database}_restore_drill}
if [[ ! $scratch =~ ^[A-Za-z0-9_]+$ ]]; then
  echo "restore drill: the scratch database name must be letters, digits and _" >&2
  exit 2
fi
scratch_url="${url_without_query%/*}/${scratch}${query}"
dump=${2:-restore-drill-${database}-$(date -u +%Y%m%dT%H%M%SZ).dump}
counts_sql="SELECT string_agg(format('SELECT %L AS name, count(*) AS n FROM %I.%I',
  tablename, schemaname, tablename), ' UNION ALL ' ORDER BY tablename)
  FROM pg_tables WHERE schemaname = current_schema()"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

row_counts() {  # the table counts of the database at $1, in the current snapshot
  local statement
  statement=$(psql -X -q -At -d "$1" -c "$counts_sql")
  psql -X -q -At -F ' ' -d "$1" -c "$statement ORDER BY name"
}

# One session holds a repeatable-read snapshot; pg_dump copies exactly that snapshot, and
# the counts are read in it too.
coproc SNAPSHOT { psql -X -q -At -d "$source_url"; }
echo "BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT pg_export_snapshot();" >&"${SNAPSHOT[1]}"
read -r snapshot <&"${SNAPSHOT[0]}"
pg_dump --format=custom --no-owner --no-privileges --snapshot="$snapshot" \
  --file="$dump" --dbname="$source_url"
statement=$(psql -X -q -At -d "$source_url" -c "$counts_sql")
echo "$statement ORDER BY name; SELECT 'end-of-counts';" >&"${SNAPSHOT[1]}"
while read -r line <&"${SNAPSHOT[0]}"; do
  [[ $line == end-of-counts ]] && break
  echo "${line/|/ }"
done >"$work/source"
echo "COMMIT;" >&"${SNAPSHOT[1]}"
exec {SNAPSHOT[1]}>&-
wait "$SNAPSHOT_PID"

psql -X -q -d "$source_url" -c "SET client_min_messages = warning" \
  -c "DROP DATABASE IF EXISTS \"$scratch\"" >/dev/null
psql -X -q -d "$source_url" -c "CREATE DATABASE \"$scratch\" TEMPLATE template0" >/dev/null
started=$(date +%s)
pg_restore --no-owner --no-privileges --exit-on-error --dbname="$scratch_url" "$dump"
restore_seconds=$(($(date +%s) - started))
row_counts "$scratch_url" >"$work/restored"
if [[ ${KEEP_SCRATCH:-0} != 1 ]]; then
  psql -X -q -d "$source_url" -c "DROP DATABASE \"$scratch\"" >/dev/null
fi

tables=$(wc -l <"$work/source")
rows=$(awk '{ total += $2 } END { print total + 0 }' "$work/source")
if ! diff -u --label backup --label restored "$work/source" "$work/restored"; then
  echo "restore drill FAILED: row counts differ (table count)" >&2
  exit 1
fi
echo "restore drill passed: $tables tables, $rows rows, row counts match;" \
  "restored in ${restore_seconds}s from $dump ($(du -h "$dump" | cut -f1))"
