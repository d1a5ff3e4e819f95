# A Node 20 bookworm base for images/cpu.Dockerfile where no registry can be pulled from
# (images/build-cpu.sh): Debian bookworm minbase made with mmdebstrap, plus this machine's node
# binary and npm (Debian bookworm's own nodejs is 18). Stands in for node:20-bookworm-slim.
FROM scratch
ADD rootfs.tar /
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && node --version && npm --version
CMD ["node"]
