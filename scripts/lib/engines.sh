# Packages the engine-discovery tests need (test/integration/docker-engines.test.ts and
# podman-engine.test.ts): an OpenSSH server and client for the ssh:// engine, openssl for the TLS
# certificates, Debian's Podman with its netavark network backend, and the mount-namespace tools.
# Test setup only: the root stack needs none of it. Nothing is started here; the tests start
# private daemons (sshd on a free 127.0.0.1 port, `podman system service` on a temporary socket).
# shellcheck shell=bash

ENGINE_TEST_PACKAGES=(openssh-server openssh-client openssl podman netavark aardvark-dns catatonit
  util-linux iptables python3 zstd)

ensure_engine_test_packages() {
  need_apt "${ENGINE_TEST_PACKAGES[@]}"
  # Debian's openssh-server starts the system sshd from its postinst where an init system runs;
  # the tests never use it. /run/sshd is what the private sshd needs.
  mkdir -p /run/sshd
}
