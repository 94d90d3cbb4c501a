#!/bin/bash
# Runs inside the chroot after the packages are in. Makes the image a shed: the `shed` user,
# an identity-free system (first boot makes machine-id, host keys, hostname), quick boots.
set -euo pipefail

id shed >/dev/null 2>&1 || useradd -m -u 1000 -U -s /bin/bash shed
echo 'shed ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/shed
chmod 0440 /etc/sudoers.d/shed
mkdir -p /workspace && chown 1000:1000 /workspace

# Identity: an empty machine-id means "first boot": systemd makes a fresh one per shed and
# commits it to the shed's own upper disk. Host keys come from shed-firstboot.service.
: > /etc/machine-id
rm -f /var/lib/dbus/machine-id /etc/ssh/ssh_host_*
echo shed > /etc/hostname
chmod 0644 /etc/hostname

# Networking: systemd-networkd (DHCP on any ethernet) and resolved for DNS.
systemctl enable systemd-networkd.service systemd-resolved.service
ln -sf /run/systemd/resolve/stub-resolv.conf /etc/resolv.conf
# Nothing waits for the network to be "online": the agent must come up without it.
systemctl mask systemd-networkd-wait-online.service
# Boot fast under emulation: no periodic jobs in a dev VM, no random seed wait.
for unit in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service \
  fstrim.timer man-db.timer dpkg-db-backup.timer systemd-tmpfiles-clean.timer; do
  systemctl mask "$unit" 2>/dev/null || true
done
# sshd runs for tools that want it inside; shed's own SSH door goes through the agent.
systemctl enable ssh.service 2>/dev/null || true
# Left behind by systemd-resolved's postinst (the build host's resolver).
rm -f /etc/.resolv.conf.systemd-resolved.bak
