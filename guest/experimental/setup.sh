#!/bin/bash
# Runs inside the chroot. The brokering entry points are the shed agent itself (it dispatches
# on argv0); names and paths are listed in guest/README.md ("Credential brokering").
set -euo pipefail
ln -sf /usr/lib/shed/shed-agent /usr/local/bin/docker-credential-shed
ln -sf /usr/lib/shed/shed-agent /usr/local/bin/shed-ext
install -d /etc/shed
cat > /etc/shed/broker.env <<'ENV'
SSH_AUTH_SOCK=/run/shed/ssh-agent.sock
AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:1338/creds
ENV
# Login shells get the same environment (systemd services read the file as EnvironmentFile=).
cat > /etc/profile.d/shed-broker.sh <<'ENV'
set -a; . /etc/shed/broker.env; set +a
ENV
install -d -o 1000 -g 1000 -m 0700 /home/shed/.docker
printf '{"credsStore":"shed"}\n' > /home/shed/.docker/config.json
chown 1000:1000 /home/shed/.docker/config.json
