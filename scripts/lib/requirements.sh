# Installs the Debian packages Shoal needs when they are missing (with sudo when not root).
# Usage: source scripts/lib/requirements.sh; shoal_require libaio [strace socat nc ...]
shoal_require() {
    local missing=()
    for need in "$@"; do
        case "$need" in
            libaio) [ -f /usr/include/libaio.h ] || missing+=(libaio-dev) ;;
            nc) nc -h 2>&1 | grep -q -- '-N' || missing+=(netcat-openbsd) ;;
            prlimit) command -v prlimit >/dev/null 2>&1 || missing+=(util-linux) ;;
            *) command -v "$need" >/dev/null 2>&1 || missing+=("$need") ;;
        esac
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "Installing ${missing[*]} ..."
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}
