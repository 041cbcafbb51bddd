# shellcheck shell=bash
# make_oci_image ROOTFS TAR REF: writes a one-layer OCI image archive of ROOTFS named REF
# (index annotation org.opencontainers.image.ref.name), ready for `ctr image import`.
make_oci_image() {
  local rootfs=$1 out=$2 ref=$3 d blobs layer ldig lsize cdig csize mdig msize
  d=$(mktemp -d "$E2E_TMP/oci.XXXX")
  blobs="$d/blobs/sha256" && mkdir -p "$blobs"
  layer="$d/layer.tar"
  tar -C "$rootfs" --numeric-owner --owner=0 --group=0 -cf "$layer" .
  ldig=$(sha256sum "$layer" | cut -d' ' -f1) lsize=$(stat -c %s "$layer")
  mv "$layer" "$blobs/$ldig"
  printf '{"architecture":"amd64","os":"linux","config":{"Cmd":["/bin/sh"],"WorkingDir":"/"},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
    "$ldig" >"$d/config"
  cdig=$(sha256sum "$d/config" | cut -d' ' -f1) csize=$(stat -c %s "$d/config")
  mv "$d/config" "$blobs/$cdig"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%s}]}' \
    "$cdig" "$csize" "$ldig" "$lsize" >"$d/manifest"
  mdig=$(sha256sum "$d/manifest" | cut -d' ' -f1) msize=$(stat -c %s "$d/manifest")
  mv "$d/manifest" "$blobs/$mdig"
  printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"%s"}}]}' \
    "$mdig" "$msize" "$ref" >"$d/index.json"
  printf '{"imageLayoutVersion":"1.0.0"}' >"$d/oci-layout"
  tar -C "$d" -cf "$out" oci-layout index.json blobs
}
