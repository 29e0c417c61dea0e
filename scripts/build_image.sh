#!/usr/bin/env bash
# Build the chatbox Raspberry Pi image (arm64: Zero 2 W, 3, 4, 5) as .img.xz with its
# sha256 and a Raspberry Pi Imager repository entry, unattended, on a Debian or Ubuntu
# x86-64 host as root. Run with --help for the options.
set -euo pipefail

# Pinned inputs. The base image's checksum is pinned here and must also match the one
# Raspberry Pi publishes beside it. Kubo is built for linux/arm64 from the Go module pinned
# in scripts/devstack/kubo (go.sum holds every module's hash), the same pin the tests run.
# Helios publishes no checksums, so whoever includes it gives the sha256 they verified.
BASE_IMAGE_URL="https://downloads.raspberrypi.com/raspios_lite_arm64/images/raspios_lite_arm64-2025-12-04/2025-12-04-raspios-trixie-arm64-lite.img.xz"
BASE_IMAGE_SHA256="681a775e20b53a9e4c7341d748a5a8cdc822039d8c67c1fd6ca35927abbe6290"
BASE_PYTHON="3.13" # CPython of Raspberry Pi OS trixie
KUBO_BUILD="scripts/devstack/build_kubo.sh"
KUBO_BINARY="kubo-linux-arm64" # its name among the inputs
HELIOS_URL_PATTERN="https://github.com/a16z/helios/releases/download/%s/helios_linux_arm64.tar.gz"
IMAGE_GROWTH_MB=1024 # room for the node, its wheels and Kubo before first boot expands it

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUTPUT="$REPO/build/image"
CACHE="$REPO/build/cache"
OFFLINE=""
ROOTFS_ONLY=""
HELIOS=""
URL_BASE=""
PYTHON="${PYTHON:-python3}"
MOUNTED=()
LOOP=""

usage() {
	cat <<EOF
Usage: sudo $0 [options]

Builds build/image/chatbox-<version>-arm64.img.xz, its .sha256 and os_list.json (a
Raspberry Pi Imager repository entry: in Imager, "App options" -> "Content repository"
-> "Use custom file"), from Raspberry Pi OS Lite arm64 (trixie), Kubo built from its
pinned module (needs Go, or --offline with a Kubo built earlier) and the node with its
Python dependencies as aarch64 wheels.

Options:
  --output DIR        where the image, its checksum and os_list.json go
                      (default: build/image)
  --cache DIR         where downloads are kept between builds (default: build/cache)
  --offline DIR       download nothing: take every input from DIR, laid out as --cache
                      is (base image and .sha256, kubo-linux-arm64 from
                      '$KUBO_BUILD DIR/kubo-linux-arm64 linux/arm64', wheels/,
                      helios tarball)
  --rootfs-only DIR   only place chatbox's own files into DIR as a root file system
                      (units enabled, settings, sysusers, boot-partition files under
                      DIR/boot/firmware, the node's wheels in /opt/chatbox/wheels); no
                      downloads, no root needed, no image
  --helios VER:SHA256 include the Helios light client release VER (for example 0.8.6),
                      whose linux-arm64 tarball must have this sha256; without it the
                      image has no light client and chain_rpc_url must point elsewhere
  --url-base URL      where the image will be served, for os_list.json's "url"
                      (default: empty, the image beside os_list.json)
  --python PYTHON     the host Python that builds the node's wheel (default: python3)
  -h, --help          this text

Every checksum mismatch or missing tool stops the build with a message naming it.
EOF
}

die() {
	echo "build_image: $*" >&2
	exit 1
}

need_tools() {
	local tool missing=()
	for tool in "$@"; do
		command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
	done
	if ((${#missing[@]})); then
		die "missing tools: ${missing[*]} (on Debian/Ubuntu: apt-get install curl xz-utils" \
			"parted e2fsprogs fdisk mount qemu-user-static binfmt-support python3-pip)"
	fi
}

check_sha256() { # FILE EXPECTED
	local actual
	actual="$(sha256sum "$1" | cut -d' ' -f1)"
	[[ "$actual" == "$2" ]] || die "checksum mismatch for $1: expected $2, got $actual"
}

# Bring URL into the input directory (the cache, or the offline directory as it is).
fetch() { # URL NAME
	local target="$INPUTS/$2"
	if [[ -f "$target" ]]; then
		return
	fi
	[[ -z "$OFFLINE" ]] || die "offline: $2 is not in $OFFLINE"
	echo "fetching $1"
	curl --fail --location --retry 3 --silent --show-error -o "$target.part" "$1"
	mv "$target.part" "$target"
}

parse_arguments() {
	while (($#)); do
		case "$1" in
		--output) OUTPUT="${2:?--output needs a directory}" && shift ;;
		--cache) CACHE="${2:?--cache needs a directory}" && shift ;;
		--offline) OFFLINE="${2:?--offline needs a directory}" && shift ;;
		--rootfs-only) ROOTFS_ONLY="${2:?--rootfs-only needs a directory}" && shift ;;
		--helios) HELIOS="${2:?--helios needs VERSION:SHA256}" && shift ;;
		--url-base) URL_BASE="${2:?--url-base needs a URL}" && shift ;;
		--python) PYTHON="${2:?--python needs a Python}" && shift ;;
		-h | --help) usage && exit 0 ;;
		*) usage >&2 && die "unknown option: $1" ;;
		esac
		shift
	done
	if [[ -n "$HELIOS" && ! "$HELIOS" =~ ^[^:]+:[0-9a-f]{64}$ ]]; then
		die "--helios takes VERSION:SHA256 (64 hex digits), not $HELIOS"
	fi
}

# The node's own wheel, built from a copy of this checkout (setuptools leaves build
# files where it builds) without touching the network.
build_node_wheel() { # DIR
	local source
	source="$(mktemp -d)"
	cp -r "$REPO/pyproject.toml" "$REPO/README.md" "$REPO/node" "$source/"
	"$PYTHON" -m pip wheel --quiet --no-deps --no-build-isolation --no-index \
		--wheel-dir "$1" "$source" || die "could not build the node's wheel with $PYTHON"
	rm -rf "$source"
}

# chatbox's own files on a root file system and its boot partition.
place_chatbox_files() { # ROOT BOOT WHEELS_FROM
	local root="$1" boot="$2" wheels_from="$3" unit
	install -d -m 0755 "$root/usr/lib/systemd/system" "$root/usr/lib/sysusers.d" \
		"$root/etc/systemd/system/multi-user.target.wants" "$root/etc/chatbox" \
		"$root/opt/chatbox/wheels" "$boot"
	for unit in "$REPO"/systemd/*.service; do
		install -m 0644 "$unit" "$root/usr/lib/systemd/system/"
		ln -sfn "/usr/lib/systemd/system/$(basename "$unit")" \
			"$root/etc/systemd/system/multi-user.target.wants/$(basename "$unit")"
	done
	install -m 0644 "$REPO/systemd/chatbox.sysusers" "$root/usr/lib/sysusers.d/chatbox.conf"
	install -d -m 0755 "$root/etc/systemd/journald.conf.d"
	install -m 0644 "$REPO/systemd/journald-chatbox.conf" "$root/etc/systemd/journald.conf.d/chatbox.conf"
	# python-zeroconf is the one mDNS responder; a login getty would take the console's port.
	for unit in avahi-daemon.service avahi-daemon.socket serial-getty@ttyGS0.service; do
		ln -sfn /dev/null "$root/etc/systemd/system/$unit"
	done
	if [[ ! -f "$root/etc/chatbox/chatbox.toml" ]]; then
		install -m 0640 "$REPO/firmware-config/chatbox.toml" "$root/etc/chatbox/chatbox.toml"
	fi
	install -m 0644 "$REPO/README.md" "$root/opt/chatbox/README.md"
	build_node_wheel "$root/opt/chatbox/wheels"
	if [[ -d "$wheels_from" ]]; then
		cp "$wheels_from"/*.whl "$root/opt/chatbox/wheels/"
	fi
	place_boot_files "$boot"
}

place_boot_files() { # BOOT
	local boot="$1" partuuid="" keep=""
	install -m 0644 "$REPO/firmware-config/chatbox.toml" "$REPO/firmware-config/network-config" "$boot/"
	if ! grep -qs "^# chatbox:" "$boot/config.txt"; then
		cat "$REPO/firmware-config/config.txt" >>"$boot/config.txt"
	fi
	if [[ -f "$boot/cmdline.txt" ]]; then
		partuuid="$(grep -o 'root=PARTUUID=[^ ]*' "$boot/cmdline.txt" | cut -d= -f3 || true)"
		# Words of the base image's own first boot (resize, regulatory domain) stay.
		keep="$(tr ' ' '\n' <"$boot/cmdline.txt" | grep -E '^(resize|init=|systemd\.|cfg80211\.)' | tr '\n' ' ' || true)"
	fi
	sed "s/@ROOT_PARTUUID@/${partuuid:-@ROOT_PARTUUID@}/; s/\$/ ${keep% }/; s/ \$//" \
		"$REPO/firmware-config/cmdline.txt" >"$boot/cmdline.txt"
}

fetch_inputs() {
	local base
	base="$(basename "$BASE_IMAGE_URL")"
	fetch "$BASE_IMAGE_URL" "$base"
	fetch "$BASE_IMAGE_URL.sha256" "$base.sha256"
	check_sha256 "$INPUTS/$base" "$BASE_IMAGE_SHA256"
	check_sha256 "$INPUTS/$base" "$(cut -d' ' -f1 "$INPUTS/$base.sha256")"
	if [[ -z "$OFFLINE" ]]; then
		"$REPO/$KUBO_BUILD" "$INPUTS/$KUBO_BINARY" linux/arm64 || die "could not build Kubo"
	fi
	[[ -x "$INPUTS/$KUBO_BINARY" ]] || die "offline: $KUBO_BINARY is not in $OFFLINE"
	if [[ -n "$HELIOS" ]]; then
		# shellcheck disable=SC2059 # the pattern is ours
		fetch "$(printf "$HELIOS_URL_PATTERN" "${HELIOS%%:*}")" "helios-${HELIOS%%:*}.tar.gz"
		check_sha256 "$INPUTS/helios-${HELIOS%%:*}.tar.gz" "${HELIOS##*:}"
	fi
	if [[ -z "$OFFLINE" || ! -d "$INPUTS/wheels" ]]; then
		[[ -z "$OFFLINE" ]] || die "offline: $OFFLINE/wheels (the aarch64 wheels) is missing"
		mkdir -p "$INPUTS/wheels"
		"$PYTHON" - "$REPO/pyproject.toml" >"$INPUTS/requirements.txt" <<'PY'
import sys, tomllib
print("\n".join(tomllib.load(open(sys.argv[1], "rb"))["project"]["dependencies"]))
PY
		"$PYTHON" -m pip download --quiet --only-binary=:all: --dest "$INPUTS/wheels" \
			--python-version "$BASE_PYTHON" --implementation cp \
			--platform manylinux_2_17_aarch64 --platform manylinux2014_aarch64 \
			--platform manylinux_2_28_aarch64 --platform musllinux_1_1_aarch64 \
			--constraint "$REPO/scripts/constraints.txt" --requirement "$INPUTS/requirements.txt" ||
			die "an aarch64 wheel for CPython $BASE_PYTHON is missing (see scripts/check_wheels.py)"
	fi
}

cleanup() {
	local index
	for ((index = ${#MOUNTED[@]} - 1; index >= 0; index--)); do
		umount "${MOUNTED[$index]}" 2>/dev/null || umount -l "${MOUNTED[$index]}" || true
	done
	[[ -z "$LOOP" ]] || losetup --detach "$LOOP" || true
}

mount_at() { # DEVICE DIR [MOUNT OPTIONS...]
	mkdir -p "$2"
	mount "${@:3}" "$1" "$2"
	MOUNTED+=("$2")
}

build_image() {
	local work image root version stamp name
	# Inputs first: a wrong checksum stops the build before anything is mounted.
	need_tools curl xz sha256sum
	INPUTS="${OFFLINE:-$CACHE}"
	mkdir -p "$INPUTS" "$OUTPUT"
	fetch_inputs
	need_tools losetup mount umount parted resize2fs e2fsck chroot truncate
	[[ "$(id -u)" -eq 0 ]] || die "building the image needs root (loop devices, mounts, chroot)"
	[[ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 || "$(uname -m)" == "aarch64" ]] ||
		die "cannot run arm64 programs here: install qemu-user-static and binfmt-support"

	version="$("$PYTHON" -c 'import tomllib; print(tomllib.load(open("'"$REPO"'/pyproject.toml", "rb"))["project"]["version"])')"
	name="chatbox-${version}-arm64"
	work="$(mktemp -d)"
	image="$work/$name.img"
	root="$work/root"
	trap cleanup EXIT
	xz --decompress --stdout "$INPUTS/$(basename "$BASE_IMAGE_URL")" >"$image"
	truncate --size="+${IMAGE_GROWTH_MB}M" "$image"
	parted --script "$image" resizepart 2 100%
	LOOP="$(losetup --find --show --partscan "$image")"
	e2fsck -pf "${LOOP}p2" >/dev/null || true
	resize2fs "${LOOP}p2" >/dev/null
	mount_at "${LOOP}p2" "$root"
	mount_at "${LOOP}p1" "$root/boot/firmware"

	place_chatbox_files "$root" "$root/boot/firmware" "$INPUTS/wheels"
	install -m 0755 "$INPUTS/$KUBO_BINARY" "$root/usr/local/bin/ipfs"
	if [[ -n "$HELIOS" ]]; then
		install -d "$root/opt/helios"
		tar -xzf "$INPUTS/helios-${HELIOS%%:*}.tar.gz" -C "$root/opt/helios" helios
	fi
	for stamp in proc sys dev; do
		mount_at "/$stamp" "$root/$stamp" --bind
	done
	chroot "$root" /usr/bin/python3 -m venv /opt/chatbox
	chroot "$root" /opt/chatbox/bin/pip install --quiet --no-index \
		--find-links /opt/chatbox/wheels chatbox
	chroot "$root" systemd-sysusers
	cleanup
	MOUNTED=()
	LOOP=""
	trap - EXIT

	write_outputs "$image" "$name" "$version"
	rm -rf "$work"
}

write_outputs() { # IMAGE NAME VERSION
	local image="$1" name="$2" version="$3" compressed="$OUTPUT/$2.img.xz"
	local extract_size extract_sha download_size download_sha
	extract_size="$(stat -c %s "$image")"
	extract_sha="$(sha256sum "$image" | cut -d' ' -f1)"
	xz --threads=0 --compress --stdout "$image" >"$compressed"
	download_size="$(stat -c %s "$compressed")"
	download_sha="$(sha256sum "$compressed" | cut -d' ' -f1)"
	(cd "$OUTPUT" && sha256sum "$name.img.xz" >"$name.img.xz.sha256")
	cat >"$OUTPUT/os_list.json" <<EOF
{
  "os_list": [
    {
      "name": "chatbox ${version}",
      "description": "Serverless peer-to-peer chat for your LAN, on IPFS (Raspberry Pi OS Lite 64-bit)",
      "url": "${URL_BASE}${name}.img.xz",
      "icon": "",
      "website": "https://github.com/chatbox/chatbox",
      "release_date": "$(date -u +%Y-%m-%d)",
      "extract_size": ${extract_size},
      "extract_sha256": "${extract_sha}",
      "image_download_size": ${download_size},
      "image_download_sha256": "${download_sha}",
      "devices": ["pi5-64bit", "pi4-64bit", "pi3-64bit"],
      "init_format": "cloudinit-rpi"
    }
  ]
}
EOF
	echo "built $compressed ($download_size bytes), sha256 $download_sha"
}

main() {
	parse_arguments "$@"
	need_tools install sed grep tr "$PYTHON"
	if [[ -n "$ROOTFS_ONLY" ]]; then
		mkdir -p "$ROOTFS_ONLY"
		place_chatbox_files "$ROOTFS_ONLY" "$ROOTFS_ONLY/boot/firmware" "${OFFLINE:+$OFFLINE/wheels}"
		echo "placed chatbox's files in $ROOTFS_ONLY"
		return
	fi
	build_image
}

main "$@"
