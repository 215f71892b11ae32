#!/bin/sh
# Start a kernel contained: run as root inside a fresh mount namespace (`unshare --mount [--net] --`),
# hide what the kernel must not see, then drop to the sandbox user for good and exec the kernel.
# usage: kernel_wrap.sh UID GID SCRATCH PYTHON_PREFIX HIDDEN(colon-separated) -- kernel command...
set -eu
uid=$1; gid=$2; scratch=$3; prefix=$4; hidden=$5; shift 5; [ "$1" = "--" ] && shift

# /root holds the Python installation of this machine (pyenv) and nothing the kernel should read:
# cover it, then bring back the Python prefix alone, read-only.
case "$prefix" in
  /root/*)
    mkdir -p "$scratch"
    mount --bind "$prefix" "$scratch"
    mount -t tmpfs -o mode=755,size=64k tmpfs /root
    mkdir -p "$prefix"
    mount --move "$scratch" "$prefix"
    mount -o remount,bind,ro "$prefix"
    ;;
  *) mount -t tmpfs -o mode=700,size=64k tmpfs /root ;;
esac

# The course's private directories: empty and unreadable in here.
IFS=:
for path in $hidden; do
  if [ -d "$path" ]; then mount -t tmpfs -o mode=000,size=4k tmpfs "$path"
  elif [ -f "$path" ]; then mount --bind /dev/null "$path"
  fi
done
unset IFS

exec setpriv --reuid="$uid" --regid="$gid" --clear-groups --inh-caps=-all --bounding-set=-all \
  --no-new-privs -- "$@"
