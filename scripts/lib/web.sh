# The web client's build, shared by scripts/run and scripts/test. Source after postgres.sh
# (for as_root).

# Node.js and npm from Debian when missing.
ensure_node() {
  if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
    echo "node/npm not found: installing Debian's nodejs and npm packages" >&2
    as_root apt-get update -qq >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >&2
  fi
}

# The client's npm packages, exactly as package-lock.json pins them (again only when it changed).
install_web_packages() {
  ensure_node
  if [ ! -f web/node_modules/.package-lock.json ] || [ web/package-lock.json -nt web/node_modules/.package-lock.json ]; then
    (cd web && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

# The production bundle in web/dist: types generated from schema.graphql, type-checked, built,
# and compressed.
build_web() {
  install_web_packages
  (cd web && npm run --silent build)
}

# Debian's Chromium for the browser tests, when missing.
ensure_chromium() {
  if [ ! -x /usr/bin/chromium ]; then
    echo "chromium not found: installing Debian's chromium package" >&2
    as_root apt-get update -qq >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >&2
  fi
}
