#!/bin/bash
# Runs inside the chroot after the packages and npm CLIs are in.
set -euo pipefail
usermod -aG docker shed
systemctl enable docker.service containerd.service 2>/dev/null || true
