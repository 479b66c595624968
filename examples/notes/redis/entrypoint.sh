#!/bin/sh
# Make /data (a fresh volume is owned by root) the redis user's, then run the command as that user,
# in the foreground as PID 1 so SIGTERM reaches Redis directly.
set -eu
mkdir -p /data
chown redis:redis /data
exec setpriv --reuid=redis --regid=redis --init-groups -- "$@"
