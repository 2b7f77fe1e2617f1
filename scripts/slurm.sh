#!/usr/bin/env bash
# The tests' two-node Slurm cluster (scripts/lib/slurm.sh): munged, slurmctld, one slurmd per network
# namespace (node1, node2 on a private bridge, 10.231.0.0/24) and a login node (sshd on 127.0.0.1).
# Every command is idempotent; each step of `up` prints its time.
#   up | down     start / stop the cluster; down leaves nothing on the host
#   status        "munge|controller|login up|down", "node NAME STATE", then "cluster up|down"
#   env           print the login address, ssh config and key, node addresses (KEY=VALUE)
#   leftovers     print anything of the cluster still on the host; exit 1 if any
# By hand: eval "$(bash scripts/slurm.sh env | sed 's/^/export /')" then
#   ssh -F "$PULUMI_TESSERACT_SLURM_SSH_CONFIG" pt-slurm-login sinfo
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
source "$REPO_ROOT/scripts/lib/slurm.sh"
case "${1:-}" in
  up) t0=$SECONDS; slurm_up; log "slurm cluster up ($((SECONDS - t0)) s)" ;;
  down) step "slurm cluster down" slurm_down ;;
  env) slurm_env ;;
  leftovers) slurm_leftovers ;;
  status)
    slurm_pid_alive munged && echo "munge up" || echo "munge down"
    slurm_pid_alive slurmctld && slurm_cmd scontrol ping >/dev/null 2>&1 && echo "controller up" || echo "controller down"
    for n in "${SLURM_NODES[@]}"; do
      st=down; slurm_pid_alive "slurmd-$n" && st="$(slurm_cmd sinfo -h -N -n "$n" -o %T 2>/dev/null || echo unknown)"
      echo "node $n ${st:-unknown} ($(slurm_node_addr "$n"))"
    done
    slurm_pid_alive sshd && echo "login up (127.0.0.1:$SLURM_LOGIN_PORT)" || echo "login down"
    slurm_ready && echo "cluster up" || echo "cluster down"
    ;;
  *) sed -n '2,11p' "$0" >&2; exit 2 ;;
esac
