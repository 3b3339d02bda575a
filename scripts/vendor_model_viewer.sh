#!/usr/bin/env bash
# Re-vendor @google/model-viewer for the offline HTML report (photo3d report).
# Copies the standalone ES-module bundle (three.js, lit and fflate included) and its licence into
# src/photo3d/eval/static/ and records the version and checksum in NOTICE.model-viewer.
# Usage: scripts/vendor_model_viewer.sh [VERSION]   (default 4.4.0; needs npm)
set -euo pipefail
VERSION="${1:-4.4.0}"
DEST="$(cd "$(dirname "$0")/.." && pwd)/src/photo3d/eval/static"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
(cd "$TMP" && npm pack --silent "@google/model-viewer@${VERSION}" >/dev/null && tar xzf google-model-viewer-*.tgz)
# dist/model-viewer.min.js bundles three.js; dist/model-viewer-module*.js expect three as an import.
cp "$TMP/package/dist/model-viewer.min.js" "$DEST/model-viewer.min.js"
cp "$TMP/package/LICENSE" "$DEST/LICENSE.model-viewer"
SHA="$(sha256sum "$DEST/model-viewer.min.js" | cut -d' ' -f1)"
cat > "$DEST/NOTICE.model-viewer" <<NOTICE
model-viewer.min.js is the unmodified file dist/model-viewer.min.js of the npm package
@google/model-viewer ${VERSION} (https://github.com/google/model-viewer), Copyright Google LLC,
licensed under the Apache License 2.0 (LICENSE.model-viewer).
sha256 ${SHA}
The bundle includes third-party code under its own licences, as stated in the bundle's headers:
three.js (MIT, Copyright 2010-2026 Three.js Authors), lit / @lit/reactive-element (BSD-3-Clause,
Copyright 2017-2019 Google LLC), fflate (MIT, Copyright 2020 Arjun Barrett).
Reproduce with scripts/vendor_model_viewer.sh ${VERSION}.
NOTICE
echo "vendored @google/model-viewer ${VERSION} (sha256 ${SHA}) into ${DEST}"
