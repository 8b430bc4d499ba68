#!/bin/sh
# Refresh the pt-BR catalog from the sources.
#
# The catalog holds the app's strings AND Flask-AppBuilder's own strings: FAB's
# pt_BR catalog misses or mistranslates several of them ("Add", "Edit", "Delete",
# "Not a valid choice", the delete confirmation...). flask-babel merges the app
# catalog over FAB's, so the app's entries win. Extracting FAB's templates and
# Python together with the app's keeps those entries from being dropped by
# `pybabel update`.
#
# Usage: scripts/update_translations.sh   (then translate new/empty entries,
#        and run `make check-translations translations`)
set -eu
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
FAB_DIR=$($BIN/python -c 'import os, flask_appbuilder; print(os.path.dirname(flask_appbuilder.__file__))')
FAB_DIR=$(realpath --relative-to=. "$FAB_DIR")
POT=$(mktemp "${TMPDIR:-/tmp}/atende-messages.XXXXXX.pot")
trap 'rm -f "$POT"' EXIT

# babel/babel.cfg patterns are relative to each scanned directory:
# **.py and templates/**.html match both app/ and flask_appbuilder/.
$BIN/pybabel extract -F babel/babel.cfg -k _l -k lazy_gettext \
    --project Atende --copyright-holder Atende --sort-by-file \
    -o "$POT" app "$FAB_DIR" >/dev/null

if [ -f app/translations/pt_BR/LC_MESSAGES/messages.po ]; then
    $BIN/pybabel update -i "$POT" -d app/translations -l pt_BR --no-fuzzy-matching --ignore-obsolete
else
    $BIN/pybabel init -i "$POT" -d app/translations -l pt_BR
fi
$BIN/python scripts/check_translations.py app/translations/pt_BR/LC_MESSAGES/messages.po || {
    echo "Traduza as entradas acima em app/translations/pt_BR/LC_MESSAGES/messages.po" >&2
    exit 1
}
$BIN/pybabel compile -d app/translations --statistics
