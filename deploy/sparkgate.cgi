#!/bin/sh
# sparkgate as a plain CGI program, for hosts without FastCGI: the web server runs this
# once per request and sparkgate answers that one request (stdin not being a socket tells
# it so).  Copy next to your other CGI programs, edit the two settings, make it executable.
# Each request connects to the master anew; prefer FastCGI where the host has it.
# ---- settings ----------------------------------------------------------------------------
SPARKGATE_BIN=/usr/local/bin/sparkgate
SPARKGATE_ARGS="--master spark://127.0.0.1:7077"
# -------------------------------------------------------------------------------------------
# shellcheck disable=SC2086  # SPARKGATE_ARGS is a list of options
exec "$SPARKGATE_BIN" $SPARKGATE_ARGS
