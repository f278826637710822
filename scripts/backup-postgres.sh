#!/usr/bin/env bash
# Dump one PostgreSQL database and store the dump in S3 or in a local directory.
#
# Runs in the backup CronJob's container (pg_dump, pg_restore, aws CLI). Connection settings
# are the standard libpq variables; the password never appears in arguments or output.
#
# Required environment:
#   BACKUP_DESTINATION   s3://bucket[/prefix] (uploaded with SSE-KMS through the pod's IAM role)
#                        or an absolute directory path, e.g. a mounted PVC (/backups)
#   PGHOST               server host name, or the directory of its Unix socket
#   PGDATABASE           database to dump
#   PGUSER               role to connect as (needs read access to every table)
# Optional environment:
#   PGPORT               server port (libpq default 5432)
#   PGPASSWORD           password; prefer PGPASSFILE with a mounted secret (mode 0600)
#   PGPASSFILE           path of a libpq password file
#   PGSSLMODE            e.g. verify-full for RDS (libpq default: prefer)
#   PGCONNECT_TIMEOUT    seconds to wait for a connection (default here: 10)
#   BACKUP_NAME_PREFIX   first part of the file name (default: $PGDATABASE)
#   BACKUP_KMS_KEY_ID    KMS key for S3 server-side encryption (default: the bucket's aws/s3 key)
#   BACKUP_WORK_DIR      scratch directory for S3 uploads (default: $TMPDIR or /tmp); needs room
#                        for one compressed dump
#
# Output: <prefix>-<YYYYmmddTHHMMSSZ>.dump, a pg_dump custom-format archive (compressed;
# restore with pg_restore or scripts/restore-postgres.sh). Exit status 0 only when the dump
# is complete, readable by pg_restore and stored at the destination with the same size.
set -euo pipefail

readonly SCRIPT_NAME="backup-postgres"

log() { printf '%s: %s\n' "${SCRIPT_NAME}" "$*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

require_env() {
  local name="$1" hint="$2"
  if [[ -z "${!name:-}" ]]; then
    die "${name} is not set; ${hint}"
  fi
}

file_size() { stat -c %s "$1"; }

# Limitation: `aws s3 ls` matches keys by prefix; the awk filter keeps only the exact name.
s3_object_size() {
  local uri="$1" name="$2"
  aws s3 ls "${uri}" | awk -v name="${name}" '$4 == name { print $3 }'
}

require_env BACKUP_DESTINATION "set it to s3://bucket/prefix or to an absolute directory path"
require_env PGHOST "set it to the server host name (or its Unix socket directory)"
require_env PGDATABASE "set it to the name of the database to back up"
require_env PGUSER "set it to the role the backup connects as"
if [[ -n "${PGPASSFILE:-}" && ! -r "${PGPASSFILE}" ]]; then
  die "PGPASSFILE=${PGPASSFILE} is not a readable file; mount the password secret there"
fi
# A CronJob that hangs on an unreachable server never reports failure; fail fast instead.
export PGCONNECT_TIMEOUT="${PGCONNECT_TIMEOUT:-10}"

destination="${BACKUP_DESTINATION%/}"
case "${destination}" in
  s3://?*) destination_kind="s3" ;;
  /*) destination_kind="directory" ;;
  *)
    die "BACKUP_DESTINATION=${BACKUP_DESTINATION} is neither s3://bucket[/prefix]" \
      "nor an absolute directory path"
    ;;
esac

name_prefix="${BACKUP_NAME_PREFIX:-${PGDATABASE}}"
if [[ ! "${name_prefix}" =~ ^[A-Za-z0-9_.-]+$ ]]; then
  die "BACKUP_NAME_PREFIX=${name_prefix} may only contain letters, digits, '.', '_' and '-'"
fi
dump_name="${name_prefix}-$(date -u +%Y%m%dT%H%M%SZ).dump"

if [[ "${destination_kind}" == "directory" ]]; then
  [[ -d "${destination}" && -w "${destination}" ]] ||
    die "BACKUP_DESTINATION=${destination} is not a writable directory; create or mount it"
  final_path="${destination}/${dump_name}"
  [[ ! -e "${final_path}" ]] || die "${final_path} already exists; wait a second and rerun"
  # Written next to the final name so the rename below is atomic (same file system): readers
  # such as restore-postgres.sh latest never see a half-written dump.
  dump_file="${destination}/.${dump_name}.partial"
else
  work_dir="$(mktemp -d "${BACKUP_WORK_DIR:-${TMPDIR:-/tmp}}/pg-backup.XXXXXX")" ||
    die "cannot create a scratch directory; set BACKUP_WORK_DIR to a writable directory"
  dump_file="${work_dir}/${dump_name}"
fi

cleanup() {
  if [[ -n "${work_dir:-}" ]]; then rm -rf -- "${work_dir}"; fi
  if [[ "${destination_kind}" == "directory" ]]; then rm -f -- "${dump_file}"; fi
}
trap cleanup EXIT

log "dumping database ${PGDATABASE} from ${PGHOST}:${PGPORT:-5432} as ${PGUSER}"
# Custom format: compressed, restorable with --no-owner/--clean/--jobs, and checkable with
# pg_restore --list without a server. --no-password makes a missing password fail at once
# instead of waiting for a prompt nobody can answer.
if ! pg_dump --format=custom --compress=6 --no-password --file="${dump_file}"; then
  die "pg_dump of database ${PGDATABASE} on ${PGHOST}:${PGPORT:-5432} failed; see the pg_dump" \
    "error above (check PGHOST, PGPORT, PGUSER, the password and PGSSLMODE)"
fi

size="$(file_size "${dump_file}")"
[[ "${size}" -gt 0 ]] || die "pg_dump wrote an empty file ${dump_file}"
entry_count="$(pg_restore --list "${dump_file}" | grep -cv '^;')" ||
  die "pg_restore cannot read the dump ${dump_file}; the archive is corrupt"
log "dump is ${size} bytes with ${entry_count} archive entries"

if [[ "${destination_kind}" == "directory" ]]; then
  sync -- "${dump_file}"
  mv -- "${dump_file}" "${final_path}"
  stored_size="$(file_size "${final_path}")"
  [[ "${stored_size}" == "${size}" ]] ||
    die "stored ${final_path} has ${stored_size} bytes, expected ${size}"
  log "stored ${final_path}"
  printf '%s\n' "${final_path}"
else
  object_uri="${destination}/${dump_name}"
  encryption=(--sse aws:kms)
  if [[ -n "${BACKUP_KMS_KEY_ID:-}" ]]; then
    encryption+=(--sse-kms-key-id "${BACKUP_KMS_KEY_ID}")
  fi
  aws s3 cp "${dump_file}" "${object_uri}" "${encryption[@]}" --only-show-errors ||
    die "upload to ${object_uri} failed; check that the pod's IAM role allows s3:PutObject" \
      "and kms:GenerateDataKey"
  stored_size="$(s3_object_size "${object_uri}" "${dump_name}")" ||
    die "cannot list ${object_uri} after the upload; check the role allows s3:ListBucket"
  [[ "${stored_size}" == "${size}" ]] ||
    die "uploaded ${object_uri} has size '${stored_size}', expected ${size} bytes"
  log "uploaded ${object_uri}"
  printf '%s\n' "${object_uri}"
fi
