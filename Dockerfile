# Multi-stage: build tether on Debian 12, ship a small installer image (the CNI DaemonSet pattern):
# its entrypoint copies the binaries into the mounted host CNI bin dir, writes a conflist into the
# host CNI config dir, then sleeps (scripts/install-cni.sh; kubernetes manifest in conf/kubernetes).
#   podman build -t tether-install:dev .     (or buildah bud / docker build)
FROM debian:12 AS build
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      build-essential cmake pkg-config libnl-3-dev libnl-route-3-dev libiptc-dev \
      libnetfilter-conntrack-dev nlohmann-json3-dev busybox-static \
 && rm -rf /var/lib/apt/lists/*
COPY . /src
# Self-contained install: libnl and libstdc++ static, libiptc & co. in bin/tether.libs (dlopened from there).
RUN cmake -S /src -B /build -DCMAKE_BUILD_TYPE=Release -DTETHER_TESTS=OFF \
 && cmake --build /build -j"$(nproc)" \
 && DESTDIR=/out cmake --install /build --prefix / --strip
# The image's whole userland is busybox-static: the installer needs only sh and coreutils applets.
RUN mkdir -p /rootfs/bin /rootfs/tether /rootfs/tmp \
 && cp /bin/busybox /rootfs/bin/busybox \
 && for a in sh cp mv rm mkdir chmod sed grep cmp sleep kill cat ls echo env; do ln -s busybox /rootfs/bin/$a; done \
 && cp -a /out/opt/cni/bin /rootfs/tether/bin \
 && cp -a /src/conf /rootfs/tether/conf \
 && cp /src/scripts/install-cni.sh /rootfs/tether/install-cni.sh

FROM scratch
COPY --from=build /rootfs/ /
ENV PATH=/bin TETHER_SRC=/tether TETHER_HOST_ROOT=/host
ENTRYPOINT ["/bin/sh", "/tether/install-cni.sh"]
