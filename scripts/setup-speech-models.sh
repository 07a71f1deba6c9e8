#!/usr/bin/env bash
# Makes .local/models/en-us-8k: the stock pocketsphinx en-us acoustic model with a narrowband
# (8 kHz) front end, for PocketsphinxSTT({ sampleRate: 8000 }). Idempotent; rerun after a
# pocketsphinx-en-us upgrade. Safe to run by hand: bash scripts/setup-speech-models.sh
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
STOCK=/usr/share/pocketsphinx/model/en-us/en-us
TARGET="$ROOT/.local/models/en-us-8k"

say() { printf '[speech-models] %s\n' "$*"; }

# The mel filters must stay below the 4 kHz Nyquist limit; these edges decoded best of those
# tried on band-limited synthetic speech. pocketsphinx reads feat.params over its command-line
# flags, so the front end has to be changed in a copy of the model.
# The -cmninit is a cepstral mean measured on phone audio: it seeds live cepstral normalisation
# (batch mode, used for whole utterances, computes its own mean).
NARROWBAND_PARAMS=(
  "-lowerf 200"
  "-upperf 3900"
  "-nfilt 25"
  "-cmninit 42.12,28.93,-34.18,37.83,-24.47,-25.75,8.11,-39.18,-1.41,-12.42,-22.85,6.24,-14.44"
)

if [ ! -f "$STOCK/mdef" ]; then
  echo "setup-speech-models: $STOCK is missing; apt-get install -y pocketsphinx pocketsphinx-en-us python3-pocketsphinx" >&2
  exit 1
fi

wanted_params() {
  # The stock file minus the lines we replace, then ours.
  grep -vE '^-(lowerf|upperf|nfilt|cmninit) ' "$STOCK/feat.params"
  printf '%s\n' "${NARROWBAND_PARAMS[@]}"
}

up_to_date() {
  [ -f "$TARGET/feat.params" ] && diff -q <(wanted_params) "$TARGET/feat.params" >/dev/null || return 1
  local f
  for f in "$STOCK"/*; do
    [ "$(basename "$f")" = feat.params ] || cmp -s "$f" "$TARGET/$(basename "$f")" || return 1
  done
}

if up_to_date; then
  say "8 kHz model up to date in ${TARGET#"$ROOT"/}"
  exit 0
fi

say "copying $STOCK to ${TARGET#"$ROOT"/}"
TMP="$TARGET.tmp.$$"
rm -rf "$TMP"
mkdir -p "$TMP"
trap 'rm -rf "$TMP"' EXIT
cp "$STOCK"/* "$TMP"/
wanted_params >"$TMP/feat.params"
rm -rf "$TARGET"
mv "$TMP" "$TARGET"
trap - EXIT
say "wrote narrowband front end: ${NARROWBAND_PARAMS[*]:0:3}, -cmninit (13 values)"
say "8 kHz model ready"
