# OCI image archives with no registry and no container engine (sourced by
# manifests/image/build.sh and tests/lab/build-tools.sh). An archive is an
# OCI image layout (oci-layout, index.json, blobs/sha256/...) in a tar, which
# `ctr images import` reads.
#
#   oci_ref REF          the full name for REF (name:tag): docker.io/library/x:t
#                        for x:t, docker.io/a/b:t for a/b:t, REF itself when its
#                        first part is a host (has a dot or colon, or localhost)
#   oci_layer DIR NAME   DIR as a reproducible gzip layer in the blob folder;
#                        sets NAME_diff, NAME_digest, NAME_size
#   oci_archive OUT REF CONFIG LAYER...
#                        config (CONFIG: the JSON object of its "config" key),
#                        manifest and index for the LAYERs (names given to
#                        oci_layer), blobs no other file names removed, tarred
#                        into OUT. The index names the image oci_ref REF in both
#                        io.containerd.image.name and
#                        org.opencontainers.image.ref.name, so `ctr images
#                        import` stores it under the name a kubelet looks up.
#
# The caller sets OCI_WORK (a work folder of its own), OCI_EPOCH (tar mtimes
# and "created") and OCI_ARCH (OCI architecture name). Sorted tar entries,
# owner 0, gzip -n: the same inputs give the same digests.

oci_ref() {
	local name=${1%:*} tag=${1##*:}
	[[ $1 =~ ^[a-z0-9]+([._/-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] ||
		return 1
	case $name in */*) ;; *) name=library/$name ;; esac
	case ${name%%/*} in *.* | *:* | localhost) echo "$name:$tag" ;; *) echo "docker.io/$name:$tag" ;; esac
}

oci_blobs() { echo "$OCI_WORK/oci/blobs/sha256"; }

oci_layer() {
	local dir=$1 n=$2 tar=$OCI_WORK/$2.tar d
	mkdir -p "$(oci_blobs)"
	tar --sort=name --format=gnu --numeric-owner --owner=0 --group=0 \
		--mtime="@$OCI_EPOCH" -C "$dir" -cf "$tar" .
	d=$(sha256sum "$tar" | cut -d' ' -f1)
	gzip -n -6 -f "$tar"
	printf -v "${n}_diff" 'sha256:%s' "$d"
	d=$(sha256sum "$tar.gz" | cut -d' ' -f1)
	printf -v "${n}_digest" 'sha256:%s' "$d"
	printf -v "${n}_size" '%s' "$(stat -c %s "$tar.gz")"
	mv "$tar.gz" "$(oci_blobs)/$d"
}

# oci_blob FILE VAR: move FILE into the blobs, set VAR_digest and VAR_size.
oci_blob() {
	local d
	d=$(sha256sum "$1" | cut -d' ' -f1)
	printf -v "${2}_digest" 'sha256:%s' "$d"
	printf -v "${2}_size" '%s' "$(stat -c %s "$1")"
	mv "$1" "$(oci_blobs)/$d"
}

oci_archive() {
	local out=$1 full config=$3 l diffs= layers= keep created v b
	full=$(oci_ref "$2") || { echo "oci: bad image reference '$2' (want name:tag)" >&2; return 1; }
	shift 3
	created=$(date -u -d "@$OCI_EPOCH" +%Y-%m-%dT%H:%M:%SZ)
	for l in "$@"; do
		v=${l}_diff
		diffs+="${diffs:+,}\"${!v}\""
		v=${l}_digest
		keep+=" ${!v#sha256:}"
		layers+="${layers:+,}{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"${!v}\","
		v=${l}_size
		layers+="\"size\":${!v}}"
	done
	printf '{"created":"%s","architecture":"%s","os":"linux","config":%s,"rootfs":{"type":"layers","diff_ids":[%s]}}\n' \
		"$created" "$OCI_ARCH" "$config" "$diffs" >"$OCI_WORK/config.json"
	oci_blob "$OCI_WORK/config.json" _oci_config
	printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[%s]}\n' \
		"$_oci_config_digest" "$_oci_config_size" "$layers" >"$OCI_WORK/manifest.json"
	oci_blob "$OCI_WORK/manifest.json" _oci_manifest
	printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%s,"platform":{"architecture":"%s","os":"linux"},"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"%s"}}]}\n' \
		"$_oci_manifest_digest" "$_oci_manifest_size" "$OCI_ARCH" "$full" "$full" >"$OCI_WORK/oci/index.json"
	echo '{"imageLayoutVersion":"1.0.0"}' >"$OCI_WORK/oci/oci-layout"
	keep+=" ${_oci_config_digest#sha256:} ${_oci_manifest_digest#sha256:} "
	for b in "$(oci_blobs)"/*; do # old layers pile up otherwise
		case $keep in *" ${b##*/} "*) ;; *) rm -f "$b" ;; esac
	done
	tar --sort=name --format=gnu --numeric-owner --owner=0 --group=0 --mtime="@$OCI_EPOCH" \
		-C "$OCI_WORK/oci" -cf "$out.tmp" oci-layout index.json blobs
	mv "$out.tmp" "$out"
	OCI_MANIFEST_DIGEST=$_oci_manifest_digest OCI_FULL_REF=$full
}
