# shed: build, check, test, bench. `make quickstart` is the README's first command.
SHELL := /bin/bash
BUN := node_modules/.bin/bun
VITEST := $(BUN) --bun vitest run
APT_PACKAGES := docker.io skopeo docker-registry erofs-utils e2fsprogs debootstrap tmux \
  openssh-client openssh-server openssl sshpass git ssh-audit busybox-static apache2-utils ca-certificates curl bash-completion \
  qemu-system-x86 cpio kmod iproute2 nftables iptables dnsmasq-base util-linux systemd xfsprogs libcap2-bin file diod
## The quickstart's server: state dir and ports (override for a second server beside another).
STATE_DIR ?= /var/lib/shed
HTTP_PORT ?= 8080
SSH_PORT ?= 2222
QEMU_ACCEL ?= auto
## The CLI pointed at that server (a client config in STATE_DIR/client once the quickstart ran;
## without one: the local server on 8080).
SHED := SHED_CONFIG_DIR=$(STATE_DIR)/client dist/shed
## Prints which backend the shed uses and, when it is the default, why detection chose it.
QS_SAY_BACKEND := const get = (p) => fetch("http://127.0.0.1:$(HTTP_PORT)/api/" + p).then((r) => r.json()); \
  const [info, shed] = await Promise.all([get("info"), get("sheds/hello")]); \
  console.log("shed hello runs on " + shed.backend + (shed.backend === info.defaultBackend ? ": " + info.defaultBackendReason : ""));
SHED_HINT := $(if $(filter 8080:2222:/var/lib/shed,$(HTTP_PORT):$(SSH_PORT):$(STATE_DIR)),dist/shed,SHED_CONFIG_DIR=$(STATE_DIR)/client dist/shed)

.PHONY: kernel-fc setup deps dockerd build cross check typecheck lint unit test integration bench quickstart quickstart-stop quickstart-clean clean \
  image-base image-devtools image-default

## setup: apt packages the tests need (when missing), npm ci, a running dockerd
setup: deps dockerd

deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing: $$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi
	@[ -x $(BUN) ] && [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund

## dockerd: start the Docker engine when it is not running (machines without systemd)
dockerd:
	@if ! docker info >/dev/null 2>&1; then \
	  echo "starting dockerd"; \
	  (nohup dockerd >/var/log/dockerd.log 2>&1 &); \
	  for i in $$(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done; \
	  docker info >/dev/null 2>&1 || { echo "dockerd did not start; see /var/log/dockerd.log"; exit 1; }; \
	fi

build:
	$(BUN) build.ts

## cross: arm64 builds (Bun fetches each target runtime once): everything for linux-arm64, and for
## darwin-arm64 (the vz backend's Mac) the CLI and a shed-server carrying the linux-arm64 agent its guests run
cross:
	$(BUN) build.ts --target linux-arm64
	$(BUN) build.ts --only shed --target darwin-arm64
	$(BUN) build.ts --only shed-server --target darwin-arm64 --agent dist/shed-agent-linux-arm64

## check: fast: typecheck, lint, unit tests
check: typecheck lint unit

typecheck:
	node_modules/.bin/tsc --noEmit -p .

## lint: biome; and /api/openapi.json against Redocly's recommended rules, but for three that cannot
## hold here (no license: the project is private; the agent WebSocket answers 101, not 2xx; the public
## GETs that take no input have no 4xx of their own). Redocly runs under Bun (faster), telemetry off.
lint:
	node_modules/.bin/biome check src test bench guest build.ts vitest.config.ts
	@$(BUN) -e 'import { openApiDocument } from "./src/api/openapi.ts"; await Bun.write("dist/openapi.json", JSON.stringify(openApiDocument("lint"), null, 1))'
	@REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true $(BUN) node_modules/@redocly/cli/bin/cli.js lint --extends recommended \
	  --skip-rule info-license --skip-rule operation-2xx-response --skip-rule operation-4xx-response dist/openapi.json

unit:
	$(VITEST) --project unit

integration: build
	$(VITEST) --project integration

## test: everything (what CI runs)
test: setup check integration

bench: build
	$(BUN) bench/run.ts

## image-base, image-devtools, image-default: guest images from guest/<recipe> (root, debootstrap;
## cached), built by `shed image build --recipe` into the local server's store as shed/<recipe>:latest
## (the built-in aliases base, devtools, default). They run on the qemu and the docker backend.
image-base image-devtools image-default: build
	$(SHED) image build --recipe guest/$(@:image-%=%) -t shed/$(@:image-%=%):latest --agent dist/shed-agent

## kernel-fc: the Firecracker guest kernel, an uncompressed vmlinux (dist/vmlinux-fc): Debian's
## linux-source-6.1 with Firecracker's own guest config plus shed's fragment (guest/kernel/), every
## fragment option checked in the result. About 14 minutes on 2 cores; not part of `make build`.
KERNEL_PACKAGES := linux-source-6.1 bc flex bison libelf-dev libssl-dev xz-utils
KBUILD ?= /var/cache/shed-build/kernel-fc
kernel-fc:
	@missing=$$(for p in $(KERNEL_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then echo "installing: $$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; fi
	@mkdir -p $(KBUILD) dist
	@[ -d $(KBUILD)/linux-source-6.1 ] || tar -C $(KBUILD) -xf /usr/src/linux-source-6.1.tar.xz
	cp guest/kernel/firecracker-x86_64-6.1.config $(KBUILD)/linux-source-6.1/.config
	cd $(KBUILD)/linux-source-6.1 && scripts/kconfig/merge_config.sh -m .config $(CURDIR)/guest/kernel/shed.config >/dev/null && $(MAKE) olddefconfig >/dev/null
	@bad=$$(grep -E '^CONFIG_[A-Z0-9_]+=y' guest/kernel/shed.config | while read l; do grep -qx "$$l" $(KBUILD)/linux-source-6.1/.config || echo "$$l"; done); \
	  [ -z "$$bad" ] || { echo "kernel-fc: these fragment options did not survive olddefconfig (a missing dependency):"; echo "$$bad"; exit 1; }
	$(MAKE) -C $(KBUILD)/linux-source-6.1 -j$$(nproc) vmlinux
	cp $(KBUILD)/linux-source-6.1/vmlinux dist/vmlinux-fc
	@echo "dist/vmlinux-fc: set firecracker.kernel_path to it (or SHED_FC_KERNEL for the tests)"

## quickstart: set up, build, run a local shed-server, build the base image, create a shed and
## run a command in it. The shed goes where detection says (docker unless KVM really boots VMs).
quickstart: setup build
	@mkdir -p $(STATE_DIR)/client
	@printf 'default_server: quickstart\nservers:\n  quickstart: { host: 127.0.0.1, http_port: $(HTTP_PORT), ssh_port: $(SSH_PORT) }\n' \
	  > $(STATE_DIR)/client/config.yaml
	@if ! curl -fsS http://127.0.0.1:$(HTTP_PORT)/api/info >/dev/null 2>&1; then \
	  printf '# written by make quickstart (again on each start)\nstate_dir: %s\nhttp_port: %s\nssh_port: %s\nqemu:\n  accel: %s\n' \
	    $(STATE_DIR) $(HTTP_PORT) $(SSH_PORT) $(QEMU_ACCEL) > $(STATE_DIR)/server.yaml; \
	  echo "starting shed-server on 127.0.0.1:$(HTTP_PORT) (state: $(STATE_DIR))"; \
	  (nohup dist/shed-server serve --config $(STATE_DIR)/server.yaml >$(STATE_DIR)/server.log 2>&1 & echo $$! > $(STATE_DIR)/quickstart.pid); \
	  for i in $$(seq 1 300); do curl -fsS http://127.0.0.1:$(HTTP_PORT)/api/info >/dev/null 2>&1 && break; \
	    kill -0 $$(cat $(STATE_DIR)/quickstart.pid) 2>/dev/null || break; sleep 0.2; done; \
	  curl -fsS http://127.0.0.1:$(HTTP_PORT)/api/info >/dev/null 2>&1 || \
	    { echo "shed-server did not start; the end of $(STATE_DIR)/server.log:"; tail -n 20 $(STATE_DIR)/server.log; exit 1; }; \
	fi
	@echo "building the base image (debootstrap; cached after the first time)"
	@$(SHED) image build --recipe guest/base -t shed/base:latest --agent dist/shed-agent >/dev/null
	@$(SHED) info hello >/dev/null 2>&1 || $(SHED) create hello --image base
	@$(BUN) -e '$(QS_SAY_BACKEND)'
	$(SHED) exec hello -- bash -lc 'echo "hello from $$(hostname): $$(uname -sr), $$(id -un)"'
	@echo
	@echo "shed-server runs on 127.0.0.1:$(HTTP_PORT) (log: $(STATE_DIR)/server.log)."
	@echo "  list sheds:        $(SHED_HINT) list"
	@echo "  run a command:     $(SHED_HINT) exec hello -- ls /"
	@echo "  shell in it:       $(SHED_HINT) exec -t hello -- bash   (or: $(SHED_HINT) console hello)"
	@echo "  check this host:   dist/shed-server doctor --config $(STATE_DIR)/server.yaml"
	@echo "  stop the server:   make quickstart-stop$(if $(filter /var/lib/shed,$(STATE_DIR)),, STATE_DIR=$(STATE_DIR))   (sheds keep running)"

## quickstart-stop: stop the shed-server the quickstart started (by its pid file)
quickstart-stop:
	@pid=$$(cat $(STATE_DIR)/quickstart.pid 2>/dev/null) && kill -0 $$pid 2>/dev/null || { echo "no quickstart server runs for $(STATE_DIR)"; exit 0; }; \
	  kill $$pid; for i in $$(seq 1 100); do kill -0 $$pid 2>/dev/null || break; sleep 0.1; done; \
	  rm -f $(STATE_DIR)/quickstart.pid; echo "stopped shed-server (pid $$pid)"

## quickstart-clean: delete the quickstart's shed hello, then stop its server (what CI does after it)
quickstart-clean:
	@$(SHED) delete hello --force >/dev/null 2>&1 && echo "deleted shed hello" || true
	@$(MAKE) -s quickstart-stop

clean:
	rm -rf dist
