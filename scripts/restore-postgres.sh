#!/usr/bin/env bash
# Restore a dump written by backup-postgres.sh into a named database. Run with --help.
set -euo pipefail

readonly SCRIPT_NAME="restore-postgres"

usage() {
  cat <<'USAGE'
Usage: restore-postgres.sh [--force] [--from DESTINATION] [--prefix NAME] DUMP TARGET_DATABASE
       restore-postgres.sh --list [--from DESTINATION] [--prefix NAME]

Restores a pg_dump custom-format archive written by backup-postgres.sh into TARGET_DATABASE,
creating the database when it does not exist, then prints the row count of every table.

  DUMP              s3://bucket/prefix/NAME-YYYYmmddTHHMMSSZ.dump, a local file path, or
                    "latest" for the newest dump in DESTINATION
  TARGET_DATABASE   database to restore into
  --from DEST       where --list and "latest" look: s3://bucket[/prefix] or a directory
                    (default: $BACKUP_DESTINATION)
  --prefix NAME     only consider dumps named NAME-*.dump (default: $BACKUP_NAME_PREFIX, or all)
  --force           restore even though TARGET_DATABASE already has tables: objects in the dump
                    are dropped and recreated; tables that are not in the dump are left alone
  --list            print the dumps in DESTINATION, oldest first, and exit
  -h, --help        print this text

Connection: the libpq variables PGHOST, PGPORT, PGUSER, PGPASSWORD or PGPASSFILE, PGSSLMODE.
RESTORE_MAINTENANCE_DB names the database used to look for and create the target (default
postgres).
The role needs CREATEDB to create a missing database. Objects are owned by that role
(--no-owner) and privileges are not restored (--no-privileges), which suits a fresh database
on another server; restore as the role the engine connects with. The restore runs in one
transaction: on any error nothing is kept.
USAGE
}

log() { printf '%s: %s\n' "${SCRIPT_NAME}" "$*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}
usage_error() {
  log "ERROR: $*"
  log "run with --help for usage"
  exit 2
}

readonly DUMP_NAME_PATTERN='^[A-Za-z0-9_.-]+-[0-9]{8}T[0-9]{6}Z\.dump$'

# Prints dump file names found in a destination, oldest first. The timestamp, not the prefix,
# decides the order so that several databases can share one destination.
list_dumps() {
  local destination="$1" prefix="$2" names file
  case "${destination}" in
    s3://?*)
      # `aws s3 ls` also exits non-zero when the prefix holds no object at all.
      names="$(aws s3 ls "${destination}/" | awk '{ print $4 }')" ||
        die "cannot list ${destination}/ (empty, or the role lacks s3:ListBucket)"
      ;;
    /*)
      [[ -d "${destination}" ]] || die "backup directory ${destination} does not exist"
      # A glob rather than find -printf, which busybox-based images lack.
      names=""
      for file in "${destination}"/*.dump; do
        if [[ -f "${file}" ]]; then names+="${file##*/}"$'\n'; fi
      done
      ;;
    *) usage_error "--from/BACKUP_DESTINATION must be s3://bucket[/prefix] or an absolute path" ;;
  esac
  # Sort key first (the timestamp: the last 21 characters), then the name.
  printf '%s\n' "${names}" |
    { grep -E "${DUMP_NAME_PATTERN}" || true; } |
    awk -v prefix="${prefix:+${prefix}-}" '
      prefix == "" || index($0, prefix) == 1 { print substr($0, length($0) - 20) " " $0 }' |
    sort | cut -d' ' -f2
}

force=false
list_only=false
from="${BACKUP_DESTINATION:-}"
prefix="${BACKUP_NAME_PREFIX:-}"
positional=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    -h | --help)
      usage
      exit 0
      ;;
    --force) force=true ;;
    --list) list_only=true ;;
    --from)
      [[ $# -ge 2 ]] || usage_error "--from needs a destination"
      from="$2"
      shift
      ;;
    --prefix)
      [[ $# -ge 2 ]] || usage_error "--prefix needs a name"
      prefix="$2"
      shift
      ;;
    --) shift && positional+=("$@") && break ;;
    -*) usage_error "unknown option $1" ;;
    *) positional+=("$1") ;;
  esac
  shift
done
from="${from%/}"

if [[ "${list_only}" == true ]]; then
  [[ -n "${from}" ]] || usage_error "--list needs --from or BACKUP_DESTINATION"
  list_dumps "${from}" "${prefix}"
  exit 0
fi

[[ ${#positional[@]} -eq 2 ]] || usage_error "expected DUMP and TARGET_DATABASE"
dump="${positional[0]}"
target_db="${positional[1]}"
[[ -n "${PGHOST:-}" ]] ||
  die "PGHOST is not set; set it to the server host name or its Unix socket directory"
[[ -n "${PGUSER:-}" ]] ||
  die "PGUSER is not set; set it to the role that will own the restored objects"
export PGCONNECT_TIMEOUT="${PGCONNECT_TIMEOUT:-10}"

if [[ "${dump}" == "latest" ]]; then
  [[ -n "${from}" ]] || usage_error "DUMP=latest needs --from or BACKUP_DESTINATION"
  newest="$(list_dumps "${from}" "${prefix}" | tail -n 1)"
  [[ -n "${newest}" ]] || die "no dump named ${prefix:-*}-YYYYmmddTHHMMSSZ.dump in ${from}"
  dump="${from}/${newest}"
  log "latest dump is ${dump}"
fi

work_dir="$(mktemp -d "${TMPDIR:-/tmp}/pg-restore.XXXXXX")"
trap 'rm -rf -- "${work_dir}"' EXIT
case "${dump}" in
  s3://?*)
    dump_file="${work_dir}/$(basename "${dump}")"
    aws s3 cp "${dump}" "${dump_file}" --only-show-errors ||
      die "download of ${dump} failed; check the URI and the role's s3:GetObject/kms:Decrypt"
    ;;
  *)
    [[ -r "${dump}" ]] || die "dump file ${dump} does not exist or is not readable"
    dump_file="${dump}"
    ;;
esac
pg_restore --list "${dump_file}" >/dev/null ||
  die "${dump} is not a pg_dump custom-format archive (or it is truncated)"

# psql variables (:'name', :"name") quote the database name; -c would not interpolate them.
maintenance_psql() {
  psql --no-psqlrc --no-password --quiet --tuples-only --no-align --set ON_ERROR_STOP=1 \
    --dbname "${RESTORE_MAINTENANCE_DB:-postgres}" --set target="${target_db}"
}
exists="$(maintenance_psql <<<"SELECT 1 FROM pg_database WHERE datname = :'target';")" ||
  die "cannot connect to ${PGHOST}:${PGPORT:-5432} as ${PGUSER}; see the psql error above"
if [[ "${exists}" != "1" ]]; then
  log "creating database ${target_db}"
  maintenance_psql <<<'CREATE DATABASE :"target";' ||
    die "cannot create database ${target_db}; the role ${PGUSER} needs CREATEDB"
fi

target_psql() {
  psql --no-psqlrc --no-password --quiet --tuples-only --no-align --set ON_ERROR_STOP=1 \
    --dbname "${target_db}" "$@"
}
readonly USER_TABLES="
  SELECT n.nspname, c.relname FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p')
    AND n.nspname NOT IN ('pg_catalog', 'information_schema')
    AND n.nspname NOT LIKE 'pg_toast%'"
table_count="$(target_psql <<<"SELECT count(*) FROM (${USER_TABLES}) AS user_tables;")"
clean_options=()
if [[ "${table_count}" -gt 0 ]]; then
  [[ "${force}" == true ]] ||
    die "database ${target_db} already has ${table_count} tables; restore into a new database" \
      "or pass --force to drop and recreate the objects in the dump"
  log "--force: dropping and recreating the dump's objects in ${target_db}"
  clean_options=(--clean --if-exists)
fi

log "restoring ${dump} into ${target_db}"
pg_restore --no-password --dbname "${target_db}" --no-owner --no-privileges \
  --single-transaction --exit-on-error "${clean_options[@]}" "${dump_file}" ||
  die "pg_restore into ${target_db} failed and was rolled back; see the error above"

# Exact counts (not planner estimates) so they can be compared with the source database.
log "row counts in ${target_db}:"
target_psql --field-separator "$(printf '\t')" <<SQL
SELECT format('%I.%I', nspname, relname),
  (xpath('/row/n/text()',
    query_to_xml(format('SELECT count(*) AS n FROM %I.%I', nspname, relname), false, true, '')
  ))[1]::text::bigint
FROM (${USER_TABLES}) AS user_tables
ORDER BY 1;
SQL
