#!/bin/sh
# Installs the peers the benchmarks compare termitec with: Gambit (gsc, for
# the sequential programs and Gambit threads), Chez Scheme, and Erlang/OTP
# (erl and erlc). Debian or Ubuntu; run as root, or with sudo available.
set -e
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update
$SUDO apt-get install -y gambc chezscheme erlang-base erlang-dev
