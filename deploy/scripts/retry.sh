# Sourced by the one-shot setup jobs (POSIX sh: the admin-tools image has no bash guarantee): their log, and
# retry WHAT COMMAND [ARG...]: runs COMMAND until it succeeds, at most MAX_ATTEMPTS times, waiting
# RETRY_DELAY_SECONDS between attempts. Returns 1 once the attempts are used up, so a job fails with a
# message instead of hanging or, worse, carrying on as if the step had worked.

# log TEXT: one line on stderr, tagged with the job's name ([create-namespace] ...).
log() { printf '[%s] %s\n' "$(basename "$0" .sh)" "$*" >&2; }

MAX_ATTEMPTS="${MAX_ATTEMPTS:-60}"
RETRY_DELAY_SECONDS="${RETRY_DELAY_SECONDS:-5}"

case "$MAX_ATTEMPTS" in '' | *[!0-9]*) echo "MAX_ATTEMPTS must be a whole number, got '$MAX_ATTEMPTS'" >&2; exit 2 ;; esac
case "$RETRY_DELAY_SECONDS" in '' | *[!0-9]*) echo "RETRY_DELAY_SECONDS must be a whole number, got '$RETRY_DELAY_SECONDS'" >&2; exit 2 ;; esac

retry() {
  retry_what=$1
  shift
  retry_attempt=1
  until "$@"; do
    if [ "$retry_attempt" -ge "$MAX_ATTEMPTS" ]; then
      log "ERROR: $retry_what: still failing after $retry_attempt attempts"
      return 1
    fi
    log "$retry_what: not yet (attempt $retry_attempt/$MAX_ATTEMPTS), next try in ${RETRY_DELAY_SECONDS}s"
    retry_attempt=$((retry_attempt + 1))
    sleep "$RETRY_DELAY_SECONDS"
  done
}
