#!/bin/bash
# Runs inside the chroot after the packages and npm CLIs are in.
set -euo pipefail
# Global npm installs for the shed user go to ~/.local so `npm i -g` works without sudo.
# Each level by name: install -d would make the parents root-owned, and tools write to ~/.local/share.
install -d -o 1000 -g 1000 /home/shed/.local /home/shed/.local/bin /home/shed/.local/share
printf 'prefix=/home/shed/.local\n' > /home/shed/.npmrc
chown 1000:1000 /home/shed/.npmrc
printf 'export PATH="$HOME/.local/bin:$PATH"\n' > /etc/profile.d/shed-local-bin.sh
