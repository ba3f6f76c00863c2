#!/usr/bin/env bash
# Install everything the test suite needs, then lint, type-check and test.
# This is the README's test command; .ci/run runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt

# System packages the tests need (each check is quick when already installed):
# a Java runtime for the Nu HTML Checker, Noto fonts for the share images and
# libraqm so Pillow shapes Arabic text.
apt_packages=()
command -v java >/dev/null || apt_packages+=(default-jre-headless)
command -v npm >/dev/null || apt_packages+=(npm)
[ -f /usr/share/fonts/truetype/noto/NotoSansArabic-Bold.ttf ] || apt_packages+=(fonts-noto-core)
[ -f /usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc ] || apt_packages+=(fonts-noto-cjk)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf ] || apt_packages+=(fonts-dejavu-core)  # Arabic or Hebrew headlines with Latin words
python3 -c "from PIL import features; raise SystemExit(not features.check('raqm'))" || apt_packages+=(libraqm0)
# Chromium for the browser tests (tests/test_browser.py drives it with Playwright; Playwright's own download does not work here).
[ -x /usr/bin/chromium ] || apt_packages+=(chromium)
# Another install may hold a lock: wait up to 10 minutes rather than fail at once.
# DPkg::Lock::Timeout makes install wait for dpkg's lock, but update does not wait
# for the package lists' lock (apt 2.6), so update is retried while that is held.
apt_update() {
    local waited=0 output
    until output=$(apt-get -o DPkg::Lock::Timeout=600 update -qq 2>&1); do
        if [[ $output != *"Could not get lock"* || $waited -ge 600 ]]; then
            echo "$output" >&2
            return 1
        fi
        sleep 5
        waited=$((waited + 5))
    done
    [ -z "$output" ] || echo "$output"
}
if [ ${#apt_packages[@]} -gt 0 ]; then
    echo "installing ${apt_packages[*]}"
    apt_update && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${apt_packages[@]}" >/dev/null
fi
# The Nu HTML Checker and axe-core (injected into pages by the browser tests), pinned, into the repository's
# (git-ignored) node_modules/; both at once, as an install with --no-save drops the packages it was not given.
VNU_VERSION=26.9.27
AXE_VERSION=4.14.1
if [ "$(node -p "require('./node_modules/vnu-jar/package.json').version" 2>/dev/null)" != "$VNU_VERSION" ] ||
    [ "$(node -p "require('./node_modules/axe-core/package.json').version" 2>/dev/null)" != "$AXE_VERSION" ]; then
    npm install --no-save --no-audit --no-fund --silent "vnu-jar@$VNU_VERSION" "axe-core@$AXE_VERSION"
fi

# Byte-compile the package once: the tests start the command in many processes, and where PYTHONDONTWRITEBYTECODE
# is set (as on some CI machines) each would compile every module again (about 0.2 s a process).
python3 -m compileall -q digest
python3 -m ruff check .
python3 -m ruff format --check .
python3 -m mypy
python3 -m pytest "$@"
