# syntax=docker/dockerfile:1
#
# The pg_tide relay image.
#
#   docker build -t ghcr.io/your-org/pg-tide:0.1.0 .
#   docker run --rm -p 9610:9610 \
#       -e PG_TIDE_RELAY_POSTGRES_URL='postgresql://app:secret@db.example:5432/app?sslmode=require' \
#       -v "$PWD/routes:/opt/pg-tide/routes:ro" ghcr.io/your-org/pg-tide:0.1.0
#
# Contract of the container (README.md, "Configuration"):
#   PG_TIDE_RELAY_POSTGRES_URL   required. The database, as a postgresql://user:password@host:port/db?sslmode=...
#                                URI (the form CloudNativePG's <cluster>-app secret holds) or a jdbc:postgresql: URL.
#                                PG_TIDE_POSTGRES_URL is accepted too. PG_TIDE_RELAY_POSTGRES_URL_FILE names a file
#                                holding the URL instead (a mounted secret). A missing or bad URL stops the relay
#                                with exit code 2 and one line naming the setting; the password is never printed.
#   The other PG_TIDE_* settings (group, instance name, intervals, pool size, metrics port), JAVA_OPTS and any
#   CAMEL_* variable work as outside a container: README.md, "Configuration".
#
# Mount points (no VOLUME instruction, so nothing is created behind your back; mount what you need):
#   /opt/pg-tide/routes   the pipeline files (*.yaml); edits are applied while the relay runs. The image ships
#                         routes/orders-to-kafka.yaml. Under Kubernetes, mount a ConfigMap here
#                         (examples/cnpg/routes-configmap.yaml).
#   /opt/pg-tide/lib      extra Camel component jars, put on the classpath at start (no rebuild).
#
# Port 9610 (PG_TIDE_METRICS_PORT) serves /metrics (Prometheus), /observe/health/live and /observe/health/ready.
# No HEALTHCHECK: orchestrators probe those two paths (examples/cnpg/cluster.yaml).
#
# SIGTERM stops the relay gracefully: in-flight batches finish and advance their offsets, then the pipeline locks
# are released. The launcher execs java, so the JVM is PID 1 and receives the signal itself.

ARG MAVEN_IMAGE=maven:3.9-eclipse-temurin-17
ARG JRE_IMAGE=eclipse-temurin:17-jre

# ---- build: the same `package` as on a workstation; it assembles target/pg-tide/{bin,app,demo-lib,lib,routes,sql,examples/demo}
FROM ${MAVEN_IMAGE} AS build
WORKDIR /src
COPY pom.xml ./
COPY src ./src
COPY sql ./sql
COPY routes ./routes
COPY lib ./lib
COPY examples/demo ./examples/demo
# demo-lib/ holds the demo's embedded PostgreSQL (15 MB): not in the image, where `pg-tide demo` needs
# PG_TIDE_RELAY_POSTGRES_URL
RUN --mount=type=cache,target=/root/.m2 mvn -B -ntp package -DskipTests \
 && rm -r target/pg-tide/demo-lib

# ---- runtime: a JRE and the assembled relay, owned by root and run by an unprivileged user
FROM ${JRE_IMAGE}
RUN groupadd --system --gid 10001 pgtide \
 && useradd --system --uid 10001 --gid pgtide --home-dir /opt/pg-tide --no-create-home \
        --shell /usr/sbin/nologin pgtide
COPY --from=build /src/target/pg-tide /opt/pg-tide
WORKDIR /opt/pg-tide
USER 10001:10001
# Camel's CLI is not in the image and the home is read-only: no ~/.camel status files
ENV PG_TIDE_CAMEL_CLI=false
EXPOSE 9610
ENTRYPOINT ["/opt/pg-tide/bin/pg-tide"]
CMD ["run"]
