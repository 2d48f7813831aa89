#!/usr/bin/env bash
# Build the calico-c node image as an OCI image layout in a tar archive, with
# no registry and no container engine:
#
#   manifests/image/build.sh -o OUT.tar [-w WORKDIR] [-n NAME:TAG] PROGRAM...
#
# Two gzip layers:
#   1. Debian: bird, birdc, birdcl (package bird2), busybox and its applets
#      (busybox-static: a shell for debugging), and every shared library the
#      programs and BIRD load. Each file comes from the Debian package that the
#      host's dpkg says owns it, downloaded with `apt-get download` at the
#      version installed here, unpacked with `dpkg-deb -x` and cached under
#      $CALICO_C_CACHE/image-debs (default /var/cache/calico-c).
#   2. The PROGRAMs, in /usr/local/bin; the CNI plugins (calico-c,
#      calico-c-ipam and their -direct programs) also linked from
#      /opt/calico-c/bin, the folder
#      calico-c-install-cni copies them to the host from.
# Entry point: /usr/local/bin/felix-c. The index names the image
# docker.io/<NAME>:<TAG> (manifests/image/oci.sh), so `ctr images import`
# stores it under the name a kubelet looks up for `image: <NAME>:<TAG>`.
#
# Reproducible: tar mtimes SOURCE_DATE_EPOCH (default 0), see oci.sh. The
# Debian layer is rebuilt only when its inputs change. Offline once the cache
# holds the packages (the first run needs apt).
set -euo pipefail

out= work= ref=calico-c/node:0.1.0
while getopts o:w:n: opt; do
	case $opt in
	o) out=$OPTARG ;;
	w) work=$OPTARG ;;
	n) ref=$OPTARG ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
progs=("$@")
log() { printf 'image: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

[ -n "$out" ] && [ ${#progs[@]} -gt 0 ] || die "usage: $0 -o OUT.tar [-w WORKDIR] [-n NAME:TAG] PROGRAM..."
# shellcheck source=manifests/image/oci.sh
. "$(dirname "$0")/oci.sh"
oci_ref "$ref" >/dev/null || die "bad image reference '$ref' (want name:tag)"
tag=${ref##*:}
work=${work:-$(dirname "$out")/image}
for p in "${progs[@]}"; do
	[ -x "$p" ] || die "program $p is missing (build it first)"
done
for t in apt-get dpkg-deb dpkg-query ldd sha256sum tar gzip flock; do
	command -v "$t" >/dev/null || die "needs $t"
done

cache=${CALICO_C_CACHE:-/var/cache/calico-c}/image-debs
OCI_EPOCH=${SOURCE_DATE_EPOCH:-0} OCI_WORK=$work
arch=$(dpkg --print-architecture)
case $arch in amd64 | arm64 | s390x | ppc64el) OCI_ARCH=${arch/ppc64el/ppc64le} ;; *) die "unsupported arch $arch" ;; esac
mkdir -p "$cache" "$work"
exec 9>"$cache/.lock"
flock 9 # one builder at a time per cache (and so per work dir)
umask 022

# --- Debian packages ---------------------------------------------------------
# Each package is unpacked in $cache/<pkg>_<version>_<arch>/x. The version is
# the one installed here or, when the archive no longer has that one, apt's
# candidate (same release, same ABI); <pkg>_<installed>_<arch>.use then names
# the folder used instead.
pkg_key() { echo "$cache/$1_${2//:/%3a}_$arch"; }

# pkg_dir PKG: the folder PKG is unpacked in; fails if fetch_pkgs did not
# get it.
pkg_dir() {
	local v d
	v=$(dpkg-query -W -f='${Version}' "$1" 2>/dev/null) || v=
	if [ -n "$v" ]; then
		d=$(pkg_key "$1" "$v")
		[ -e "$d/.done" ] && { echo "$d"; return; }
		[ -e "$d.use" ] && d=$(cat "$d.use") && [ -e "$d/.done" ] && { echo "$d"; return; }
	fi
	[ -z "$v" ] || return 1
	for d in "$cache/$1"_*_"$arch"; do # not installed here: whatever was fetched
		[ -e "$d/.done" ] && { echo "$d"; return; }
	done
	return 1
}

# fetch_pkgs PKG...: download and unpack the packages not in the cache, with
# one apt-cache and one apt-get call.
fetch_pkgs() {
	local want=() p v inst line tmp deb d
	for p in "$@"; do pkg_dir "$p" >/dev/null || want+=("$p"); done
	[ ${#want[@]} -gt 0 ] || return 0
	declare -A pick=() installed=()
	# From apt-cache policy: the installed version if some archive has it,
	# else the candidate.
	while read -r p inst v; do
		[ "$v" != "(none)" ] || die "apt knows no version of $p (apt-get update?)"
		installed[$p]=$inst pick[$p]=$v
	done < <(apt-cache policy "${want[@]}" 2>/dev/null | awk '
		/^[^ ].*:$/ { if (pkg != "") print pkg, inst, (inst_ok ? inst : cand); pkg = substr($0, 1, length($0) - 1); inst = ""; cand = ""; inst_ok = 0; cur = ""; next }
		/^  Installed: / { inst = $2; next }
		/^  Candidate: / { cand = $2; next }
		/^ (\*\*\*|   ) [^ ]+ [0-9]+$/ { cur = ($1 == "***") ? $2 : $1; next }
		/^        [0-9]+ / { if (cur == inst && $2 != "/var/lib/dpkg/status") inst_ok = 1; next }
		END { if (pkg != "") print pkg, inst, (inst_ok ? inst : cand) }')
	for p in "${want[@]}"; do
		[ -n "${pick[$p]:-}" ] || die "apt knows no package $p (apt-get update?)"
	done
	tmp=$(mktemp -d "$cache/.dl-XXXXXX")
	# shellcheck disable=SC2064
	trap "rm -rf '$tmp'" EXIT
	log "downloading ${#want[@]} Debian packages"
	(cd "$tmp" && apt-get download -q=2 -o APT::Sandbox::User=root \
		$(for p in "${want[@]}"; do echo "$p=${pick[$p]}"; done)) >&2 ||
		die "cannot download ${want[*]}: no network? run \`make image\` where apt works first"
	for p in "${want[@]}"; do
		v=${pick[$p]}
		deb=$(ls "$tmp/${p}_${v//:/%3a}_"*.deb 2>/dev/null | head -n1)
		[ -n "$deb" ] || die "apt-get download gave no file for $p=$v"
		d=$(pkg_key "$p" "$v")
		rm -rf "$d"
		mkdir -p "$d/x"
		dpkg-deb -x "$deb" "$d/x"
		mv "$deb" "$d/"
		echo "$p $v" >"$d/.done"
		inst=${installed[$p]}
		if [ -n "$inst" ] && [ "$inst" != "(none)" ] && [ "$inst" != "$v" ]; then
			echo "$d" >"$(pkg_key "$p" "$inst").use"
		fi
	done
	rm -rf "$tmp"
	trap - EXIT
}

# A host path as it is in a merged-/usr root.
usr_path() {
	case $1 in /lib/* | /lib64/* | /bin/* | /sbin/*) echo "/usr$1" ;; *) echo "$1" ;; esac
}

# find_in ROOT PATH: the regular file PATH names inside the unpacked package
# ROOT, following symlinks within ROOT; the package may ship the path with or
# without the /usr prefix.
find_in() {
	local root=$1 p=$2 f c i t
	for ((i = 0; i < 40; i++)); do
		f=
		for c in "$p" "$(usr_path "$p")" "${p#/usr}"; do
			if [ -L "$root$c" ] || [ -e "$root$c" ]; then
				f=$root$c
				break
			fi
		done
		[ -n "$f" ] || return 1
		if [ ! -L "$f" ]; then
			[ -f "$f" ] && echo "$f"
			return
		fi
		t=$(readlink "$f")
		case $t in /*) p=$t ;; *) p=$(realpath -ms "$(dirname "$p")/$t") ;; esac
	done
	return 1
}

fetch_pkgs bird2 busybox-static
bird=$(pkg_dir bird2)
bbox=$(pkg_dir busybox-static)
for f in usr/sbin/bird usr/sbin/birdc usr/sbin/birdcl; do
	[ -x "$bird/x/$f" ] || die "bird2 package has no /$f"
done
[ -x "$bbox/x/bin/busybox" ] || die "busybox-static package has no /bin/busybox"

# Every library the programs and BIRD load (ldd gives the closure).
libs=$(for b in "${progs[@]}" "$bird"/x/usr/sbin/bird "$bird"/x/usr/sbin/birdc "$bird"/x/usr/sbin/birdcl; do
	ldd "$b" || die "ldd $b failed"
done | awk '/=> not found/ { print "MISSING " $1; next }
	$2 == "=>" && $3 ~ /^\// { print $3; next }
	$1 ~ /^\// { print $1 }' | sort -u)
if grep -q '^MISSING' <<<"$libs"; then
	die "libraries not found on this host: $(sed -n 's/^MISSING //p' <<<"$libs" | tr '\n' ' ')"
fi

# --- layer 1: Debian ---------------------------------------------------------
# The package that ships each library, under either /usr alias (one dpkg -S
# for all: each call reads the whole file database).
declare -A owner_of=() dir_of=() shipped_by=()
q=()
for l in $libs; do q+=("$l" "$(usr_path "$l")" "$(realpath "$l")"); done
while IFS= read -r line; do
	case $line in diversion*) continue ;; esac
	shipped_by[/${line#*: /}]=${line%%: /*}
done < <(dpkg -S "${q[@]}" 2>/dev/null || true)
for l in $libs; do
	o=
	for c in "$l" "$(usr_path "$l")" "$(realpath "$l")"; do
		[ -n "${shipped_by[$c]:-}" ] && { o=${shipped_by[$c]%%,*}; break; }
	done
	[ -n "$o" ] || die "no Debian package owns $l"
	owner_of[$l]=${o%%:*}
done
# shellcheck disable=SC2046
fetch_pkgs $(printf '%s\n' "${owner_of[@]}" | sort -u)
for o in "${owner_of[@]}"; do
	[ -n "${dir_of[$o]:-}" ] || dir_of[$o]=$(pkg_dir "$o") || die "$o was not fetched"
done
dir_of[bird2]=$bird
dir_of[busybox-static]=$bbox

packages=$(for o in "${!dir_of[@]}"; do cat "${dir_of[$o]}/.done"; done | sort -u)
base_key=$( {
	sha256sum "$0" "$(dirname "$0")/oci.sh" | cut -d" " -f1
	echo "$OCI_EPOCH $arch"
	echo "$packages"
	for l in $libs; do echo "$l ${owner_of[$l]}"; done
} | sha256sum | cut -d' ' -f1)

if [ "$(cat "$work/base.key" 2>/dev/null)" = "$base_key" ] && [ -f "$work/base.layer" ]; then
	# shellcheck source=/dev/null
	. "$work/base.layer"
	[ -f "$(oci_blobs)/${base_digest#sha256:}" ] || rm -f "$work/base.key"
fi
if [ "$(cat "$work/base.key" 2>/dev/null)" != "$base_key" ]; then
	log "building the Debian layer"
	r=$work/base
	rm -rf "$r"
	mkdir -p "$r"/usr/{bin,sbin,lib,lib64} "$r"/etc "$r"/run/bird "$r"/var/lib/calico-c \
		"$r"/usr/share/calico-c "$r"/root "$r"/tmp
	for d in bin sbin lib lib64; do ln -s "usr/$d" "$r/$d"; done
	ln -s ../run "$r/var/run"
	chmod 1777 "$r/tmp"
	chmod 0700 "$r/root"
	for l in $libs; do
		f=$(find_in "${dir_of[${owner_of[$l]}]}/x" "$l") ||
			die "package ${owner_of[$l]} has no file for $l"
		dst=$r$(usr_path "$l")
		mkdir -p "$(dirname "$dst")"
		install -m 0755 "$f" "$dst"
	done
	for f in bird birdc birdcl; do install -m 0755 "$bird/x/usr/sbin/$f" "$r/usr/sbin/$f"; done
	install -m 0755 "$bbox/x/bin/busybox" "$r/usr/bin/busybox"
	"$bbox/x/bin/busybox" --list-full | while read -r a; do
		dst=$r$(usr_path "/$a")
		[ -e "$dst" ] || [ -L "$dst" ] || { mkdir -p "$(dirname "$dst")" && ln -s /usr/bin/busybox "$dst"; }
	done
	# Licences travel with the binaries.
	for p in "${!dir_of[@]}"; do
		c=${dir_of[$p]}/x/usr/share/doc/$p/copyright
		[ -f "$c" ] && install -D -m 0644 "$c" "$r/usr/share/doc/$p/copyright"
	done
	echo "$packages" >"$r/usr/share/calico-c/debian-packages"
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' >"$r/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$r/etc/group"
	printf 'hosts: files dns\nnetworks: files\nprotocols: files\nservices: files\n' >"$r/etc/nsswitch.conf"
	printf '127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n' >"$r/etc/hosts"
	oci_layer "$r" base
	printf 'base_diff=%s base_digest=%s base_size=%s\n' "$base_diff" "$base_digest" "$base_size" >"$work/base.layer"
	echo "$base_key" >"$work/base.key"
fi

# --- layer 2: our programs ---------------------------------------------------
r=$work/app
rm -rf "$r"
mkdir -p "$r/usr/local/bin"
for p in "${progs[@]}"; do install -m 0755 "$p" "$r/usr/local/bin/$(basename "$p")"; done
# The CNI plugins also where calico-c-install-cni copies them from by default
# (CNI_SOURCE_DIR=/opt/calico-c/bin).
for p in calico-c calico-c-direct calico-c-ipam calico-c-ipam-direct; do
	if [ -e "$r/usr/local/bin/$p" ]; then
		mkdir -p "$r/opt/calico-c/bin"
		ln -s "/usr/local/bin/$p" "$r/opt/calico-c/bin/$p"
	fi
done
oci_layer "$r" app

# --- config, manifest, index -------------------------------------------------
oci_archive "$out" "$ref" \
	'{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Entrypoint":["/usr/local/bin/felix-c"],"WorkingDir":"/","Labels":{"org.opencontainers.image.title":"calico-c node","org.opencontainers.image.version":"'"$tag"'"}}' \
	base app
log "$OCI_FULL_REF $OCI_MANIFEST_DIGEST $(stat -c %s "$out") bytes -> $out"
