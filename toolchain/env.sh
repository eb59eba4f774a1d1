# Sourced by every entry point after toolchain/ensure.sh: puts the project's tools
# first on PATH and keeps Pulumi inside the project (no writes to the user's home,
# no plugin downloads, no update checks).
_mr_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export MINDROOM_TOOLS_DIR=${MINDROOM_TOOLS_DIR:-$_mr_root/.tools}
export PATH="$MINDROOM_TOOLS_DIR/pulumi/bin:$MINDROOM_TOOLS_DIR/node/bin:$_mr_root/node_modules/.bin:$PATH"
export PULUMI_HOME="$MINDROOM_TOOLS_DIR/pulumi-home"
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
unset _mr_root
