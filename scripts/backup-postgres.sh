#!/usr/bin/env bash
# Minimal PostgreSQL backup: one custom-format (compressed) dump of $PGDATABASE, copied to
# $BACKUP_DESTINATION, an s3:// URI (SSE-KMS) or an absolute directory. Connection settings are
# the libpq variables (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE, PGSSLMODE).
# Limitation: a stand-in until the full script (checks, verification) replaces it.
set -euo pipefail

: "${BACKUP_DESTINATION:?set BACKUP_DESTINATION to s3://bucket/prefix or a directory}"
: "${PGDATABASE:?set PGDATABASE to the database to dump}"

name="${PGDATABASE}-$(date -u +%Y%m%dT%H%M%SZ).dump"
destination="${BACKUP_DESTINATION%/}"
case "${destination}" in
  s3://?*)
    work="$(mktemp -d "${TMPDIR:-/tmp}/pg-backup.XXXXXX")"
    trap 'rm -rf "${work}"' EXIT
    pg_dump --format=custom --no-password --file="${work}/${name}"
    kms=()
    if [[ -n "${BACKUP_KMS_KEY_ID:-}" ]]; then kms=(--sse-kms-key-id "${BACKUP_KMS_KEY_ID}"); fi
    aws s3 cp --no-progress --sse aws:kms "${kms[@]}" "${work}/${name}" "${destination}/${name}"
    ;;
  /*)
    pg_dump --format=custom --no-password --file="${destination}/${name}.partial"
    mv "${destination}/${name}.partial" "${destination}/${name}"
    ;;
  *)
    echo "BACKUP_DESTINATION=${BACKUP_DESTINATION} is neither s3://... nor an absolute path" >&2
    exit 1
    ;;
esac
echo "backup-postgres: stored ${destination}/${name}" >&2
