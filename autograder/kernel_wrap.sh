#!/bin/sh
# Start a kernel contained: run as root inside a fresh mount namespace (`unshare --mount [--net] --`),
# cover the directories the kernel must not see, then drop to the sandbox user for good and exec it.
#
# usage: kernel_wrap.sh UID GID CGROUP_PROCS [COVER KEEPS]... -- kernel command...
#   CGROUP_PROCS  colon-separated cgroup.procs files to join ("" for none);
#   COVER  a directory to replace with an empty file system;
#   KEEPS  colon-separated paths (directories or files) inside COVER to bring back, read-only, or
#          writable when marked with a leading "+" ("" for none).
set -eu
umask 022  # directories made below for kept paths must be traversable by the kernel's user
uid=$1; gid=$2; procs=$3; shift 3
IFS=:
for file in $procs; do echo $$ > "$file"; done
unset IFS
# Kept paths wait on a private scratch file system while their cover goes on (it may cover where they live).
scratch=/mnt
mount -t tmpfs -o mode=700,size=64k tmpfs "$scratch"
n=0
while [ "$1" != "--" ]; do
  cover=$1; keeps=$2; shift 2
  [ -d "$cover" ] || continue
  IFS=:
  for keep in $keeps; do
    n=$((n + 1)); path=${keep#+}
    if [ -d "$path" ]; then mkdir "$scratch/$n"; elif [ -e "$path" ]; then : > "$scratch/$n"; else continue; fi
    mount --bind "$path" "$scratch/$n"
  done
  mount -t tmpfs -o mode=755,size=64k tmpfs "$cover"
  n=0
  for keep in $keeps; do
    n=$((n + 1)); path=${keep#+}
    mountpoint -q "$scratch/$n" 2>/dev/null || continue
    if [ -d "$scratch/$n" ]; then mkdir -p "$path"; else mkdir -p "${path%/*}"; : > "$path"; fi
    mount --move "$scratch/$n" "$path"
    [ "$keep" = "$path" ] && mount -o remount,bind,ro "$path"
  done
  unset IFS
  for entry in "$scratch"/*; do rmdir "$entry" 2>/dev/null || rm -f "$entry" 2>/dev/null || true; done  # never rm -r
  n=0
done
shift
umask 077
exec setpriv --reuid="$uid" --regid="$gid" --clear-groups --inh-caps=-all --bounding-set=-all \
  --no-new-privs -- "$@"
