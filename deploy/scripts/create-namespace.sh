#!/bin/sh
# One-shot namespace job (temporalio/admin-tools image), run after the server is up:
#   1. waits until `temporal operator cluster health` succeeds (bounded retries, then fails);
#   2. creates the namespace when `describe` says it is not there, then waits until it can be described;
#   3. registers the custom search attributes pulse-runbooks sets on its runs (PULSE_RUNBOOKS_SEARCH_ATTRIBUTES,
#      "Name=Type" words, the list of src/temporal/search-attributes.ts), skipping those already registered,
#      and waits until all of them are listed.
# Idempotent: a second run changes nothing. The worker starts only when this job exits 0.
set -eu
set -f  # the Name=Type list is split on spaces, never globbed
. "$(dirname "$0")/retry.sh"

: "${TEMPORAL_ADDRESS:?set TEMPORAL_ADDRESS to the frontend, e.g. temporal:7233}"
: "${PULSE_RUNBOOKS_SEARCH_ATTRIBUTES:?set PULSE_RUNBOOKS_SEARCH_ATTRIBUTES to Name=Type words, e.g. RunbookProcedure=Keyword}"
NAMESPACE="${TEMPORAL_NAMESPACE:-default}"
# How long closed runs stay readable in the UI (the audit trail). The CLI's own default is 72h.
RETENTION="${NAMESPACE_RETENTION:-720h}"

# Check the list before contacting the server, so a typo fails at once and changes nothing.
for pair in $PULSE_RUNBOOKS_SEARCH_ATTRIBUTES; do
  name="${pair%%=*}"
  type="${pair#*=}"
  case "$pair" in *=*) ;; *) log "ERROR: '$pair' is not Name=Type"; exit 2 ;; esac
  case "$name" in '' | [!A-Za-z]* | *[!A-Za-z0-9_]*) log "ERROR: '$name' is not a search attribute name"; exit 2 ;; esac
  case "$type" in
    Keyword | Text | Int | Double | Bool | Datetime | KeywordList) ;;
    *) log "ERROR: '$type' (for $name) is not a search attribute type"; exit 2 ;;
  esac
done

# The upstream compose setup resolves the frontend's name to an IPv4 address before calling the CLI, to work
# around a resolution problem seen in some Docker networks; do the same when getent can.
address="$TEMPORAL_ADDRESS"
host="${TEMPORAL_ADDRESS%:*}"
port="${TEMPORAL_ADDRESS##*:}"
if command -v getent >/dev/null 2>&1; then
  ip="$(getent ahostsv4 "$host" 2>/dev/null | awk 'NR == 1 { print $1 }')" || ip=""
  if [ -n "$ip" ]; then address="$ip:$port"; fi
fi
log "Temporal frontend $TEMPORAL_ADDRESS ($address), namespace $NAMESPACE"

temporal_cli() { temporal "$@" --address "$address"; }

# 1. The cluster.
retry "cluster health" temporal_cli operator cluster health

# 2. The namespace.
describe_namespace() { temporal_cli operator namespace describe --namespace "$NAMESPACE" >/dev/null 2>&1; }
if describe_namespace; then
  log "namespace $NAMESPACE exists"
else
  log "creating namespace $NAMESPACE (retention $RETENTION)"
  # A failed create is fine when the namespace exists after all (an earlier, interrupted run created it).
  if ! temporal_cli operator namespace create --namespace "$NAMESPACE" --retention "$RETENTION"; then
    log "create failed; checking whether the namespace exists anyway"
  fi
  retry "namespace $NAMESPACE visible" describe_namespace
fi

# 3. The search attributes. The listing is a table of "Name Type" rows; older CLIs print the type as the
# enum name (INDEXED_VALUE_TYPE_KEYWORD), so both spellings are accepted.
list_attributes() { temporal_cli operator search-attribute list --namespace "$NAMESPACE"; }
# listed NAME TYPE LISTING: whether LISTING has a row NAME TYPE.
listed() {
  printf '%s\n' "$3" | grep -Eiq "(^|[[:space:]|])$1[[:space:]|]+(INDEXED_VALUE_TYPE_)?$2([[:space:]|]|\$)"
}
# listed_any_type NAME LISTING
listed_any_type() {
  printf '%s\n' "$2" | grep -Eq "(^|[[:space:]|])$1[[:space:]|]+[A-Za-z_]"
}

listing="$(retry "list search attributes" list_attributes)"
for pair in $PULSE_RUNBOOKS_SEARCH_ATTRIBUTES; do
  name="${pair%%=*}"
  type="${pair#*=}"
  if listed "$name" "$type" "$listing"; then
    log "search attribute $name ($type) already registered"
  elif listed_any_type "$name" "$listing"; then
    log "ERROR: search attribute $name is registered with another type than $type; runs would fail to set it. Remove it or change the code's type."
    exit 1
  else
    log "registering search attribute $name ($type)"
    temporal_cli operator search-attribute create --namespace "$NAMESPACE" --name "$name" --type "$type"
  fi
done

all_listed() {
  all_listing="$(list_attributes)" || return 1
  for pair in $PULSE_RUNBOOKS_SEARCH_ATTRIBUTES; do
    listed "${pair%%=*}" "${pair#*=}" "$all_listing" || return 1
  done
}
retry "search attributes listed" all_listed
log "done: namespace $NAMESPACE with $(printf '%s\n' $PULSE_RUNBOOKS_SEARCH_ATTRIBUTES | wc -l | tr -d ' ') search attributes"
