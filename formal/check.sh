#!/usr/bin/env bash
# Model-check every TLA+ model in formal/ with tla-checker (binary `tla`).
#
#   formal/X.tla + formal/X.cfg        must hold (also any X.ok-*.cfg)
#   formal/X.bug-<what>.cfg            a known-wrong variant: must be
#                                      reported as an invariant violation;
#                                      the cfg names the invariant it must
#                                      break on a line `\* expect: <Inv>`
#   formal/X.reach-<what>.cfg          a witness: the correct model must
#                                      violate the `Never<scenario>`
#                                      predicate named the same way, showing
#                                      the scenario is reachable
#
# A bug cfg counts as caught only when the checker exits non-zero AND prints
# `Invariant <n> (<expected>) violated!`.  A parse error, an evaluation error,
# a deadlock, a state/depth limit or a different invariant is a failure.
# Prints one line per check and a final `N passed, M failed`.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

TLA_CHECKER_VERSION="0.24.11"

# Where `cargo install` puts binaries.
cargo_bin="${CARGO_INSTALL_ROOT:-${CARGO_HOME:-$HOME/.cargo}}/bin"
export PATH="$cargo_bin:$PATH"
if [ "$(tla --version 2>/dev/null || true)" != "tla $TLA_CHECKER_VERSION" ]; then
    echo "installing tla-checker $TLA_CHECKER_VERSION (takes a few minutes)"
    cargo install tla-checker --version "$TLA_CHECKER_VERSION" --locked
fi
if [ "$(tla --version 2>/dev/null || true)" != "tla $TLA_CHECKER_VERSION" ]; then
    echo "FAIL  checker: tla $TLA_CHECKER_VERSION not runnable after install (found: $(command -v tla || echo none))"
    echo "0 passed, 1 failed"
    exit 1
fi
echo "checker: $(tla --version) ($(command -v tla))"

passed=0
failed=0
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

run_tla() { # spec cfg -> sets rc, writes $tmp/out and $tmp/err
    rc=0
    tla "$1" --config "$2" >"$tmp/out" 2>"$tmp/err" || rc=$?
}

report_fail() { # name reason
    failed=$((failed + 1))
    echo "FAIL  $1: $2"
    sed 's/^/      | /' "$tmp/out" | grep -vE '^\s*\|\s*$' | tail -n 25 || true
    grep -vE 'states explored|Progress:|Computing initial|Found [0-9]+ initial|Starting exploration|Exploring states' \
        "$tmp/err" | sed 's/^/      ! /' | tail -n 15 || true
}

# A clean run must say nothing on stderr but its progress lines, except the
# checker's note that some predicates are not checked when those are only the
# Never* witnesses (checked by the reach-*.cfg files).  Any other unchecked
# predicate is an invariant someone forgot to list in the cfg: a failure.
stderr_noise() {
    local line names n
    while IFS= read -r line; do
        case "$line" in
        *"states explored"* | *"Progress:"* | *"Computing initial"* | *"initial states"* | \
            *"Starting exploration"* | *"Exploring states"* | "") ;;
        "Warning: these definitions look like boolean predicates"*)
            names="${line#*not being checked: }"
            names="${names%%. Name one*}"
            for n in ${names//,/ }; do
                case "$n" in Never*) ;; *) echo "unchecked predicate: $n" ;; esac
            done
            ;;
        *) echo "$line" ;;
        esac
    done <"$tmp/err"
}

shopt -s nullglob
specs=(*.tla)
if [ "${#specs[@]}" -eq 0 ]; then
    echo "no .tla files in $here"
    echo "0 passed, 1 failed"
    exit 1
fi

start=$SECONDS
for spec in "${specs[@]}"; do
    model="${spec%.tla}"
    if [ ! -f "$model.cfg" ]; then
        failed=$((failed + 1))
        echo "FAIL  $model: no $model.cfg"
        continue
    fi
    bugs=("$model".bug-*.cfg)
    if [ "${#bugs[@]}" -eq 0 ]; then
        failed=$((failed + 1))
        echo "FAIL  $model: no $model.bug-*.cfg (a model that cannot fail proves nothing)"
    fi

    for cfg in "$model.cfg" "$model".ok-*.cfg; do
        name="${cfg%.cfg}"
        t0=$SECONDS
        run_tla "$spec" "$cfg"
        noise="$(stderr_noise)"
        if [ "$rc" -eq 0 ] && grep -q '^Model checking complete. No errors found.$' "$tmp/out" && [ -z "$noise" ]; then
            states="$(sed -n 's/^  Reachable states: \([0-9]*\)$/\1/p' "$tmp/out")"
            depth="$(sed -n 's/^  Max depth: \([0-9]*\)$/\1/p' "$tmp/out")"
            passed=$((passed + 1))
            echo "ok    $name: holds, $states states, depth $depth ($((SECONDS - t0))s)"
        else
            report_fail "$name" "expected to hold (exit $rc)${noise:+; $noise}"
        fi
    done

    for cfg in "${bugs[@]}" "$model".reach-*.cfg; do
        name="${cfg%.cfg}"
        case "$cfg" in *.reach-*) verb="reached" ;; *) verb="caught" ;; esac
        expect="$(sed -n 's/^\\\* *expect: *\([A-Za-z_][A-Za-z0-9_]*\) *$/\1/p' "$cfg" | head -n 1)"
        if [ -z "$expect" ]; then
            failed=$((failed + 1))
            echo "FAIL  $name: no '\\* expect: <Invariant>' line"
            continue
        fi
        t0=$SECONDS
        run_tla "$spec" "$cfg"
        if [ "$rc" -ne 0 ] && grep -qE "^Invariant [0-9]+ \\($expect\\) violated!$" "$tmp/out"; then
            explored="$(sed -n 's/^  States explored: \([0-9]*\)$/\1/p' "$tmp/out")"
            trace="$(sed -n 's/^Counterexample trace (\([0-9]*\) states):$/\1/p' "$tmp/out")"
            passed=$((passed + 1))
            echo "ok    $name: $verb, $expect violated after $explored states, trace of $trace states ($((SECONDS - t0))s)"
        elif [ "$rc" -ne 0 ] && grep -qE '^Invariant [0-9]+ \(.*\) violated!$' "$tmp/out"; then
            report_fail "$name" "violated $(sed -n 's/^Invariant [0-9]* (\(.*\)) violated!$/\1/p' "$tmp/out"), expected $expect"
        else
            report_fail "$name" "expected invariant $expect to be violated (exit $rc)"
        fi
    done
done

echo "total time: $((SECONDS - start))s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
