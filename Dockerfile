# The control plane's image: the same setup script as everywhere else builds the toolchain
# (Node 24, the Pulumi CLI, language host and command provider from the Go module proxy),
# installs the npm packages, the provider plugins where the network allows, and the portal.
# One image runs either part: set MINDROOM_SERVE_ONLY=webhooks or =portal per Dokku app
# (Procfile: ./platform serve; app.json: migrations before deploy, health checks).
FROM golang:1.24-bookworm
RUN apt-get update -qq \
  && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
     ca-certificates curl git npm openssh-client openssh-server util-linux \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . .
# `serve --help` runs setup and builds the portal, then only prints its usage.
RUN ./platform setup \
  && (./platform setup --providers || echo "provider plugins not downloaded: production operations will name the install command") \
  && ./platform serve --help >/dev/null
ENV MINDROOM_ENVIRONMENT=production
CMD ["./platform", "serve"]
