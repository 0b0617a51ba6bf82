#!/usr/bin/env bash
# The translators' round on pesdc's gettext catalog (domain pesdc, see pesdc/i18n.py):
#
#   scripts/i18n.sh               extract every marked string, update the zh_CN catalog
#                                 (new strings empty, strings gone from the code dropped),
#                                 compile it; then translate what is empty or fuzzy in
#                                 cli/pesdc/locale/zh_CN/LC_MESSAGES/pesdc.po, run it again
#                                 and commit the .po and the .mo
#   scripts/i18n.sh extract OUT   only the extraction, into the template OUT
#                                 (tests/i18n compares it with the catalog)
#   scripts/i18n.sh compile       only the compilation of the .po into the .mo
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
python="${PYTHON:-.venv/bin/python}"  # the venv's, where pesdc and Babel are installed
pybabel() { "$python" -m babel.messages.frontend "$@"; }
locale_dir=cli/pesdc/locale
po="$locale_dir/zh_CN/LC_MESSAGES/pesdc.po"

extract() {
  # -k NC_:1c,2: pesdc.i18n's marker for a string with its context (N_ is a default).
  # Locations name the file only: a code edit elsewhere in a file does not change the .po.
  pybabel -q extract -F babel.cfg -k NC_:1c,2 -c TRANSLATORS: --add-location=file \
    --project=pesdc --copyright-holder="pesdc authors" -o "$1" cli/pesdc
}

compile() {
  pybabel -q compile -D pesdc -d "$locale_dir" -l zh_CN
}

case "${1:-all}" in
  extract) extract "$2" ;;
  compile) compile ;;
  all)
    pot="$(mktemp --suffix=.pot)"
    trap 'rm -f "$pot"' EXIT
    extract "$pot"
    if [ -e "$po" ]; then
      pybabel -q update -D pesdc -d "$locale_dir" -l zh_CN -i "$pot" \
        --ignore-obsolete --ignore-pot-creation-date
    else
      pybabel -q init -D pesdc -d "$locale_dir" -l zh_CN -i "$pot"
    fi
    compile
    "$python" - "$po" <<'PY'
import sys
from babel.messages.pofile import read_po
with open(sys.argv[1], "rb") as f:
    cat = read_po(f)
msgs = [m for m in cat if m.id]
todo = [m.id for m in msgs if not m.string or m.fuzzy]
print(f"{sys.argv[1]}: {len(msgs)} messages, {len(todo)} to translate (empty or fuzzy)")
PY
    ;;
  *) echo "usage: scripts/i18n.sh [extract OUT.pot | compile]" >&2; exit 2 ;;
esac
