#!/usr/bin/env bash
# Lints the Swift sources under Sources and Tests against .swift-format (120 columns, 4-space indentation,
# no force unwrap, no try!, no implicitly unwrapped optionals). Exit 1 on any finding. The files are those
# git tracks, so build directories (Tests/KitConsumer/.build) and generated files are left out.
# `swift format --in-place` applies the layout rules; the rest (force unwraps, naming) are fixed by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
git ls-files -z -- 'Sources/*.swift' 'Tests/*.swift' | xargs -0 swift format lint --strict --parallel
