# Userdesk: one static binary (templates and static assets are compiled in) on a distroless base
# with no shell, running as a non-root user. Build: docker build -t userdesk .
# Configuration comes from the environment at `docker run` time; nothing secret is baked in here.
# See docs/deploy.md.

FROM golang:1.26 AS build
WORKDIR /src
# Modules first, so that a source change does not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# The *_templ.go files are generated and committed, so no templ step is needed here.
RUN CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o /out/userdesk ./cmd/web \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/userdesk /userdesk
# The data directory (SQLite database, generated session key, embedded tenant) belongs to nonroot.
COPY --from=build --chown=nonroot:nonroot /out/data /data
ENV USERDESK_ADDR=0.0.0.0:8080 \
    USERDESK_DATA_DIR=/data \
    USERDESK_LOG_FORMAT=json
USER nonroot:nonroot
EXPOSE 8080
VOLUME /data
# distroless has no curl: the binary probes its own /healthz.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 CMD ["/userdesk", "healthcheck"]
ENTRYPOINT ["/userdesk"]
