# drudge in a container: the same build the tested Makefile runs (make,
# make install), on Debian 12, with supervisord in the foreground as a
# non-root user. Not built in CI (the project's machines have no Docker
# engine); keep it to the steps `make deps` and `make` take.
FROM debian:bookworm-slim AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential pkg-config libhiredis-dev libjansson-dev libyaml-dev \
      libcurl4-openssl-dev libmicrohttpd-dev libmagickwand-6.q16-dev libseccomp-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN make clean && make -j"$(nproc)" && make install PREFIX=/usr/local DESTDIR=/out

FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libhiredis0.14 libjansson4 libyaml-0-2 libcurl4 libmicrohttpd12 \
      libmagickwand-6.q16-6 libseccomp2 supervisor chromium chromium-headless-shell fonts-dejavu-core \
      ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --create-home --home-dir /var/lib/drudge drudge \
 && mkdir -p /var/lib/drudge/var/uploads /var/lib/drudge/var/out \
 && chown -R drudge:drudge /var/lib/drudge
COPY --from=build /out/usr/local /usr/local
COPY conf/drudge.yaml conf/policy.xml /etc/drudge/
COPY docker/supervisord.conf /etc/drudge/supervisord.conf
ENV DRUDGE_CONFIG=/etc/drudge/drudge.yaml \
    DRUDGE_REDIS_URL=redis://redis:6379/0
USER drudge
WORKDIR /var/lib/drudge
EXPOSE 8080
# SIGTERM to supervisord stops every worker with SIGTERM: they drain.
STOPSIGNAL SIGTERM
CMD ["supervisord", "-n", "-c", "/etc/drudge/supervisord.conf"]
