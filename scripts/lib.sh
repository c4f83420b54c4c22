# shellcheck shell=bash
# Shared set-up for scripts/run and scripts/test. Source it, do not execute it.
#
# Everything here is idempotent: each function checks first and only acts when
# something is missing, so running it on a machine that is already set up costs
# a few seconds.
#
# Settings (environment variables):
#   ODOO_PATH            Odoo 18.0 source tree (holds odoo-bin)     [/opt/odoo]
#   VENV                 virtualenv (relative paths: to repo root)  [.venv]
#   RELANCE_PG_PORT      port of the private PostgreSQL cluster     [54329]
#   RELANCE_HTTP_PORT    Odoo HTTP port (scripts/run)               [8069]
#   RELANCE_SMTP_PORT    local SMTP sink port                       [1025]
#   RELANCE_PG_USER      system user running PostgreSQL as root     [relance]
#   RELANCE_EXTRA_ADDONS extra addons directories, comma-separated,
#                        placed before the repository in addons_path []
#   RELANCE_PG_BINDIR    directory of PostgreSQL 15's initdb/pg_ctl  [found]
#   PYTHON               interpreter used to create the venv        [python3]

# ---------------------------------------------------------------------------
# Paths and settings
# ---------------------------------------------------------------------------
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ADDON=relance_avancee
# OCA's queue_job, which the glue addon relance_avancee_queue_job depends on
# (PyPI, installed by ensure_queue_job into an ignored folder).
QUEUE_JOB_REQUIREMENT='odoo-addon-queue-job==18.0.*'
ODOO_PATH="${ODOO_PATH:-/opt/odoo}"
VENV="${VENV:-.venv}"
case "$VENV" in /*) ;; *) VENV="$REPO_ROOT/$VENV" ;; esac
RUN_DIR="$REPO_ROOT/.run"
LOG_DIR="$RUN_DIR/logs"
ODOO_CONF="$RUN_DIR/odoo.conf"
# pip --target layout: the addon ends in $QUEUE_JOB_TARGET/odoo/addons/queue_job
QUEUE_JOB_TARGET="$RUN_DIR/addons-queue-job"
QUEUE_JOB_ADDONS="$QUEUE_JOB_TARGET/odoo/addons"
PG_PORT="${RELANCE_PG_PORT:-54329}"
HTTP_PORT="${RELANCE_HTTP_PORT:-8069}"
SMTP_PORT="${RELANCE_SMTP_PORT:-1025}"
PG_HOST=127.0.0.1
PGDATA_DIR="$RUN_DIR/pgdata"
PGSOCK_DIR="$RUN_DIR/pgsock"
PG_LOG="$LOG_DIR/postgresql.log"

# Debian packages the project needs (PostgreSQL is checked separately: any
# usable PostgreSQL 15 initdb/pg_ctl/postgres will do).
DEB_PACKAGES=(libldap2-dev libsasl2-dev libpq-dev wkhtmltopdf poppler-utils
    fonts-dejavu-core xfonts-75dpi xfonts-base)

if [ "$(id -u)" -eq 0 ]; then
    PG_OS_USER="${RELANCE_PG_USER:-relance}"
else
    PG_OS_USER="$(id -un)"
fi

declare -a TIMINGS=()

# ---------------------------------------------------------------------------
# Messages
# ---------------------------------------------------------------------------
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
    _B=$'\033[1m' _R=$'\033[31m' _Y=$'\033[33m' _G=$'\033[32m' _N=$'\033[0m'
else
    _B='' _R='' _Y='' _G='' _N=''
fi

log() { printf '%s==>%s %s\n' "$_B" "$_N" "$*"; }
warn() { printf '%sWARNING:%s %s\n' "$_Y" "$_N" "$*" >&2; }
ok() { printf '%s  ok%s %s\n' "$_G" "$_N" "$*"; }

# die MESSAGE [HINT...]: print what is wrong and how to fix it, exit 1.
die() {
    printf '%sERROR:%s %s\n' "$_R" "$_N" "$1" >&2
    shift
    local hint
    for hint in "$@"; do
        printf '  -> %s\n' "$hint" >&2
    done
    exit 1
}

# timed LABEL CMD...: run CMD, record how long it took.
timed() {
    local label="$1" t0 rc=0
    shift
    t0=$(date +%s)
    "$@" || rc=$?
    TIMINGS+=("$(printf '%-28s %4ss' "$label" "$(($(date +%s) - t0))")")
    return "$rc"
}

print_timings() {
    [ "${#TIMINGS[@]}" -gt 0 ] || return 0
    echo "Timings:"
    printf '  %s\n' "${TIMINGS[@]}"
}

# run_root CMD...: run as root (directly, or through sudo).
run_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "need root to run: $*" \
            "run this script as root, install sudo, or run the command above as root once"
    fi
}

# run_pg CMD...: run a PostgreSQL server command as the cluster's system user.
run_pg() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u "$PG_OS_USER" -- "$@"
    else
        "$@"
    fi
}

# port_in_use PORT: true when something accepts TCP connections on 127.0.0.1:PORT.
port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# who_listens PORT: best-effort description of the process on that port.
who_listens() {
    if command -v ss >/dev/null 2>&1; then
        ss -ltnpH "sport = :$1" 2>/dev/null |
            sed -n 's/.*users:(("\([^"]*\)",pid=\([0-9]*\).*/\1, pid \2/p' | head -1
    fi
}

# ---------------------------------------------------------------------------
# Odoo source tree
# ---------------------------------------------------------------------------
check_odoo_path() {
    local hint="set ODOO_PATH to an Odoo 18.0 source tree (the folder holding odoo-bin, odoo/ and addons/), e.g. ODOO_PATH=/opt/odoo $0"
    [ -d "$ODOO_PATH" ] || die "ODOO_PATH=$ODOO_PATH does not exist" "$hint"
    [ -f "$ODOO_PATH/odoo-bin" ] || die "ODOO_PATH=$ODOO_PATH has no odoo-bin: not an Odoo source tree" "$hint"
    [ -f "$ODOO_PATH/odoo/release.py" ] ||
        die "ODOO_PATH=$ODOO_PATH has no odoo/release.py: not an Odoo source tree" "$hint"
    local vi
    vi=$(sed -n 's/^version_info *= *(\([^)]*\)).*/\1/p' "$ODOO_PATH/odoo/release.py" | head -1)
    case "$(echo "$vi" | tr -d ' ')" in
        18,0,*) ;;
        *) die "ODOO_PATH=$ODOO_PATH is not Odoo 18.0 (odoo/release.py: version_info = ($vi))" "$hint" ;;
    esac
    ODOO_PATH="$(cd "$ODOO_PATH" && pwd)"
    ODOO_BIN="$ODOO_PATH/odoo-bin"
    ok "Odoo 18.0 source tree at $ODOO_PATH"
}

# ---------------------------------------------------------------------------
# Debian packages
# ---------------------------------------------------------------------------
deb_installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

# find_pg_bindir: set PG_BIN to a directory holding PostgreSQL 15 server binaries.
find_pg_bindir() {
    local d cand=()
    [ -n "${RELANCE_PG_BINDIR:-}" ] && cand+=("$RELANCE_PG_BINDIR")
    cand+=(/usr/lib/postgresql/15/bin)
    if command -v initdb >/dev/null 2>&1; then
        cand+=("$(dirname "$(readlink -f "$(command -v initdb)")")")
    fi
    for d in "${cand[@]}"; do
        if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/postgres" ] &&
            "$d/postgres" --version 2>/dev/null | grep -q ' 15\.'; then
            PG_BIN="$d"
            return 0
        fi
    done
    return 1
}

# ensure_debian_packages [EXTRA_PACKAGE...]
ensure_debian_packages() {
    local missing=() p
    if ! command -v dpkg-query >/dev/null 2>&1; then
        warn "dpkg-query not found: not a Debian-like system, cannot check system packages" \
            "(needed: ${DEB_PACKAGES[*]} postgresql-15)"
        find_pg_bindir || die "no PostgreSQL 15 server binaries found (initdb, pg_ctl, postgres)" \
            "install PostgreSQL 15 server, or set RELANCE_PG_BINDIR to its bin directory"
        return 0
    fi
    for p in "${DEB_PACKAGES[@]}" "$@"; do
        deb_installed "$p" || missing+=("$p")
    done
    find_pg_bindir || missing+=(postgresql-15)
    if [ "${#missing[@]}" -eq 0 ]; then
        ok "Debian packages present"
        return 0
    fi
    log "Installing missing Debian packages: ${missing[*]}"
    mkdir -p "$LOG_DIR"
    local apt_log="$LOG_DIR/apt.log"
    export DEBIAN_FRONTEND=noninteractive
    if ! run_root apt-get update >"$apt_log" 2>&1; then
        tail -n 20 "$apt_log" >&2
        die "apt-get update failed (full log: $apt_log)" \
            "check the machine reaches the Debian mirrors, then re-run"
    fi
    if ! run_root apt-get install -y "${missing[@]}" >>"$apt_log" 2>&1; then
        # find out which package(s) failed, one by one
        local failed=()
        for p in "${missing[@]}"; do
            run_root apt-get install -y "$p" >>"$apt_log" 2>&1 || failed+=("$p")
        done
        if [ "${#failed[@]}" -gt 0 ]; then
            tail -n 20 "$apt_log" >&2
            die "apt-get could not install: ${failed[*]} (full log: $apt_log)" \
                "try by hand: apt-get update && apt-get install -y ${failed[*]}" \
                "on a non-Debian-12 system install the equivalent packages yourself"
        fi
    fi
    find_pg_bindir || die "PostgreSQL 15 server binaries still not found after installing postgresql-15" \
        "set RELANCE_PG_BINDIR to the directory holding initdb, pg_ctl and postgres (version 15)"
    ok "Debian packages installed: ${missing[*]}"
}

# ---------------------------------------------------------------------------
# Virtualenv
# ---------------------------------------------------------------------------
venv_stamp() {
    cat "$ODOO_PATH/requirements.txt" "$REPO_ROOT/requirements-dev.txt" |
        sha256sum | cut -d' ' -f1
}

ensure_venv() {
    local py="${PYTHON:-python3}" stamp_file="$VENV/.relance-requirements.sha256" want
    want="$(venv_stamp)"
    mkdir -p "$LOG_DIR"
    if [ ! -x "$VENV/bin/python" ]; then
        command -v "$py" >/dev/null 2>&1 ||
            die "$py not found" "install Python 3.10-3.12 (Debian: apt-get install python3 python3-venv) or set PYTHON"
        log "Creating virtualenv $VENV"
        "$py" -m venv "$VENV" >"$LOG_DIR/venv.log" 2>&1 || {
            cat "$LOG_DIR/venv.log" >&2
            die "could not create the virtualenv at $VENV" \
                "Debian: apt-get install python3-venv; or set VENV to a writable path"
        }
    elif [ -f "$stamp_file" ] && [ "$(cat "$stamp_file")" = "$want" ]; then
        ok "virtualenv $VENV is up to date"
        return 0
    fi
    log "Installing Python requirements into $VENV (log: $LOG_DIR/pip.log)"
    local constraint="$RUN_DIR/build-constraints.txt"
    # cbor2==5.4.2 (Odoo's pin) does not build with setuptools>=81 (no pkg_resources)
    echo 'setuptools<81' >"$constraint"
    {
        "$VENV/bin/python" -m pip install --upgrade pip &&
            if "$VENV/bin/python" -m pip install --help | grep -q -- '--build-constraint'; then
                "$VENV/bin/python" -m pip install --build-constraint "$constraint" \
                    -r "$ODOO_PATH/requirements.txt" -r "$REPO_ROOT/requirements-dev.txt"
            else
                PIP_CONSTRAINT="$constraint" "$VENV/bin/python" -m pip install \
                    -r "$ODOO_PATH/requirements.txt" -r "$REPO_ROOT/requirements-dev.txt"
            fi
    } >"$LOG_DIR/pip.log" 2>&1 || {
        grep -E '^(ERROR|error):|fatal error|No such file' "$LOG_DIR/pip.log" | tail -n 15 >&2
        tail -n 15 "$LOG_DIR/pip.log" >&2
        die "pip install failed (full log: $LOG_DIR/pip.log)" \
            "a missing C header usually means a missing Debian -dev package (libldap2-dev libsasl2-dev libpq-dev)" \
            "to start over: rm -rf $VENV and re-run"
    }
    echo "$want" >"$stamp_file"
    ok "virtualenv $VENV ready"
}

# ---------------------------------------------------------------------------
# PostgreSQL cluster
# ---------------------------------------------------------------------------
ensure_pg_user() {
    [ "$(id -u)" -eq 0 ] || return 0
    if ! id "$PG_OS_USER" >/dev/null 2>&1; then
        log "Creating system user $PG_OS_USER (PostgreSQL refuses to run as root)"
        useradd --system --user-group --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin "$PG_OS_USER" ||
            die "could not create system user $PG_OS_USER" \
                "create it by hand (useradd --system $PG_OS_USER) or set RELANCE_PG_USER to an existing non-root user"
    fi
}

# choose_pg_dirs: data, socket and log in .run/ unless the PostgreSQL user
# cannot enter it (repository inside a private home): then they go to
# /var/tmp/relance-pg-<hash of the repository path>, with .run/pgdata a link
# to the data for humans. A socket path too long for Unix sockets moves too.
choose_pg_dirs() {
    local alt
    alt="/var/tmp/relance-pg-$(printf '%s' "$REPO_ROOT" | sha256sum | cut -c1-12)"
    if [ "$(id -u)" -eq 0 ] && id "$PG_OS_USER" >/dev/null 2>&1 &&
        ! runuser -u "$PG_OS_USER" -- test -x "$RUN_DIR"; then
        PGDATA_DIR="$alt/pgdata"
        PGSOCK_DIR="$alt/pgsock"
        PG_LOG="$alt/postgresql.log"
        mkdir -p "$alt"
        chmod 755 "$alt"
        [ -e "$RUN_DIR/pgdata" ] || ln -sfn "$PGDATA_DIR" "$RUN_DIR/pgdata"
        warn "user $PG_OS_USER cannot enter $RUN_DIR: the cluster lives in $alt"
    elif [ "${#PGSOCK_DIR}" -gt 80 ]; then
        PGSOCK_DIR="$alt/pgsock"
    fi
}

pg_running() {
    [ -f "$PGDATA_DIR/postmaster.pid" ] && run_pg "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" status >/dev/null 2>&1
}

pg_running_port() {
    sed -n 4p "$PGDATA_DIR/postmaster.pid" 2>/dev/null
}

# pick_free_pg_port: in CI a cluster of another checkout may hold the default
# port; when the port was not chosen explicitly, take the next free one.
pick_free_pg_port() {
    local p
    for p in $(seq "$PG_PORT" $((PG_PORT + 40))); do
        if ! port_in_use "$p"; then
            warn "port $PG_PORT is taken by another program; CI uses port $p for this run's cluster"
            PG_PORT=$p
            return 0
        fi
    done
    return 1
}

ensure_cluster() {
    ensure_pg_user
    mkdir -p "$RUN_DIR" "$LOG_DIR"
    choose_pg_dirs
    if [ -f "$PGDATA_DIR/PG_VERSION" ] && ! grep -qx 15 "$PGDATA_DIR/PG_VERSION"; then
        die "$PGDATA_DIR holds a PostgreSQL $(cat "$PGDATA_DIR/PG_VERSION") cluster, not 15" \
            "remove it (rm -rf $PGDATA_DIR) or run scripts/run --rebuild"
    fi
    local running=0
    if pg_running; then
        if [ "$(pg_running_port)" = "$PG_PORT" ]; then
            ok "PostgreSQL cluster running on 127.0.0.1:$PG_PORT (pid $(head -1 "$PGDATA_DIR/postmaster.pid"), data $PGDATA_DIR)"
            return 0
        fi
        running=1
    fi
    if port_in_use "$PG_PORT"; then
        if [ "${CI:-}" = "true" ] && [ -z "${RELANCE_PG_PORT:-}" ] && pick_free_pg_port; then
            :
        else
            local who
            who="$(who_listens "$PG_PORT")"
            die "port $PG_PORT on 127.0.0.1 is already taken by another program${who:+ ($who)}, not by this checkout's PostgreSQL cluster" \
                "stop that program, or choose another port for the cluster: RELANCE_PG_PORT=54330 scripts/$(basename "$0")"
        fi
    fi
    if [ "$running" = 1 ]; then
        log "Cluster runs on port $(pg_running_port), wanted $PG_PORT: restarting it"
        run_pg "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w stop >/dev/null
    fi
    if [ ! -f "$PGDATA_DIR/PG_VERSION" ]; then
        log "Initialising PostgreSQL 15 cluster in $PGDATA_DIR (superuser role: $PG_OS_USER)"
        mkdir -p "$PGDATA_DIR"
        if [ "$(id -u)" -eq 0 ]; then
            chown "$PG_OS_USER:" "$PGDATA_DIR"
        fi
        chmod 700 "$PGDATA_DIR"
        local locale_opt=(--no-locale)
        locale -a 2>/dev/null | grep -qix 'c\.utf-\?8' && locale_opt=(--locale=C.UTF-8)
        run_pg "$PG_BIN/initdb" -D "$PGDATA_DIR" -U "$PG_OS_USER" --auth=trust \
            -E UTF8 "${locale_opt[@]}" >"$LOG_DIR/initdb.log" 2>&1 || {
            tail -n 20 "$LOG_DIR/initdb.log" >&2
            die "initdb failed (log: $LOG_DIR/initdb.log)" \
                "remove $PGDATA_DIR and re-run; check that $PG_OS_USER can write to it"
        }
    fi
    mkdir -p "$PGSOCK_DIR"
    touch "$PG_LOG"
    if [ "$(id -u)" -eq 0 ]; then
        chown "$PG_OS_USER:" "$PGSOCK_DIR" "$PG_LOG"
    fi
    # Throw-away local cluster: trade durability on OS crash for speed.
    local opts="-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PGSOCK_DIR"
    opts+=" -c synchronous_commit=off -c fsync=off -c full_page_writes=off"
    opts+=" -c max_connections=200 -c shared_buffers=256MB"
    log "Starting PostgreSQL on 127.0.0.1:$PG_PORT (log: $PG_LOG)"
    if ! run_pg "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -l "$PG_LOG" -o "$opts" -w -t 60 start >/dev/null 2>&1; then
        echo "--- last lines of $PG_LOG ---" >&2
        tail -n 25 "$PG_LOG" >&2
        die "PostgreSQL did not start (log: $PG_LOG)" \
            "if the log says the port is in use: choose another one with RELANCE_PG_PORT=54330" \
            "if the data directory is damaged: scripts/run --rebuild (drops every local database)" \
            "if it is a permission problem: $PG_OS_USER must own $PGDATA_DIR and be able to enter $RUN_DIR"
    fi
    ok "PostgreSQL cluster started on 127.0.0.1:$PG_PORT"
}

stop_cluster() {
    choose_pg_dirs
    if find_pg_bindir && pg_running; then
        run_pg "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w stop >/dev/null
    fi
}

# psql_db DB SQL: run SQL, print unaligned tuples only.
psql_db() {
    PGCONNECT_TIMEOUT=10 "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -At \
        -h "$PG_HOST" -p "$PG_PORT" -U "$PG_OS_USER" -d "$1" -c "$2"
}

db_exists() {
    [ "$(psql_db postgres "SELECT 1 FROM pg_database WHERE datname = '$1'")" = 1 ]
}

# module_state DB [MODULE]: state of MODULE (default relance_avancee) in DB
# ("" when DB or module missing)
module_state() {
    db_exists "$1" || return 0
    psql_db "$1" "SELECT state FROM ir_module_module WHERE name = '${2:-$ADDON}'" 2>/dev/null || true
}

drop_db() {
    if db_exists "$1"; then
        psql_db postgres "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '$1' AND pid <> pg_backend_pid()" >/dev/null
        "$PG_BIN/dropdb" -h "$PG_HOST" -p "$PG_PORT" -U "$PG_OS_USER" "$1"
    fi
    rm -rf "$RUN_DIR/data/filestore/$1"
}

# copy_db SRC DST: DST = copy of SRC (database and filestore)
copy_db() {
    drop_db "$2"
    psql_db postgres "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '$1' AND pid <> pg_backend_pid()" >/dev/null
    "$PG_BIN/createdb" -h "$PG_HOST" -p "$PG_PORT" -U "$PG_OS_USER" -T "$1" "$2"
    if [ -d "$RUN_DIR/data/filestore/$1" ]; then
        cp -a "$RUN_DIR/data/filestore/$1" "$RUN_DIR/data/filestore/$2"
    fi
}

# ---------------------------------------------------------------------------
# Odoo configuration
# ---------------------------------------------------------------------------
# Odoo's addons, then RELANCE_EXTRA_ADDONS (they win over the repository's
# addons of the same name), then OCA's queue_job (when ensure_queue_job put it
# there), then the repository root.
addons_path() {
    local paths="$ODOO_PATH/addons,$ODOO_PATH/odoo/addons" extra
    if [ -n "${RELANCE_EXTRA_ADDONS:-}" ]; then
        local IFS=','
        for extra in $RELANCE_EXTRA_ADDONS; do
            [ -d "$extra" ] || die "RELANCE_EXTRA_ADDONS: $extra is not a directory"
            paths="$paths,$(cd "$extra" && pwd)"
        done
    fi
    if [ -f "$QUEUE_JOB_ADDONS/queue_job/__manifest__.py" ]; then
        paths="$paths,$QUEUE_JOB_ADDONS"
    fi
    echo "$paths,$REPO_ROOT"
}

# check_addon: relance_avancee must be found in one of the addons directories
check_addon() {
    local p IFS=','
    for p in $(addons_path); do
        [ -f "$p/$ADDON/__manifest__.py" ] && return 0
    done
    die "the addon $ADDON was not found: no $ADDON/__manifest__.py in the addons path ($(addons_path))" \
        "the addon lives in $REPO_ROOT/$ADDON; check it exists and has a __manifest__.py"
}

# ensure_queue_job: OCA's queue_job for 18.0 (the glue addon's dependency), from
# PyPI into $QUEUE_JOB_TARGET (no dependencies: Odoo's requirements already hold
# requests), once. A failed download leaves nothing half-installed.
ensure_queue_job() {
    if [ -f "$QUEUE_JOB_ADDONS/queue_job/__manifest__.py" ]; then
        ok "queue_job in $QUEUE_JOB_ADDONS"
        return 0
    fi
    local tmp="$QUEUE_JOB_TARGET.tmp" pip_log="$LOG_DIR/pip-queue-job.log"
    log "Installing OCA's queue_job ($QUEUE_JOB_REQUIREMENT) into $QUEUE_JOB_TARGET (log: $pip_log)"
    rm -rf "$tmp"
    if ! "$VENV/bin/python" -m pip install --no-deps --no-compile --target "$tmp" \
        "$QUEUE_JOB_REQUIREMENT" >"$pip_log" 2>&1 ||
        [ ! -f "$tmp/odoo/addons/queue_job/__manifest__.py" ]; then
        tail -n 15 "$pip_log" >&2
        rm -rf "$tmp"
        die "pip could not install $QUEUE_JOB_REQUIREMENT (full log: $pip_log)" \
            "check that PyPI is reachable, then re-run; or put OCA's queue_job 18.0 in a folder listed in RELANCE_EXTRA_ADDONS"
    fi
    rm -rf "$QUEUE_JOB_TARGET"
    mv "$tmp" "$QUEUE_JOB_TARGET"
    ok "queue_job installed in $QUEUE_JOB_ADDONS"
}

ensure_admin_passwd() {
    local f="$RUN_DIR/admin_passwd"
    if [ ! -s "$f" ]; then
        (umask 077 && head -c 24 /dev/urandom | base64 | tr -d '/+=\n' >"$f")
    fi
    ADMIN_PASSWD="$(cat "$f")"
}

write_odoo_conf() {
    ensure_admin_passwd
    mkdir -p "$RUN_DIR/data"
    local tmp="$ODOO_CONF.tmp"
    (
        umask 077
        cat >"$tmp" <<EOF
; Generated by scripts/lib.sh on every run: edit the script, not this file.
[options]
addons_path = $(addons_path)
data_dir = $RUN_DIR/data
admin_passwd = $ADMIN_PASSWD
db_host = $PG_HOST
db_port = $PG_PORT
db_user = $PG_OS_USER
db_password = False
list_db = False
without_demo = False
http_interface = 127.0.0.1
http_port = $HTTP_PORT
gevent_port = $((HTTP_PORT + 3))
smtp_server = 127.0.0.1
smtp_port = $SMTP_PORT
smtp_ssl = False
email_from = dunning@relance.localhost
workers = 0
max_cron_threads = 1
log_level = info
EOF
    )
    mv "$tmp" "$ODOO_CONF"
    ok "Odoo config $ODOO_CONF"
}

# odoo CMD...: run odoo-bin from the venv with our config
odoo() {
    "$VENV/bin/python" "$ODOO_BIN" "$@"
}

# ---------------------------------------------------------------------------
# Everything
# ---------------------------------------------------------------------------
setup_all() {
    cd "$REPO_ROOT" || exit 1
    mkdir -p "$RUN_DIR" "$LOG_DIR"
    check_odoo_path
    timed "debian packages" ensure_debian_packages "$@"
    timed "virtualenv" ensure_venv
    timed "postgresql cluster" ensure_cluster
    timed "queue_job" ensure_queue_job
    write_odoo_conf
    check_addon
    export PGHOST="$PG_HOST" PGPORT="$PG_PORT" PGUSER="$PG_OS_USER"
    export ODOO_PATH RELANCE_ODOO_CONF="$ODOO_CONF"
}

# install_db DB LOGFILE [ODOO_OPTION...]: create DB with relance_avancee installed.
# Returns non-zero (after printing the log's tail) when the install failed.
install_db() {
    local db="$1" logfile="$2"
    shift 2
    install_module "$db" "$logfile" "$ADDON" "$@"
}

# install_demo_db DB LOGFILE [ODOO_OPTION...]: create DB with demo data, Odoo's
# French localisation (l10n_fr_account) then relance_avancee, so the demo company
# gets the French chart. Two steps: in one, Odoo would load the localisation
# after the addon (it sits deeper in the dependency graph), too late for the
# demo. The addon itself never depends on it.
install_demo_db() {
    local db="$1" logfile="$2"
    shift 2
    install_module "$db" "${logfile%.log}-l10n_fr.log" l10n_fr_account "$@" &&
        install_module "$db" "$logfile" "$ADDON" "$@"
}

# install_module DB LOGFILE MODULE[,MODULE...] [ODOO_OPTION...]: install the modules (and what they
# depend on) in DB, created when missing. Returns non-zero (after printing the
# log's tail) when the install failed.
install_module() {
    local db="$1" logfile="$2" module="$3" rc=0 state
    shift 3
    odoo -c "$ODOO_CONF" -d "$db" -i "$module" --stop-after-init --no-http \
        "$@" >"$logfile" 2>&1 || rc=$?
    # A comma-separated list of modules: each must end installed.
    local one
    state=installed
    for one in ${module//,/ }; do
        [ "$(module_state "$db" "$one")" = installed ] || state="$(module_state "$db" "$one")"
    done
    if [ "$rc" -ne 0 ] || [ "$state" != installed ] ||
        grep -qE '^[0-9-]+ [0-9:,]+ [0-9]+ (ERROR|CRITICAL) ' "$logfile"; then
        {
            echo
            echo "=== install of $module in database $db FAILED (exit code $rc, module state '${state:-absent}') ==="
            echo "--- ERROR/CRITICAL lines of $logfile ---"
            grep -E -A3 '^[0-9-]+ [0-9:,]+ [0-9]+ (ERROR|CRITICAL) ' "$logfile" | head -n 60
            echo "--- last 40 lines of $logfile ---"
            tail -n 40 "$logfile"
            echo "=== end of $db install log ==="
        } >&2
        return 1
    fi
    return 0
}
