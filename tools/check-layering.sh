#!/usr/bin/env bash
# The include rule that makes core/'s folders its layers: a file under core/LAYER/ may
# include only headers of its own folder or of a folder below it; core/gateway.* sits on
# top; fcgi/ (the front end) sees only the gateway's public header and the request and
# response types; no core file includes libfcgi; the front end's FastCGI codec
# (fcgi/record.*, fcgi/link.*) includes nothing but itself.  Prints every include that goes the wrong
# way and exits 1 if there is one.
# Usage: tools/check-layering.sh [ROOT]   (run by `make unit`)
set -uo pipefail
cd "${1:-$(dirname "$0")/..}"
layers=(base wire spark ops tenant servlets)
rank() {   # rank of a folder name; the gateway (top) is above every layer
  local i
  for i in "${!layers[@]}"; do [[ ${layers[$i]} == "$1" ]] && { echo "$i"; return; }; done
  echo 99
}
bad=0 checked=0
complain() { echo "layering: $1"; bad=$((bad + 1)); }
for f in core/*/*.[ch] core/*.[ch]; do
  [[ -f $f ]] || continue
  dir=${f#core/}; dir=${dir%%/*}; [[ $dir == *.[ch] ]] && dir=gateway
  own=$(rank "$dir")
  while IFS= read -r line; do
    checked=$((checked + 1))
    target=$(sed -E 's/^#include "([^"]+)".*/\1/' <<<"$line")
    case "$target" in
      */versions/*.inc) to=spark ;;          # generated tables of core/spark/versions/
      */*) to=${target%%/*} ;;
      *)   to=gateway ;;
    esac
    if [[ $target == ../* || $target == */../* ]]; then
      complain "$f includes \"$target\": name headers from core/ (\"layer/name.h\")"
    elif [[ $to == gateway && ! -f core/$target ]]; then
      complain "$f includes \"$target\": not a header of core/"
    elif (( $(rank "$to") > own )); then
      complain "$f ($dir) includes \"$target\" from the higher layer $to"
    fi
  done < <(grep -hE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" | sed -E 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*/#include /')
  if grep -qE '^[[:space:]]*#[[:space:]]*include[[:space:]]*<fcgi' "$f"; then
    complain "$f includes libfcgi: only fcgi/ may"
  fi
done
# The front end adapts FastCGI to the gateway: its own headers, gateway.h and base/http.h
# (gateway_internal.h, the gateway's parts, is not for it).
for f in fcgi/*.[ch]; do
  while IFS= read -r target; do
    checked=$((checked + 1))
    case "$target" in
      gateway.h|base/http.h) ;;
      */*|../*) complain "$f includes \"$target\": the front end sees only gateway.h and base/http.h" ;;
      *) [[ -f fcgi/$target ]] || complain "$f includes \"$target\": the front end sees only gateway.h and base/http.h" ;;
    esac
  done < <(grep -hE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" | sed -E 's/^[^"]*"([^"]+)".*/\1/')
done
# The FastCGI codec and connection (fcgi/record.*, fcgi/link.*) stand alone, so the unit test
# and the fuzz target can drive them: no libfcgi, nothing of core, only each other.
for f in fcgi/record.[ch] fcgi/link.[ch]; do
  [[ -f $f ]] || continue
  while IFS= read -r target; do
    checked=$((checked + 1))
    case "$target" in
      record.h|link.h) ;;
      *) complain "$f includes \"$target\": the FastCGI codec stands alone (record.h, link.h)" ;;
    esac
  done < <(grep -hE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" | sed -E 's/^[^"]*"([^"]+)".*/\1/')
  if grep -qE '^[[:space:]]*#[[:space:]]*include[[:space:]]*<fcgi' "$f"; then
    complain "$f includes libfcgi: the FastCGI codec stands alone"
  fi
done
if (( bad )); then
  echo "layering: $bad wrong-way includes (of $checked); the layers, lowest first: ${layers[*]}, then gateway"
  exit 1
fi
echo "layering: $checked includes go down (${layers[*]}, gateway; fcgi/ sees gateway.h and base/http.h; fcgi/record and fcgi/link stand alone)"
