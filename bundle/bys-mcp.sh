#!/bin/sh
# Launcher of the MCP Bundle on macOS and Linux: runs the binary built for
# this machine's OS and CPU.
dir=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
case "$(uname -s)" in Darwin) os=darwin ;; *) os=linux ;; esac
case "$(uname -m)" in arm64|aarch64) arch=arm64 ;; *) arch=amd64 ;; esac
exec "$dir/bys-mcp-$os-$arch" "$@"
