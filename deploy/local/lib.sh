# Settings and helpers shared by deploy/local/deps and deploy/local/stack.
# Sourced, not run. The caller sets PROG (its name, for messages).
# The scripts that source this file use its variables:
# shellcheck shell=bash disable=SC2034

LOCAL_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$LOCAL_DIR/../.." && pwd)

if [[ -z "${BWM_CACHE:-}" && -z "${HOME:-}" ]]; then
    echo "${PROG:-deploy/local}: neither BWM_CACHE nor HOME is set; set BWM_CACHE to a cache folder" >&2
    exit 1
fi
CACHE_DIR=${BWM_CACHE:-$HOME/.cache/bwm}

KAFKA_POM=$LOCAL_DIR/kafka/pom.xml
KAFKA_VERSION=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$KAFKA_POM")
KAFKA_HOME=$CACHE_DIR/kafka/$KAFKA_VERSION
KAFKA_LIBS=$KAFKA_HOME/libs
# Written after a complete download; holds the hash of the pom that produced it.
KAFKA_MARKER=$KAFKA_HOME/complete

VENV_DIR=$CACHE_DIR/venv
VENV_PY=$VENV_DIR/bin/python
REQUIREMENTS=$LOCAL_DIR/requirements.txt
# Holds the hash of the requirements.txt the venv was built from.
VENV_MARKER=$VENV_DIR/requirements.sha256

say() { printf '%s: %s\n' "$PROG" "$*"; }
die() {
    printf '%s: error: %s\n' "$PROG" "$*" >&2
    exit 1
}
sha256_of() { sha256sum "$1" | cut -d' ' -f1; }
