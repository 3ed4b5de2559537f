#!/bin/sh
# Boots one sandbox node. node.ts runs it as
#   setpriv --pdeathsig KILL unshare --mount --uts --pid --fork --kill-child --mount-proc -- sh node-init.sh NODE_DIR HOSTNAME
# so it starts as pid 1 of fresh mount, UTS and PID namespaces, mounts the node's file systems, and becomes the
# node's sshd, which stays pid 1: killing it tears down the whole node.
#
# NODE_DIR/fstab (written by node.ts) lists the overlays (/etc, /var, ...; copy-on-write) and then the bind
# mounts of the node's private directories. One `mount -a` does them all, in order; X-mount.mkdir creates
# mount points inside the overlays, so nothing is created on the host.
set -eu
mount -a -T "$1/fstab"
hostname "$2"
exec /usr/sbin/sshd -D -e -f /etc/ssh/sshd_config
