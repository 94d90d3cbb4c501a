# shed: build, check, test, bench. `make quickstart` is the README's first command.
SHELL := /bin/bash
BUN := node_modules/.bin/bun
VITEST := $(BUN) --bun vitest run
APT_PACKAGES := docker.io skopeo docker-registry erofs-utils e2fsprogs debootstrap tmux \
  openssh-client openssh-server sshpass git ssh-audit busybox-static apache2-utils ca-certificates curl bash-completion \
  qemu-system-x86 cpio kmod iproute2 nftables dnsmasq-base util-linux
STATE_DIR ?= /var/lib/shed
DEV_IMAGE ?= shed/dev:bookworm

.PHONY: setup deps dockerd build cross check typecheck lint unit test integration bench quickstart image-dev clean \
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

## cross: the CLI for linux-arm64 and darwin-arm64 (Bun fetches the target runtime once)
cross:
	$(BUN) build.ts --only shed --target linux-arm64
	$(BUN) build.ts --only shed --target darwin-arm64

## check: fast: typecheck, lint, unit tests
check: typecheck lint unit

typecheck:
	node_modules/.bin/tsc --noEmit -p .

lint:
	node_modules/.bin/biome check src test bench guest build.ts vitest.config.ts

unit:
	$(VITEST) --project unit

integration: build
	$(VITEST) --project integration

## test: everything (what CI runs)
test: setup check integration

bench: build
	$(BUN) bench/run.ts

image-dev: dockerd
	$(BUN) guest/docker-dev/build.ts $(DEV_IMAGE)

## image-base, image-devtools, image-default: VM guest images from guest/<recipe> (root, debootstrap;
## cached), built by `shed image build --recipe` into the local server's store as shed/<recipe>:latest
image-base image-devtools image-default: build
	dist/shed image build --recipe guest/$(@:image-%=%) -t shed/$(@:image-%=%):latest --agent dist/shed-agent

## quickstart: set up, build, run a local shed-server, create a shed and run a command in it
quickstart: setup build image-dev
	@mkdir -p $(STATE_DIR)
	@if ! curl -fsS http://127.0.0.1:8080/api/info >/dev/null 2>&1; then \
	  printf 'docker:\n  default_image: $(DEV_IMAGE)\n' > $(STATE_DIR)/server.yaml; \
	  (nohup dist/shed-server serve --config $(STATE_DIR)/server.yaml --state-dir $(STATE_DIR) \
	    >$(STATE_DIR)/server.log 2>&1 & echo $$! > $(STATE_DIR)/quickstart.pid); \
	  for i in $$(seq 1 50); do curl -fsS http://127.0.0.1:8080/api/info >/dev/null 2>&1 && break; sleep 0.2; done; \
	fi
	@dist/shed info hello >/dev/null 2>&1 || dist/shed create hello --image $(DEV_IMAGE)
	dist/shed exec hello -- bash -lc 'echo "hello from $$(hostname): $$(uname -sr), $$(id -un)"'
	@echo
	@echo "shed-server runs on 127.0.0.1:8080 (log: $(STATE_DIR)/server.log)."
	@echo "  list sheds:        dist/shed list"
	@echo "  run a command:     dist/shed exec hello -- ls /"
	@echo "  shell in it:       dist/shed exec -t hello -- bash   (or: dist/shed console hello)"
	@echo "  stop the server:   kill \$$(cat $(STATE_DIR)/quickstart.pid)"

clean:
	rm -rf dist
